/**
 * The search benchmark's data and measurements, runtime-neutral (used by the Node CLI
 * bench/search.ts and by the Chromium page behind bench/search-browser.ts): 64
 * Gaussian-ish clusters, row i generated from a seed derived from i (rows can be
 * regenerated for rescoring), a naive one-accumulator loop, and a memory floor that reads every 64-byte line of the same bytes once.
 */
import { mulberry32 as rng } from '../src/router/random.js';
import { Int8Index, SearchIndex, TopK, dotRows, type Hit, type VectorChunk } from '../src/search/index.js';

export const DIM = 768;
export const K = 10;
const CENTERS = 64;

export interface BenchRow {
  n: number;
  dtype: 'float32' | 'int8';
  /** Median over the timed queries (the headline number). */
  ms_per_query: number;
  /** The fastest timed query: beside floor_ms (a best of 5) it shows the ratio without load noise. */
  best_ms_per_query?: number;
  naive_ms_per_query: number;
  floor_ms: number;
  recall_at_10: number;
  /** Node CLI only (bench/search.ts): the unrolled JS kernel (SearchIndex with the 'js' backend) over the same chunks. */
  js_unrolled_ms_per_query?: number;
  backend: string;
  /** int8 only: the WASM kernel build ('relaxed' SIMD dot or 'plain' SIMD), see src/search/wasm-kernel.ts. */
  kernel?: string;
  /** int8 with the relaxed kernel only: the same index scanned with the plain-SIMD build (the fallback), same run. */
  plain_kernel_ms_per_query?: number;
  runtime: string;
  /** Filtered rows (bench/search-filter.ts): the share of rows the filter matches (1 = no filter). */
  selectivity?: number;
  matched_rows?: number;
  /** Computing the filter's row mask, per query (included in ms_per_query). */
  mask_ms?: number;
  /** ms_per_query over the unfiltered row's, same run. */
  vs_unfiltered?: number;
  /** The filtered top 10 equals the unfiltered ranking restricted to the matching rows, for every query. */
  exact?: boolean;
}

const centers = (() => {
  const r = rng(1);
  return Array.from({ length: CENTERS }, () => Float32Array.from({ length: DIM }, () => r() * 2 - 1));
})();
export function row(i: number, out: Float32Array, off = 0): void {
  const r = rng(i * 2654435761 + 7);
  const c = centers[Math.floor(r() * CENTERS)];
  for (let j = 0; j < DIM; j++) out[off + j] = c[j] + (r() - 0.5) * 1.5;
}
function chunksOf(n: number): VectorChunk[] {
  const out: VectorChunk[] = [];
  for (let s = 0; s < n; s += 1024) {
    const rows = Math.min(1024, n - s);
    const v = new Float32Array(rows * DIM);
    for (let i = 0; i < rows; i++) row(s + i, v, i * DIM);
    out.push({ dim: DIM, vectors: v, ids: Array.from({ length: rows }, (_, i) => `d${s + i}`) });
  }
  return out;
}
function queries(n: number, count: number): Float32Array[] {
  const r = rng(99);
  return Array.from({ length: count }, () => {
    const q = new Float32Array(DIM);
    row(Math.floor(r() * n), q);
    for (let j = 0; j < DIM; j++) q[j] += (r() - 0.5) * 0.5;
    return q;
  });
}
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
/** Fastest single query of the last time() call (same statistic as the floor's best of 5). */
let lastBest = NaN;
function time(qs: Float32Array[], f: (q: Float32Array) => unknown): number {
  f(qs[0]);
  const ts = qs.map((q) => {
    const t = performance.now();
    f(q);
    return performance.now() - t;
  });
  lastBest = Math.min(...ts);
  return median(ts);
}
function recall(got: Hit[][], want: Hit[][]): number {
  let h = 0;
  got.forEach((g, i) => {
    const w = new Set(want[i].map((x) => x.id));
    h += g.filter((x) => w.has(x.id)).length;
  });
  return h / (got.length * K);
}
/** The naive baseline: one row at a time, one accumulator, same heap (monomorphic per dtype). */
function naiveF32(q: Float32Array, chunks: readonly VectorChunk[]): Hit[] {
  const heap = new TopK(K);
  for (const c of chunks) {
    const v = c.vectors;
    for (let r = 0; r < c.ids.length; r++) {
      let s = 0;
      for (let j = 0; j < DIM; j++) s += q[j] * v[r * DIM + j];
      heap.push(s, c.ids[r]!);
    }
  }
  return heap.sorted();
}
function naiveI8(q: Float32Array, codes: Int8Array, scales: Float32Array, ids: readonly string[]): Hit[] {
  const heap = new TopK(K);
  for (let r = 0; r < ids.length; r++) {
    let s = 0;
    for (let j = 0; j < DIM; j++) s += q[j] * codes[r * DIM + j];
    heap.push(s * scales[r], ids[r]);
  }
  return heap.sorted();
}
function floorMs(buffers: ArrayBufferView[]): number {
  let best = Infinity;
  let sink = 0;
  for (let t = 0; t < 5; t++) {
    const t0 = performance.now();
    for (const b of buffers) {
      const u = new Int32Array(b.buffer, b.byteOffset, b.byteLength >> 2);
      for (let i = 0; i < u.length; i += 16) sink ^= u[i];
    }
    best = Math.min(best, performance.now() - t0);
  }
  if (sink === 42) console.log('');
  return best;
}

