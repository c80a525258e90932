import { RouterRetrieverError } from '../boundary/errors.js';
import { TopK } from './heap.js';
import { dotRows } from './kernel.js';
import type { Hit, VectorChunk } from './types.js';

/** Rows scored per kernel call; the heap is fed from this block. */
const BLOCK = 256;
let scratch = new Float64Array(BLOCK);

export interface SearchOptions {
  /**
   * Async variant only: yield to the event loop after at most this many
   * vectors (default: chosen so one slice is about 4M multiply-adds, e.g. 5,461 rows
   * at 768-d, a few ms). A slice also ends once `sliceMs` has elapsed.
   */
  yieldEvery?: number;
  /** Async variant only: time budget of one slice in ms (default 8). */
  sliceMs?: number;
  /** Cancels the async search with RouterRetrieverError('CANCELLED'). */
  signal?: AbortSignal;
}

export function validateQuery(query: Float32Array, chunks: readonly { dim: number }[], k: number): number {
  if (!(query instanceof Float32Array)) {
    throw new RouterRetrieverError('INVALID_INPUT', 'The query embedding must be a Float32Array.');
  }
  if (!Number.isInteger(k) || k < 0) {
    throw new RouterRetrieverError('INVALID_INPUT', `k must be a non-negative integer, got ${k}.`, { k });
  }
  for (let i = 0; i < query.length; i++) {
    if (!Number.isFinite(query[i])) {
      throw new RouterRetrieverError('INVALID_INPUT', `The query embedding has a non-finite value at ${i}.`);
    }
  }
  const dim = query.length;
  for (const c of chunks) {
    if (c.dim !== dim) {
      throw new RouterRetrieverError(
        'INVALID_INPUT',
        `The query has ${dim} dimensions but the collection has ${c.dim}. Use the same base encoder for queries and documents.`,
        { queryDim: dim, collectionDim: c.dim },
      );
    }
  }
  return dim;
}

/** Scores rows [r0, r1) of one chunk into the heap. */
function scanRows(query: Float32Array, chunk: VectorChunk, r0: number, r1: number, heap: TopK): void {
  const { dim, vectors, ids } = chunk;
  if (scratch.length < BLOCK) scratch = new Float64Array(BLOCK);
  for (let b = r0; b < r1; b += BLOCK) {
    const e = Math.min(b + BLOCK, r1);
    // dotRows writes out[r]; shift so the block lands at scratch[0..].
    dotRowsInto(query, vectors, dim, b, e);
    let thr = heap.threshold;
    for (let r = b; r < e; r++) {
      const s = scratch[r - b];
      if (s < thr) continue;
      const id = ids[r];
      if (id === null || id === undefined) continue;
      heap.push(s, id);
      thr = heap.threshold;
    }
  }
}

function dotRowsInto(query: Float32Array, vectors: Float32Array, dim: number, b: number, e: number): void {
  // View the block as its own row range starting at 0 so `scratch` stays small.
  const view = vectors.subarray(b * dim, e * dim);
  dotRows(query, view, dim, 0, e - b, scratch);
}

/** Exact top-k by dot product over all chunks (synchronous). Ties by id ascending. */
export function searchChunksSync(query: Float32Array, chunks: readonly VectorChunk[], k: number): Hit[] {
  validateQuery(query, chunks, k);
  const heap = new TopK(k);
  if (k === 0) return [];
  for (const c of chunks) scanRows(query, c, 0, c.ids.length, heap);
  return heap.sorted();
}

/** Resolves on the next macrotask, letting input and rendering run. */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as unknown as {
    scheduler?: { yield?: () => Promise<void> };
    setImmediate?: (f: () => void) => void;
  };
  if (g.scheduler?.yield) return g.scheduler.yield();
  if (typeof g.setImmediate === 'function') return new Promise((r) => g.setImmediate!(r));
  if (typeof MessageChannel !== 'undefined') {
    return new Promise((resolve) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        ch.port1.close();
        resolve();
      };
      ch.port2.postMessage(0);
    });
  }
  return new Promise((r) => setTimeout(r, 0));
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new RouterRetrieverError('CANCELLED', 'The search was cancelled.');
}

/**
 * Exact top-k like searchChunksSync, split into slices (each < sliceMs, default 8 ms)
 * with a yield to the event loop between slices so the main thread stays responsive.
 * Same results as the synchronous variant, bit for bit.
 */
export async function searchChunks(
  query: Float32Array,
  chunks: readonly VectorChunk[],
  k: number,
  options: SearchOptions = {},
): Promise<Hit[]> {
  const dim = validateQuery(query, chunks, k);
  if (k === 0) return [];
  const sliceMs = options.sliceMs ?? 8;
  const yieldEvery = Math.max(BLOCK, options.yieldEvery ?? Math.floor((4 * 1024 * 1024) / Math.max(1, dim)));
  const heap = new TopK(k);
  let sliceStart = now();
  let rowsInSlice = 0;
  for (const c of chunks) {
    const rows = c.ids.length;
    for (let r = 0; r < rows; r += BLOCK) {
      if (rowsInSlice >= yieldEvery || now() - sliceStart >= sliceMs) {
        await yieldToEventLoop();
        checkAbort(options.signal);
        sliceStart = now();
        rowsInSlice = 0;
      }
      const e = Math.min(r + BLOCK, rows);
      scanRows(query, c, r, e, heap);
      rowsInSlice += e - r;
    }
  }
  checkAbort(options.signal);
  return heap.sorted();
}
