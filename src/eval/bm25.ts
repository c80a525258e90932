/**
 * A small, standard BM25 (the reference row of the evaluation table).
 *
 * Scoring is Lucene's BM25Similarity as Anserini uses it (defaults k1 = 0.9,
 * b = 0.4):
 *
 *   score(q, d) = sum over query terms t of  qtf(t) * idf(t) * tf / (tf + k1 * (1 - b + b * dl / avgdl))
 *   idf(t)      = ln(1 + (N - df + 0.5) / (df + 0.5))
 *
 * where dl counts the document's indexed tokens (stopwords removed) and a query
 * term repeated n times counts n times (Anserini's bag-of-words query). Lucene's
 * constant (k1 + 1) factor is left out as Lucene 8+ does; it does not change
 * rankings. Document lengths are exact (Lucene stores them in a lossy byte; an
 * option reproduces that, see {@link Bm25Options.luceneLengthNorm}).
 *
 * Default analyzer ({@link analyze}): lower-case, drop the English possessive
 * "'s", split on anything that is not a Unicode letter or digit, remove Lucene's
 * default English stop set, Porter-stem. Documents are `title + " " + text`.
 * {@link BM25_PROFILES} names this configuration `anserini` and a simpler `plain` one.
 */
import type { Doc } from '../doc.js';
import { RouterRetrieverError } from '../boundary/errors.js';
import { compareTrec, type Ranking } from './metrics.js';
import { porterStem } from '../lexical/porter.js';

/** Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET (33 words), Anserini's default. */
export const ENGLISH_STOP_WORDS: ReadonlySet<string> = new Set([
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'for', 'if', 'in', 'into', 'is', 'it', 'no', 'not',
  'of', 'on', 'or', 'such', 'that', 'the', 'their', 'then', 'there', 'these', 'they', 'this', 'to', 'was',
  'will', 'with',
]);

