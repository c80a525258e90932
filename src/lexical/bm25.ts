/**
 * BM25 as Lucene's BM25Similarity computes it (and Anserini with it), pure:
 *
 *   score(q, d) = sum over query terms t of  qtf(t) * idf(t) * tf / (tf + k1 * (1 - b + b * dl / avgdl))
 *   idf(t)      = ln(1 + (N - df + 0.5) / (df + 0.5))
 *
 * N is the number of documents, df those containing t, dl the document's analyzed length and
 * avgdl the mean of dl. Lucene's constant (k1 + 1) factor is left out, as Lucene 8+ does; it
 * changes no ranking. Lengths are exact (Lucene stores a lossy byte).
 */
export interface Bm25Params {
  k1: number;
  b: number;
}

/** Anserini's defaults. */
export const BM25_DEFAULTS: Bm25Params = { k1: 0.9, b: 0.4 };

export function bm25Idf(numDocs: number, df: number): number {
  return Math.log(1 + (numDocs - df + 0.5) / (df + 0.5));
}

/** The length normaliser k1 * (1 - b + b * dl / avgdl) of a document. */
export function bm25LengthNorm(dl: number, avgdl: number, p: Bm25Params): number {
  return p.k1 * (1 - p.b + (avgdl > 0 ? (p.b * dl) / avgdl : 0));
}

/** One term's contribution before idf and qtf: tf / (tf + norm). */
export function bm25TfPart(tf: number, norm: number): number {
  return tf / (tf + norm);
}
