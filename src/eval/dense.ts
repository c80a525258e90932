/**
 * Integration points for the dense rows (base, expert:<name>, routers), pure.
 *
 * INTEGRATION POINT (encoder): a {@link DenseBackend} is what the eval CLI needs
 * from the SDK's encoder (workers/engine EncoderEngine in Node). It is built by
 * tools/eval/cli.ts `createBackend` - the one place to wire the real encoder.
 * INTEGRATION POINT (search): {@link exactTopK} is a plain dot-product scan; swap it
 * for src/search's kernel once that is the SDK's code path.
 * INTEGRATION POINT (router): {@link RouterBuilder} is implemented by src/router
 * (pilot library, mean/max, DatasetRouter).
 */
import { RouterRetrieverError } from '../errors.js';
import { compareTrec, type Ranking } from './metrics.js';
import { selectTopK } from './bm25.js';

export interface DenseBackend {
  /** Identity of the BASE model (weights + config + pooling); keys the embedding cache. */
  readonly fingerprint: string;
  readonly dim: number;
  /** Base-encoder embeddings of documents, row-major [texts.length, dim]. */
  embedDocuments(texts: readonly string[]): Promise<Float32Array>;
  /** One query embedding; expert null = the base encoder. */
  embedQuery(text: string, expert: string | null): Promise<Float32Array>;
}

/** One routing decision for one query. */
export interface RouteDecision {
  expert: string;
  /** Optional per-expert routing scores (similarities), for the decisions file. */
  scores?: Record<string, number>;
}

export interface DenseRouter {
  /** Route a query given its BASE-encoder embedding. */
  route(baseQueryEmbedding: Float32Array): RouteDecision;
}

/** Training (pilot-split) queries of one domain, with what a pilot library needs. */
export interface PilotDomain {
  domain: string;
  queryIds: string[];
  /** Base-encoder query embeddings, row-major [queryIds.length, dim]. */
  baseEmbeddings: Float32Array;
  /** expert -> per-query nDCG@10 (same order as queryIds), retrieving from this domain's corpus. */
  expertNdcg: Map<string, Float64Array>;
}

export type RouterKind = 'dataset-router' | 'router-mean' | 'router-max';

export interface RouterBuilder {
  build(kind: RouterKind, domains: readonly PilotDomain[], experts: readonly string[], dim: number): DenseRouter;
}

/** Top-k documents by dot product, ties broken as trec_eval does. */
export function exactTopK(docs: Float32Array, dim: number, ids: readonly string[], query: Float32Array, k: number): Ranking {
  if (query.length !== dim || docs.length !== ids.length * dim) {
    throw new RouterRetrieverError('INVALID_INPUT', `exactTopK: shapes do not match (dim ${dim}, query ${query.length}, docs ${docs.length} for ${ids.length} ids)`);
  }
  const n = ids.length;
  const scores = new Float32Array(n);
  for (let d = 0; d < n; d++) {
    let s = 0;
    const o = d * dim;
    for (let j = 0; j < dim; j++) s += docs[o + j] * query[j];
    scores[d] = s;
  }
  const all = Array.from({ length: n }, (_, i) => i);
  const top = selectTopK(all, k, (a, b) => compareTrec(scores[a], ids[a], scores[b], ids[b]));
  return { ids: top.map((i) => ids[i]), scores: Float64Array.from(top, (i) => scores[i]) };
}
