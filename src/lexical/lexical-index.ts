/**
 * The in-memory BM25 index of a collection, rows aligned with the vector index (row = store
 * slot), incremental: documents are added, replaced and deleted one row at a time.
 *
 * Layout: a base segment of postings in typed arrays, compressed by term (CSR: `offsets` per
 * term into `postRows` / `postTfs`), plus a delta of the documents written since the base was
 * built, kept as their term vectors. A row's base postings count only while the row is marked
 * BASE, so a delete or a replacement needs no change to the base arrays; `compact()` merges the
 * live base postings and the delta into a new base (amortised: when the delta outgrows an eighth
 * of the base). Document frequencies are counted over live postings at query time, so they are
 * exact after deletes without the deleted documents' terms.
 */
import type { Hit } from '../search/types.js';
import { type AnalyzerName, analyzerFor } from './analyzer.js';
import { BM25_DEFAULTS, type Bm25Params, bm25Idf, bm25LengthNorm, bm25TfPart } from './bm25.js';
import { Lexicon } from './lexicon.js';
import { type TermVector, termVectorOf, tfIn } from './term-vector.js';
import { TopK } from '../search/heap.js';

export interface LexicalOptions extends Bm25Params {
  analyzer: AnalyzerName;
  /** Count a repeated query term once (true) or as often as it appears (false, Anserini). */
  uniqueQueryTerms: boolean;
}

export const LEXICAL_DEFAULTS: LexicalOptions = { ...BM25_DEFAULTS, analyzer: 'english', uniqueQueryTerms: false };

const EMPTY = 0;
const BASE = 1;
const DELTA = 2;
/** Smallest delta that triggers a compaction (below it the delta scan costs < 1 ms). */
const MIN_DELTA_TO_COMPACT = 2048;

/** Every matching row's score for one query, for fusion and the eval (unordered). */
export interface LexicalScores {
  rows: Int32Array;
  scores: Float64Array;
}

export class LexicalIndex {
  readonly options: LexicalOptions;
  readonly lexicon: Lexicon;
  private readonly analyze: (text: string) => string[];
  private ids: (string | null)[] = [];
  private state = new Uint8Array(0);
  private lengths = new Uint32Array(0);
  private offsets = new Uint32Array(1);
  private postRows = new Uint32Array(0);
  private postTfs = new Uint16Array(0);
  private baseDocs = 0;
  private readonly delta = new Map<number, TermVector>();
  private live = 0;
  private totalLength = 0;
  private acc = new Float64Array(0);

  constructor(options: Partial<LexicalOptions> = {}, lexicon = new Lexicon()) {
    this.options = { ...LEXICAL_DEFAULTS, ...options };
    this.lexicon = lexicon;
    this.analyze = analyzerFor(this.options.analyzer);
  }

  /** Live documents. */
  get documents(): number {
    return this.live;
  }

  /** Rows, free ones included. */
  get rows(): number {
    return this.ids.length;
  }

  /** The term vector of a document's text; new terms join the lexicon (index time only). */
  termVector(text: string): TermVector {
    return termVectorOf(this.analyze(text), this.lexicon);
  }

  /** Sets (or with `id` null clears) a row. */
  setRow(row: number, id: string | null, vector?: TermVector): void {
    if (id === null || !vector) {
      this.grow(row + 1);
      this.clearRow(row);
      return;
    }
    this.toDelta(row, id, vector);
    if (this.delta.size >= Math.max(MIN_DELTA_TO_COMPACT, this.baseDocs / 8)) this.compact();
  }

  /** Builds the base from many rows at once (a collection opened from storage). */
  load(rows: Iterable<{ row: number; id: string; vector: TermVector }>): void {
    for (const r of rows) this.toDelta(r.row, r.id, r.vector);
    this.compact();
  }

  /** Puts a document at a row (replacing what was there) as part of the delta. */
  private toDelta(row: number, id: string, vector: TermVector): void {
    this.grow(row + 1);
    this.clearRow(row);
    this.ids[row] = id;
    this.state[row] = DELTA;
    this.lengths[row] = vector.length;
    this.delta.set(row, vector);
    this.live++;
    this.totalLength += vector.length;
  }

  private clearRow(row: number): void {
    const s = this.state[row];
    if (s === EMPTY) return;
    if (s === DELTA) this.delta.delete(row);
    else this.baseDocs--;
    this.state[row] = EMPTY;
    this.ids[row] = null;
    this.live--;
    this.totalLength -= this.lengths[row];
    this.lengths[row] = 0;
  }

  private grow(rows: number): void {
    if (rows <= this.ids.length) return;
    while (this.ids.length < rows) this.ids.push(null);
    if (rows > this.state.length) {
      const cap = Math.max(rows, this.state.length * 2, 64);
      const s = new Uint8Array(cap);
      s.set(this.state);
      this.state = s;
      const l = new Uint32Array(cap);
      l.set(this.lengths);
      this.lengths = l;
    }
  }

