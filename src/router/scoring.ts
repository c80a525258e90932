import { ndcgAtK, trecOrder } from '../eval/metrics.js';
import { searchChunksSync } from '../search/topk.js';
import type { VectorChunk } from '../search/types.js';

/**
 * Per-query nDCG@10 of one expert on one domain, the score the pilot library
 * groups by: each query embedding (encoded by the EXPERT) searches the domain's
 * base-encoder document chunks; the top `depth` hits (default 100) are put in
 * trec_eval order and scored with nDCG@10 from src/eval/metrics.ts (trec_eval
 * semantics). Queries without relevant documents score 0.
 */
export function scoreQueries(
  expertQueryEmbeddings: readonly Float32Array[],
  docChunks: readonly VectorChunk[],
  qrels: readonly ReadonlyMap<string, number>[],
  options: { depth?: number } = {},
): Float64Array {
  const out = new Float64Array(expertQueryEmbeddings.length);
  const depth = options.depth ?? 100;
  expertQueryEmbeddings.forEach((q, i) => {
    const hits = searchChunksSync(q, docChunks, depth);
    const ranking = { ids: hits.map((h) => h.id), scores: hits.map((h) => h.score) };
    const order = trecOrder(ranking);
    out[i] = ndcgAtK(order.map((j) => ranking.ids[j]), qrels[i] ?? new Map(), 10);
  });
  return out;
}
