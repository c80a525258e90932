/**
 * BM25, the reference row of the evaluation table: the SDK's own lexical index
 * (src/lexical/lexical-index.ts, Lucene's BM25 with k1 0.9, b 0.4), built over a whole corpus
 * and read in trec_eval's order (score descending, ties by document id descending).
 *
 * {@link BM25_PROFILES}: `plain` (default of the CLI: lower-cased alphanumeric tokens, each
 * distinct query term once; reproduces the numbers quoted in ../shared/data/README.md,
 * SciFact 0.662 and Cranfield 0.322) and `anserini` (Lucene's English stop set and Porter
 * stemming, query terms counted as often as they appear: Anserini's default).
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import { type Doc, docText } from '../doc.js';
import { analyzerFor } from '../lexical/analyzer.js';
import { LexicalIndex, type LexicalOptions } from '../lexical/lexical-index.js';
import { compareTrec, type Ranking } from './metrics.js';
import { selectTopK } from './top-k.js';

export const BM25_PROFILES = {
  anserini: { analyzer: 'english', uniqueQueryTerms: false },
  plain: { analyzer: 'plain', uniqueQueryTerms: true },
} as const satisfies Record<string, Partial<LexicalOptions>>;
export type Bm25Profile = keyof typeof BM25_PROFILES;

/** The `anserini` profile's analyzer: text -> index terms, in order. */
export const analyze = analyzerFor('english');

export class Bm25Index {
  private constructor(private readonly index: LexicalIndex) {}

  get numDocs(): number {
    return this.index.documents;
  }

  /** Index documents (`title + " " + text`). Ids must be unique. */
  static build(
    docs: Iterable<Pick<Doc, 'id' | 'title' | 'text'>>,
    options: Partial<LexicalOptions> = BM25_PROFILES.anserini,
  ): Bm25Index {
    const index = new LexicalIndex(options);
    const seen = new Set<string>();
    const rows: { row: number; id: string; vector: ReturnType<LexicalIndex['termVector']> }[] = [];
    for (const doc of docs) {
      if (seen.has(doc.id))
        throw new RouterRetrieverError('INVALID_INPUT', `BM25: duplicate document id "${doc.id}"`, { id: doc.id });
      seen.add(doc.id);
      rows.push({ row: rows.length, id: doc.id, vector: index.termVector(docText(doc)) });
    }
    index.load(rows);
    return new Bm25Index(index);
  }

  /**
   * The top k documents for a query, best first, ties broken as trec_eval does
   * (document id descending). Documents that match no query term are not returned.
   */
  search(query: string, k = 1000): Ranking {
    const { rows, scores } = this.index.score(query);
    const id = (i: number) => this.index.idAt(rows[i])!;
    const order = selectTopK(Array.from(rows.keys()), Math.max(0, k), (a, b) =>
      compareTrec(scores[a], id(a), scores[b], id(b)),
    );
    return { ids: order.map(id), scores: Float64Array.from(order, (i) => scores[i]) };
  }
}
