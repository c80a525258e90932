import { RouterRetrieverError } from '../boundary/errors.js';
import { TopK } from './heap.js';
import { dot, dotRowsInt8 } from './kernel.js';
import { validateQuery, yieldToEventLoop } from './topk.js';
import type { Hit, VectorChunk } from './types.js';

/**
 * int8 scalar quantization, PER-VECTOR symmetric scale:
 *   scale = max_i |x_i| / 127,  code_i = round(x_i / scale) in [-127, 127],  x_i ≈ code_i * scale.
 * Per-vector (not per-dimension) so each vector quantizes on its own: upserts
 * never need collection-wide statistics. A zero vector gets scale 0.
 * The approximate score is scale * (q · codes), computed with the float32 query.
 */
export interface Int8Chunk {
  dim: number;
  /** rows * dim codes, row-major */
  codes: Int8Array;
  /** one scale per row */
  scales: Float32Array;
  ids: ReadonlyArray<string | null>;
}

export function quantizeVector(x: Float32Array, codes: Int8Array, codeOffset: number, xOffset = 0, dim = x.length): number {
  let m = 0;
  for (let j = 0; j < dim; j++) {
    const a = Math.abs(x[xOffset + j]);
    if (a > m) m = a;
  }
  if (m === 0) {
    codes.fill(0, codeOffset, codeOffset + dim);
    return 0;
  }
  const inv = 127 / m;
  for (let j = 0; j < dim; j++) codes[codeOffset + j] = Math.round(x[xOffset + j] * inv);
  return m / 127;
}

/** The 7-bit query's bias: codes in [-63, 63] are stored as code + 64 in [1, 127]. */
export const QUERY_BIAS = 64;

/**
 * 7-bit symmetric query quantization for the int8 WASM kernel (int8-index.ts):
 * code_j = round(x_j / scale) in [-63, 63] with scale = max_j |x_j| / 63, written to
 * `out` as code_j + QUERY_BIAS (in [1, 127]: the non-negative "i7" operand of relaxed
 * SIMD's int8 dot product). Returns the scale (0 for a zero query, all codes then 64).
 */
export function quantizeQueryU7(x: Float32Array, out: Uint8Array, dim = x.length): number {
  let m = 0;
  for (let j = 0; j < dim; j++) {
    const a = Math.abs(x[j]);
    if (a > m) m = a;
  }
  if (m === 0) {
    out.fill(QUERY_BIAS, 0, dim);
    return 0;
  }
  const inv = 63 / m;
  for (let j = 0; j < dim; j++) out[j] = Math.round(x[j] * inv) + QUERY_BIAS;
  return m / 63;
}

/** Sum of codes[off .. off + dim). */
export function codeSum(codes: Int8Array, off: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += codes[off + j];
  return s;
}

export function quantizeChunk(chunk: VectorChunk): Int8Chunk {
  const { dim, vectors, ids } = chunk;
  const rows = ids.length;
  const codes = new Int8Array(rows * dim);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) scales[r] = quantizeVector(vectors, codes, r * dim, r * dim, dim);
  return { dim, codes, scales, ids };
}

export interface Int8SearchOptions {
  /**
   * How many int8 candidates are rescored exactly (default max(10*k, 100)).
   * Rescoring only happens when `rescore` is given.
   */
  candidates?: number;
  /**
   * The float32 vectors for exact rescoring: either chunks parallel to the int8
   * chunks (same rows), or a lookup (chunkIndex, row) -> vector.
   */
  rescore?: readonly VectorChunk[] | ((chunk: number, row: number) => Float32Array);
  /** Async only: time budget of one slice in ms (default 8). */
  sliceMs?: number;
  signal?: AbortSignal;
}

const BLOCK = 256;

interface Candidate {
  score: number;
  chunk: number;
  row: number;
}