const SPLIT = /[^\p{L}\p{N}]+/u;
const POSSESSIVE = /['\u2019]s(?![\p{L}\p{N}])/gu;

/** Memo of stems; bounded so that a long-running page does not grow without limit. */
const stemCache = new Map<string, string>();
function stemCached(w: string): string {
  let s = stemCache.get(w);
  if (s === undefined) {
    s = porterStem(w);
    if (stemCache.size > 500_000) stemCache.clear();
    stemCache.set(w, s);
  }
  return s;
}

export type Analyzer = (text: string) => string[];

export interface AnalyzerOptions {
  /** Remove {@link ENGLISH_STOP_WORDS}. Default true. */
  stopwords?: boolean;
  /** Porter-stem. Default true. */
  stem?: boolean;
}

/** Build an analyzer; the defaults give {@link analyze}. */
export function makeAnalyzer(options: AnalyzerOptions = {}): Analyzer {
  const stop = options.stopwords ?? true;
  const stem = options.stem ?? true;
  return (text) => {
    const out: string[] = [];
    for (const tok of text.toLowerCase().replace(POSSESSIVE, '').split(SPLIT)) {
      if (tok.length === 0 || (stop && ENGLISH_STOP_WORDS.has(tok))) continue;
      out.push(stem ? stemCached(tok) : tok);
    }
    return out;
  };
}

/** The default analyzer: text -> index terms, in order. */
export const analyze: Analyzer = makeAnalyzer();

export interface Bm25Options {
  k1?: number;
  b?: number;
  /**
   * Use Lucene's one-byte document length encoding (SmallFloat.intToByte4:
   * exact below 24, then 4 significant bits) instead of exact lengths. Default false.
   */
  luceneLengthNorm?: boolean;
  /** Analyzer for documents and queries. Default {@link analyze}. */
  analyzer?: Analyzer;
  /** Count a repeated query term once (default false: n times, as Anserini). */
  uniqueQueryTerms?: boolean;
}

/**
 * Named configurations, k1 0.9 / b 0.4 in both:
 * - `anserini` (default): stopwords + Porter, query term frequency counts -
 *   Anserini's default English analyzer and bag-of-words query.
 * - `plain`: lower-case alphanumeric tokens only (no stopwords, no stemming),
 *   each distinct query term once - the simple BM25 whose numbers are quoted
 *   in ../shared/data/README.md (SciFact 0.662, Cranfield 0.322).
 */
export const BM25_PROFILES = {
  anserini: {} as Bm25Options,
  plain: { analyzer: makeAnalyzer({ stopwords: false, stem: false }), uniqueQueryTerms: true } as Bm25Options,
} as const;
export type Bm25Profile = keyof typeof BM25_PROFILES;

/** What BM25 reads of a document (the SDK's Doc). */
export type Bm25Doc = Pick<Doc, 'id' | 'title' | 'text'>;

/**
 * Lossy length of Lucene's norms: values below 24 are exact, larger ones keep
 * their 4 most significant bits (the rest truncated). Written from the
 * description of Lucene's encoding; see {@link Bm25Options.luceneLengthNorm}.
 */
export function luceneQuantizedLength(len: number): number {
  if (len < 24) return len;
  const v = len - 24;
  const bits = 32 - Math.clz32(v);
  if (bits <= 4) return len;
  const shift = bits - 4;
  return ((v >>> shift) << shift) + 24;
}

/** Inverted index in typed arrays (CSR by term). */
export class Bm25Index {
  readonly k1: number;
  readonly b: number;
  readonly ids: readonly string[];
  private readonly analyzer: Analyzer;
  private readonly uniqueQueryTerms: boolean;
  private readonly vocab: Map<string, number>;
  private readonly offsets: Uint32Array; // term -> start in postings (length T + 1)
  private readonly postDocs: Uint32Array;
  private readonly postTfs: Uint32Array;
  private readonly docNorm: Float32Array; // k1 * (1 - b + b * dl / avgdl)
  private readonly scores: Float64Array;
  readonly avgdl: number;

  private constructor(
    ids: string[],
    vocab: Map<string, number>,
    offsets: Uint32Array,
    postDocs: Uint32Array,
    postTfs: Uint32Array,
    docLen: Uint32Array,
    options: Bm25Options,
  ) {
    this.k1 = options.k1 ?? 0.9;
    this.b = options.b ?? 0.4;
    this.ids = ids;
    this.analyzer = options.analyzer ?? analyze;
    this.uniqueQueryTerms = options.uniqueQueryTerms ?? false;
    this.vocab = vocab;
    this.offsets = offsets;
    this.postDocs = postDocs;
    this.postTfs = postTfs;
    const n = ids.length;
    let total = 0;
    for (let d = 0; d < n; d++) total += docLen[d];
    this.avgdl = n > 0 ? total / n : 0;
    this.docNorm = new Float32Array(n);
    for (let d = 0; d < n; d++) {
      const dl = options.luceneLengthNorm ? luceneQuantizedLength(docLen[d]) : docLen[d];
      this.docNorm[d] = this.k1 * (1 - this.b + (this.avgdl > 0 ? (this.b * dl) / this.avgdl : 0));
    }
    this.scores = new Float64Array(n);
  }

  get numDocs(): number {
    return this.ids.length;
  }

  get numTerms(): number {
    return this.vocab.size;
  }

  /** Document frequency of an analyzed term (0 if unknown). */
  df(term: string): number {
    const t = this.vocab.get(term);
    return t === undefined ? 0 : this.offsets[t + 1] - this.offsets[t];
  }

  idf(term: string): number {
    const df = this.df(term);
    return Math.log(1 + (this.numDocs - df + 0.5) / (df + 0.5));
  }

  /** Index documents (`title + " " + text`). Ids must be unique. */
  static build(docs: Iterable<Bm25Doc>, options: Bm25Options = {}): Bm25Index {
    const analyzer = options.analyzer ?? analyze;
    const vocab = new Map<string, number>();
    const ids: string[] = [];
    const seen = new Set<string>();
    let docTerms = new Uint32Array(1 << 16); // per (doc, term): term id
    let docTfs = new Uint32Array(1 << 16);
    let nPairs = 0;
    const docStart: number[] = [0];
    const lens: number[] = [];
    let df = new Uint32Array(1024);
    const local = new Map<number, number>();
    for (const doc of docs) {
      if (seen.has(doc.id)) throw new RouterRetrieverError('INVALID_INPUT', `BM25: duplicate document id "${doc.id}"`, { id: doc.id });
      seen.add(doc.id);
      ids.push(doc.id);
      const terms = analyzer(doc.title ? `${doc.title} ${doc.text}` : doc.text);
      lens.push(terms.length);
      local.clear();
      for (const term of terms) {
        let t = vocab.get(term);
        if (t === undefined) {
          t = vocab.size;
          vocab.set(term, t);
        }
        local.set(t, (local.get(t) ?? 0) + 1);
      }
      if (nPairs + local.size > docTerms.length) {
        const cap = Math.max(docTerms.length * 2, nPairs + local.size);
        const a = new Uint32Array(cap);
        a.set(docTerms);
        docTerms = a;
        const f = new Uint32Array(cap);
        f.set(docTfs);
        docTfs = f;
      }
      if (vocab.size > df.length) {
        const a = new Uint32Array(Math.max(df.length * 2, vocab.size));
        a.set(df);
        df = a;
      }
      for (const [t, tf] of local) {
        docTerms[nPairs] = t;
        docTfs[nPairs] = tf;
        nPairs++;
        df[t]++;
      }
      docStart.push(nPairs);
    }
    const T = vocab.size;
    const offsets = new Uint32Array(T + 1);
    for (let t = 0; t < T; t++) offsets[t + 1] = offsets[t] + df[t];
    const fill = offsets.slice(0, T);
    const postDocs = new Uint32Array(nPairs);
    const postTfs = new Uint32Array(nPairs);
    // Documents are visited in order, so each posting list comes out sorted by doc.
    for (let d = 0; d < ids.length; d++) {
      for (let p = docStart[d]; p < docStart[d + 1]; p++) {
        const at = fill[docTerms[p]]++;
        postDocs[at] = d;
        postTfs[at] = docTfs[p];
      }
    }
    return new Bm25Index(ids, vocab, offsets, postDocs, postTfs, Uint32Array.from(lens), options);
  }

  /**
   * The top k documents for a query, best first, ties broken as trec_eval does
   * (document id descending). Documents that match no query term are not returned.
   */
  search(query: string, k = 1000): Ranking {
    const qtf = new Map<number, number>();
    for (const term of this.analyzer(query)) {
      const t = this.vocab.get(term);
      if (t !== undefined) qtf.set(t, this.uniqueQueryTerms ? 1 : (qtf.get(t) ?? 0) + 1);
    }
    const scores = this.scores;
    const touched: number[] = [];
    const N = this.numDocs;
    for (const [t, count] of qtf) {
      const start = this.offsets[t];
      const end = this.offsets[t + 1];
      const df = end - start;
      const w = count * Math.log(1 + (N - df + 0.5) / (df + 0.5));
      for (let p = start; p < end; p++) {
        const d = this.postDocs[p];
        const tf = this.postTfs[p];
        if (scores[d] === 0) touched.push(d);
        scores[d] += (w * tf) / (tf + this.docNorm[d]);
      }
    }
    const ids = this.ids;
    const cmp = (a: number, b: number): number => compareTrec(scores[a], ids[a], scores[b], ids[b]);
    const top = selectTopK(touched, Math.max(0, k), cmp);
    const result: Ranking = { ids: top.map((d) => ids[d]), scores: Float64Array.from(top, (d) => scores[d]) };
    for (const d of touched) scores[d] = 0;
    return result;
  }
}

/** The k smallest items under cmp, sorted; a bounded binary heap (worst at the root). */
export function selectTopK<T>(items: readonly T[], k: number, cmp: (a: T, b: T) => number): T[] {
  if (k <= 0) return [];
  if (items.length <= k) return [...items].sort(cmp);
  const heap: T[] = [];
  const worse = (a: T, b: T): boolean => cmp(a, b) > 0;
  for (const x of items) {
    if (heap.length < k) {
      heap.push(x);
      let i = heap.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(heap[i], heap[p])) break;
        [heap[i], heap[p]] = [heap[p], heap[i]];
        i = p;
      }
    } else if (worse(heap[0], x)) {
      heap[0] = x;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let w = i;
        if (l < k && worse(heap[l], heap[w])) w = l;
        if (r < k && worse(heap[r], heap[w])) w = r;
        if (w === i) break;
        [heap[i], heap[w]] = [heap[w], heap[i]];
        i = w;
      }
    }
  }
  return heap.sort(cmp);
}