export async function runFloat(n: number, runtime: string, opts: { jsUnrolled?: boolean } = {}): Promise<BenchRow> {
  let chunks: VectorChunk[] | undefined = chunksOf(n);
  const qs = queries(n, n >= 100_000 ? 15 : 30);
  const index = SearchIndex.fromChunks(chunks);
  // The unrolled JS kernel (float64 sums) is the exact reference.
  const jsIndex = SearchIndex.fromChunks(chunks, DIM, { backend: 'js' });
  const exact = qs.map((q) => jsIndex.search(q, K));
  const got = qs.map((q) => index.search(q, K));
  const ms = time(qs, (q) => index.search(q, K));
  const best = lastBest;
  const js = opts.jsUnrolled ? time(qs, (q) => jsIndex.search(q, K)) : undefined;
  const naive = time(qs.slice(0, 5), (q) => naiveF32(q, chunks!));
  // The floor reads the index's own buffer (the bytes the kernel reads).
  const vecs = (index as unknown as { vecs: Float32Array }).vecs.subarray(0, n * DIM);
  const floor = floorMs([vecs]);
  chunks = undefined;
  const jsField = js === undefined ? {} : { js_unrolled_ms_per_query: js };
  return {
    n,
    dtype: 'float32',
    ms_per_query: ms,
    best_ms_per_query: best,
    naive_ms_per_query: naive,
    floor_ms: floor,
    recall_at_10: recall(got, exact),
    ...jsField,
    backend: index.backend,
    runtime,
  };
}

export async function runInt8(n: number, runtime: string, onProgress?: (done: number) => void): Promise<BenchRow> {
  const qs = queries(n, 15); // 15 timed queries: a steadier median on a shared machine (the 5 used before swung 1.5-1.9x)
  const idx = new Int8Index(DIM);
  idx.reserve(n);
  // The fallback build, same rows: same exact candidate scores (test/search-kernel.test.ts), timed beside.
  const plainIdx = idx.kernel === 'relaxed' ? new Int8Index(DIM, { kernel: 'plain' }) : null;
  plainIdx?.reserve(n);
  const heaps = qs.map(() => new TopK(K));
  const buf = new Float32Array(1024 * DIM);
  const scores = new Float64Array(1024);
  for (let s = 0; s < n; s += 1024) {
    const rows = Math.min(1024, n - s);
    for (let i = 0; i < rows; i++) {
      row(s + i, buf, i * DIM);
      idx.setRow(s + i, `d${s + i}`, buf.subarray(i * DIM, (i + 1) * DIM));
      plainIdx?.setRow(s + i, `d${s + i}`, buf.subarray(i * DIM, (i + 1) * DIM));
    }
    qs.forEach((q, qi) => {
      dotRows(q, buf, DIM, 0, rows, scores);
      for (let i = 0; i < rows; i++) heaps[qi].push(scores[i], `d${s + i}`);
    });
    if (s % (128 * 1024) === 0) {
      onProgress?.(s);
      await new Promise((r) => setTimeout(r, 0));
    }
  }
  const exact = heaps.map((h) => h.sorted());
  const rescore = (r: number) => {
    const v = new Float32Array(DIM);
    row(r, v);
    return v;
  };
  const got = qs.map((q) => idx.search(q, K, { rescore }));
  const ms = time(qs, (q) => idx.search(q, K, { rescore }));
  const best = lastBest;
  let plainMs: number | undefined;
  if (plainIdx) {
    const same = qs.every((q, i) => JSON.stringify(plainIdx.search(q, K, { rescore })) === JSON.stringify(got[i]));
    if (!same) throw new Error('the plain and relaxed int8 kernels disagree');
    plainMs = time(qs, (q) => plainIdx.search(q, K, { rescore }));
  }
  const codes = (idx as unknown as { codes: Int8Array }).codes.subarray(0, n * DIM);
  const scales = (idx as unknown as { scales: Float32Array }).scales;
  const ids = Array.from({ length: n }, (_, i) => `d${i}`);
  const naive = time(qs.slice(0, 3), (q) => naiveI8(q, codes, scales, ids));
  const floor = floorMs([codes]);
  return {
    n,
    dtype: 'int8',
    ms_per_query: ms,
    best_ms_per_query: best,
    naive_ms_per_query: naive,
    floor_ms: floor,
    recall_at_10: recall(got, exact),
    backend: idx.backend,
    kernel: idx.kernel,
    ...(plainMs === undefined ? {} : { plain_kernel_ms_per_query: plainMs }),
    runtime,
  };
}
