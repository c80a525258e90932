/**
 * The dense side of the evaluation, pure (runs in Node and in the browser).
 *
 * A {@link DenseBackend} is what the evaluation needs from the SDK's encoder. It is
 * built with {@link encoderBackend} from any EncoderApi: the in-process EncoderEngine
 * (Node, tools/eval/cli.ts) or the worker's EncoderClient (browser bench page), so
 * both run the very same encoder code. Search is src/search's exact SearchIndex.
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import { SearchIndex } from '../search/search-index.js';
import type { VectorChunk } from '../search/types.js';
import type { EncoderApi, ModelInfo } from '../boundary/encoder-api.js';
import { compareTrec, type Ranking } from './metrics.js';
import { selectTopK } from './top-k.js';

export interface DenseBackend {
  /** Identity of the BASE encoder as it embeds documents (weights, config, pooling, max length); keys the embedding cache. */
  readonly fingerprint: string;
  readonly dim: number;
  /** Base-encoder embeddings of documents, row-major [texts.length, dim]. */
  embedDocuments(texts: string[]): Promise<Float32Array>;
  /** Query embeddings with one expert (null = the base encoder), row-major [texts.length, dim]. */
  embedQueries(texts: string[], expert: string | null): Promise<Float32Array>;
}

export interface EncoderBackendOptions {
  /** Texts per encoder batch (default 32). */
  batchSize?: number;
  /** Documents truncated to this many tokens (queries keep the model's maximum). */
  docMaxLength?: number;
}

/** A DenseBackend over the SDK's encoder (EncoderEngine in Node, EncoderClient in a page). */
export function encoderBackend(
  encoder: Pick<EncoderApi, 'embedDocuments' | 'embedQueries'>,
  info: ModelInfo,
  options: EncoderBackendOptions = {},
): DenseBackend {
  const batchSize = options.batchSize ?? 32;
  return {
    // Max length, pooling and a dtype other than fp32 change document vectors: part of the cache
    // identity. q8 is 'q8r': activations scaled per row (the per-batch rule's vectors were ':q8').
    fingerprint: `${info.fingerprint}:${info.pooling}:${info.normalize ? 'l2' : 'raw'}:len${Math.min(options.docMaxLength ?? info.maxLength, info.maxLength)}${dtypeTag(info.dtype)}`,
    dim: info.dim,
    embedDocuments: (texts) => encoder.embedDocuments(texts, { batchSize, maxLength: options.docMaxLength }),
    embedQueries: (texts, expert) => encoder.embedQueries(texts, expert, { batchSize }),
  };
}

/** Exact search over one corpus with src/search's SearchIndex (WASM SIMD where available). */
export class DenseCorpus {
  private readonly index: SearchIndex;
  /** Live documents (free rows of chunks not counted). */
  readonly size: number;
  constructor(ids: readonly string[], embeddings: Float32Array, dim: number);
  constructor(chunks: readonly VectorChunk[], dim: number);
  constructor(a: readonly string[] | readonly VectorChunk[], b: Float32Array | number, c?: number) {
    let chunks: readonly VectorChunk[];
    let dim: number;
    if (b instanceof Float32Array) {
      const ids = a as readonly string[];
      dim = c!;
      if (b.length !== ids.length * dim) {
        throw new RouterRetrieverError(
          'INVALID_INPUT',
          `DenseCorpus: ${b.length} values for ${ids.length} documents of dim ${dim}.`,
        );
      }
      chunks = [{ dim, vectors: b, ids }];
    } else {
      chunks = a as readonly VectorChunk[];
      dim = b;
    }
    this.index = SearchIndex.fromChunks(chunks, dim);
    this.size = this.index.size;
  }

  /** Top-k documents of one query embedding. */
  search(query: Float32Array, k: number): Ranking {
    const hits = this.index.search(query, Math.min(k, this.size));
    return { ids: hits.map((h) => h.id), scores: Float64Array.from(hits, (h) => h.score) };
  }
}

/** Top-k documents by dot product, ties broken as trec_eval does (a plain reference scan, used by tests). */
export function exactTopK(
  docs: Float32Array,
  dim: number,
  ids: readonly string[],
  query: Float32Array,
  k: number,
): Ranking {
  if (query.length !== dim || docs.length !== ids.length * dim) {
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      `exactTopK: shapes do not match (dim ${dim}, query ${query.length}, docs ${docs.length} for ${ids.length} ids)`,
    );
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

function dtypeTag(dtype: string | undefined): string {
  if (!dtype || dtype === 'fp32') return '';
  return dtype === 'q8' ? ':q8r' : `:${dtype}`;
}
