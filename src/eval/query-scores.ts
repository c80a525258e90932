/**
 * The one per-query score that the pilot library groups by, for the SDK
 * (RouterRetriever.buildPilotLibrary / addExpert) and the evaluation harness alike, so both
 * build the same library from the same data: each query embedding (encoded by the EXPERT)
 * searches the domain's base-encoder documents (DenseCorpus: src/search's SearchIndex), the
 * top `depth` hits (default 100) are scored with nDCG@10 by ./metrics.ts (trec_eval order and
 * semantics). Queries without relevant documents score 0. With query ids, a document whose
 * id equals the query's is dropped first (BEIR's ignore_identical_ids; one more is fetched).
 */
import type { DenseCorpus } from './dense.js';
import { evaluateQuery } from './metrics.js';

export interface QueryScoreOptions {
  /** Ranking depth (default 100). */
  depth?: number;
  /** Ids of the queries (BEIR); the SDK's training queries have none. */
  queryIds?: readonly string[];
  /** With queryIds: drop a retrieved document whose id equals the query id (default true). */
  ignoreIdenticalIds?: boolean;
}

export function scoreQueries(
  corpus: DenseCorpus,
  expertQueryEmbeddings: readonly Float32Array[],
  qrels: readonly ReadonlyMap<string, number>[],
  options: QueryScoreOptions = {},
): Float64Array {
  const ids = options.queryIds;
  const drop = ids !== undefined && (options.ignoreIdenticalIds ?? true);
  const k = (options.depth ?? 100) + (drop ? 1 : 0);
  const out = new Float64Array(expertQueryEmbeddings.length);
  expertQueryEmbeddings.forEach((q, i) => {
    const m = evaluateQuery(ids?.[i] ?? '', corpus.search(q, k), qrels[i] ?? new Map(), {
      ignoreIdenticalIds: drop,
      noRelevant: 'zero',
    });
    out[i] = m?.ndcg_at_10 ?? 0;
  });
  return out;
}