/** Candidate heap keyed by (score, chunk, row) so positions are known for rescoring. */
function scanInt8(
  query: Float32Array,
  c: Int8Chunk,
  ci: number,
  r0: number,
  r1: number,
  heap: TopK,
  scratch: Float64Array,
): void {
  for (let b = r0; b < r1; b += BLOCK) {
    const e = Math.min(b + BLOCK, r1);
    dotRowsInt8(query, c.codes.subarray(b * c.dim, e * c.dim), c.dim, 0, e - b, scratch);
    let thr = heap.threshold;
    for (let r = b; r < e; r++) {
      const s = scratch[r - b] * c.scales[r];
      if (s < thr) continue;
      const id = c.ids[r];
      if (id === null || id === undefined) continue;
      // Heap ids encode the position; ties among candidates don't matter (rescored).
      heap.push(s, `${ci}:${r}`);
      thr = heap.threshold;
    }
  }
}

function finish(query: Float32Array, chunks: readonly Int8Chunk[], cand: Hit[], k: number, opts: Int8SearchOptions): Hit[] {
  const list: Candidate[] = cand.map((h) => {
    const p = h.id.indexOf(':');
    return { score: h.score, chunk: Number(h.id.slice(0, p)), row: Number(h.id.slice(p + 1)) };
  });
  const out = new TopK(k);
  const rs = opts.rescore;
  for (const c of list) {
    const id = chunks[c.chunk].ids[c.row] as string;
    let score = c.score;
    if (rs) {
      if (typeof rs === 'function') {
        const v = rs(c.chunk, c.row);
        score = dot(query, v, 0, query.length);
      } else {
        const fc = rs[c.chunk];
        if (!fc || fc.ids[c.row] !== id) {
          throw new RouterRetrieverError('INVALID_INPUT', 'The float32 rescoring chunks do not match the int8 chunks.');
        }
        score = dot(query, fc.vectors, c.row * fc.dim, fc.dim);
      }
    }
    out.push(score, id);
  }
  return out.sorted();
}

function candidateCount(k: number, opts: Int8SearchOptions): number {
  const n = opts.candidates ?? Math.max(10 * k, 100);
  if (!Number.isInteger(n) || n < k) {
    throw new RouterRetrieverError('INVALID_INPUT', `candidates must be an integer >= k (${k}), got ${n}.`);
  }
  return n;
}

/** Scan int8 codes, keep the best `candidates`, rescore them exactly (float32), return top-k. */
export function searchInt8Sync(query: Float32Array, chunks: readonly Int8Chunk[], k: number, opts: Int8SearchOptions = {}): Hit[] {
  validateQuery(query, chunks, k);
  if (k === 0) return [];
  const heap = new TopK(candidateCount(k, opts));
  const scratch = new Float64Array(BLOCK);
  chunks.forEach((c, ci) => scanInt8(query, c, ci, 0, c.ids.length, heap, scratch));
  return finish(query, chunks, heap.sorted(), k, opts);
}

/** Async, sliced variant of searchInt8Sync (same results). */
export async function searchInt8(
  query: Float32Array,
  chunks: readonly Int8Chunk[],
  k: number,
  opts: Int8SearchOptions = {},
): Promise<Hit[]> {
  validateQuery(query, chunks, k);
  if (k === 0) return [];
  const heap = new TopK(candidateCount(k, opts));
  const scratch = new Float64Array(BLOCK);
  const sliceMs = opts.sliceMs ?? 8;
  let t0 = performance.now();
  for (let ci = 0; ci < chunks.length; ci++) {
    const c = chunks[ci];
    for (let r = 0; r < c.ids.length; r += BLOCK) {
      if (performance.now() - t0 >= sliceMs) {
        await yieldToEventLoop();
        if (opts.signal?.aborted) throw new RouterRetrieverError('CANCELLED', 'The search was cancelled.');
        t0 = performance.now();
      }
      scanInt8(query, c, ci, r, Math.min(r + BLOCK, c.ids.length), heap, scratch);
    }
  }
  return finish(query, chunks, heap.sorted(), k, opts);
}
