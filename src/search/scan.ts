/**
 * The one scan driver of both vector indexes (float32 SearchIndex, int8 Int8Index): rows are
 * fed to the index's scorer block by block; the async variant cuts the scan into slices of
 * at most `sliceMs` (default 8 ms) or `yieldEvery` rows, yields to the event loop between
 * slices so input and rendering run, and checks the signal after each yield.
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import { checkVector } from '../vectors.js';

/** What an index gives the driver for one query. */
export interface RowScanner {
  /** Rows to scan (slots, free ones included). */
  readonly rows: number;
  /** Loads the query into the index's buffers; called again after every yield. */
  begin(): void;
  /** Scores rows [r0, r1) (at most one block) into the index's heap. */
  feed(r0: number, r1: number): void;
}

/**
 * A block where fewer than 1 in SPARSE_MASK rows match a filter is scored run by run (only the
 * matching rows); a denser one is scored whole and its non-matching rows skipped at the heap.
 * Measured at 100k x 768 float32 in Chromium (bench:search --only-filter, 2 shared cores): no
 * filter 27.8 ms per query, 50 % of rows (whole blocks) 29.2 ms, 5 % (run by run) 4.2 ms, 0.1 %
 * 0.8 ms, mask included. The threshold itself was not tuned.
 */
export const SPARSE_MASK = 8;

/**
 * Calls `score` over the rows of [r0, r1) that a filter mask can keep: the whole range, or (a
 * sparse mask) each run of consecutive matching rows. Rows past the mask's end match nothing.
 */
export function maskedRuns(
  mask: Uint8Array | undefined,
  r0: number,
  r1: number,
  score: (a: number, b: number) => void,
): void {
  if (mask === undefined) {
    score(r0, r1);
    return;
  }
  const end = Math.min(r1, mask.length);
  let n = 0;
  for (let r = r0; r < end; r++) n += mask[r];
  if (n === 0) return;
  if (n * SPARSE_MASK >= r1 - r0) {
    score(r0, end);
    return;
  }
  for (let r = r0; r < end; r++) {
    if (mask[r] === 0) continue;
    let e = r + 1;
    while (e < end && mask[e] === 1) e++;
    score(r, e);
    r = e;
  }
}

export interface SliceOptions {
  /** Time budget of one slice in ms (default 8). */
  sliceMs?: number;
  /** At most this many rows per slice (default: no row limit). */
  yieldEvery?: number;
  /** Cancels the scan with RouterRetrieverError('CANCELLED'). */
  signal?: AbortSignal;
  /** A filter's rows (src/filter/mask.ts): only rows with mask[row] = 1 can be returned. */
  mask?: Uint8Array;
}

/** Scans every row in one go (synchronous). */
export function scanAll(s: RowScanner, block: number): void {
  s.begin();
  for (let r = 0; r < s.rows; r += block) s.feed(r, Math.min(r + block, s.rows));
}

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new RouterRetrieverError('CANCELLED', 'The search was cancelled.');
}

/** Same rows as scanAll, in slices with yields in between. */
export async function scanSliced(s: RowScanner, block: number, options: SliceOptions = {}): Promise<void> {
  const sliceMs = options.sliceMs ?? 8;
  const yieldEvery = Math.max(block, options.yieldEvery ?? Infinity);
  s.begin();
  let t0 = performance.now();
  let inSlice = 0;
  for (let r = 0; r < s.rows; r += block) {
    if (inSlice >= yieldEvery || performance.now() - t0 >= sliceMs) {
      await yieldToEventLoop();
      checkAbort(options.signal);
      // Another search on the same index may have used the shared query buffer meanwhile.
      s.begin();
      t0 = performance.now();
      inSlice = 0;
    }
    const e = Math.min(r + block, s.rows);
    s.feed(r, e);
    inSlice += e - r;
  }
  checkAbort(options.signal);
}

/** Throws INVALID_INPUT for a bad k or a query that is not `dim` finite floats. */
export function validateQuery(query: Float32Array, dim: number, k: number): void {
  if (!Number.isInteger(k) || k < 0) {
    throw new RouterRetrieverError('INVALID_INPUT', `k must be a non-negative integer, got ${k}.`, { k });
  }
  checkVector(query, dim, 'The query embedding', 'Use the same base encoder for queries and documents.');
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