  /** Merges the live base postings and the delta into a new base. */
  compact(): void {
    const baseT = this.offsets.length - 1;
    // The lexicon may have shrunk below baseT (a failed write's new terms dropped): those terms have no postings.
    const T = Math.max(this.lexicon.size, baseT);
    const counts = new Uint32Array(T + 1);
    for (let t = 0; t < baseT; t++) {
      for (let p = this.offsets[t]; p < this.offsets[t + 1]; p++)
        if (this.state[this.postRows[p]] === BASE) counts[t + 1]++;
    }
    for (const v of this.delta.values()) for (const t of v.terms) counts[t + 1]++;
    for (let t = 0; t < T; t++) counts[t + 1] += counts[t];
    const offsets = counts;
    const fill = offsets.slice(0, T);
    const postRows = new Uint32Array(offsets[T]);
    const postTfs = new Uint16Array(offsets[T]);
    // Per term: surviving base rows first, then delta rows in ascending order, so every posting
    // list stays sorted by row if the base was.
    for (let t = 0; t < baseT; t++) {
      for (let p = this.offsets[t]; p < this.offsets[t + 1]; p++) {
        const row = this.postRows[p];
        if (this.state[row] !== BASE) continue;
        const at = fill[t]++;
        postRows[at] = row;
        postTfs[at] = this.postTfs[p];
      }
    }
    const deltaRows = [...this.delta.keys()].sort((a, b) => a - b);
    for (const row of deltaRows) {
      const v = this.delta.get(row)!;
      for (let i = 0; i < v.terms.length; i++) {
        const at = fill[v.terms[i]]++;
        postRows[at] = row;
        postTfs[at] = v.tfs[i];
      }
      this.state[row] = BASE;
    }
    this.offsets = offsets;
    this.postRows = postRows;
    this.postTfs = postTfs;
    this.baseDocs += this.delta.size;
    this.delta.clear();
  }

  /** Query terms as (term id, weight) pairs; terms the collection never saw are dropped. */
  private queryTerms(query: string): Map<number, number> {
    const q = new Map<number, number>();
    for (const tok of this.analyze(query)) {
      const t = this.lexicon.lookup(tok);
      if (t !== undefined) q.set(t, this.options.uniqueQueryTerms ? 1 : (q.get(t) ?? 0) + 1);
    }
    return q;
  }

  /**
   * BM25 score of every row that matches a query term (with `mask`: of its rows only). The
   * collection statistics (df, average length) stay those of the whole collection, so a row
   * scores the same with or without a filter.
   */
  score(query: string, mask?: Uint8Array): LexicalScores {
    const q = [...this.queryTerms(query)];
    if (q.length === 0 || this.live === 0) return { rows: new Int32Array(0), scores: new Float64Array(0) };
    const baseT = this.offsets.length - 1;
    const df = new Float64Array(q.length);
    q.forEach(([t], i) => {
      if (t >= baseT) return;
      for (let p = this.offsets[t]; p < this.offsets[t + 1]; p++) if (this.state[this.postRows[p]] === BASE) df[i]++;
    });
    const deltaHits: number[] = []; // (row, query term index, tf) triples
    for (const [row, v] of this.delta) {
      for (let i = 0; i < q.length; i++) {
        const tf = tfIn(v, q[i][0]);
        if (tf > 0) {
          df[i]++;
          deltaHits.push(row, i, tf);
        }
      }
    }
    const avgdl = this.totalLength / this.live;
    const w = q.map(([, qtf], i) => qtf * bm25Idf(this.live, df[i]));
    if (this.acc.length < this.ids.length) this.acc = new Float64Array(this.state.length);
    const acc = this.acc;
    const touched: number[] = [];
    const add = (row: number, i: number, tf: number) => {
      if (mask !== undefined && mask[row] !== 1) return;
      if (acc[row] === 0) touched.push(row);
      acc[row] += w[i] * bm25TfPart(tf, bm25LengthNorm(this.lengths[row], avgdl, this.options));
    };
    q.forEach(([t], i) => {
      if (t >= baseT) return;
      for (let p = this.offsets[t]; p < this.offsets[t + 1]; p++) {
        const row = this.postRows[p];
        if (this.state[row] === BASE) add(row, i, this.postTfs[p]);
      }
    });
    for (let h = 0; h < deltaHits.length; h += 3) add(deltaHits[h], deltaHits[h + 1], deltaHits[h + 2]);
    const rows = Int32Array.from(touched);
    const scores = Float64Array.from(touched, (r) => acc[r]);
    for (const r of touched) acc[r] = 0;
    return { rows, scores };
  }

  /**
   * Approximate bytes held: the typed arrays (postings, offsets, per-row state and length, the
   * score accumulator), the delta's term vectors, and 8 bytes per row of the id table (the id
   * strings themselves are shared with the vector index and not counted).
   */
  memoryBytes(): number {
    let delta = 0;
    for (const v of this.delta.values()) delta += v.terms.byteLength + v.tfs.byteLength + 16;
    const arrays = [this.state, this.lengths, this.offsets, this.postRows, this.postTfs, this.acc];
    return arrays.reduce((s, a) => s + a.byteLength, 0) + delta + this.ids.length * 8;
  }

  /** The id stored at a row (null when free). */
  idAt(row: number): string | null {
    return this.ids[row] ?? null;
  }

  /** Top k documents for a query (among the rows of `mask`): score descending, ties by id ascending (the SDK's order). */
  search(query: string, k: number, mask?: Uint8Array): Hit[] {
    const { rows, scores } = this.score(query, mask);
    const top = new TopK(k);
    for (let i = 0; i < rows.length; i++) top.push(scores[i], this.ids[rows[i]]!);
    return top.sorted();
  }
}
