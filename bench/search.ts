/**
 * Search kernel benchmark (Node version; the headless-Chromium runner is still to come):
 *   npx tsx bench/search.ts [--json] [--quick] [--no-1m]
 * Prints ms per query (median) for exact top-10 over N = 10k and 100k 768-d float32
 * vectors (WASM SIMD SearchIndex and the unrolled JS kernel) and 1M int8 (Int8Index,
 * int8 scan + exact float rescoring of 100 candidates), each beside a naive JS loop
 * over the same data and a memory-read floor (touching every 64-byte line of the
 * same bytes once, which reads them all from memory). recall_at_10 is against exact
 * float64 search. --json writes bench/results/search-node.json (the Chromium runner will
 * write bench/results/search.json).
 * Data: 64 Gaussian clusters (center + noise), row i generated from a seed derived
 * from i, so any row can be regenerated for rescoring without keeping 3 GB of floats.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Int8Index, SearchIndex, TopK, dotRows, searchChunksSync, type Hit, type VectorChunk } from '../src/search/index.js';

const args = new Set(process.argv.slice(2));
const DIM = 768;
const K = 10;
const CENTERS = 64;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const centers = (() => {
  const r = rng(1);
  return Array.from({ length: CENTERS }, () => Float32Array.from({ length: DIM }, () => r() * 2 - 1));
})();
/** Row i: a cluster center plus uniform noise (deterministic in i). */
function row(i: number, out: Float32Array, off = 0): void {
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
function time(qs: Float32Array[], f: (q: Float32Array) => unknown): number {
  f(qs[0]); // warm-up
  return median(qs.map((q) => {
    const t = performance.now();
    f(q);
    return performance.now() - t;
  }));
}
function recall(got: Hit[][], want: Hit[][]): number {
  let h = 0;
  got.forEach((g, i) => {
    const w = new Set(want[i].map((x) => x.id));
    h += g.filter((x) => w.has(x.id)).length;
  });
  return h / (got.length * K);
}

/** The naive baseline: one row at a time, one accumulator, same heap. */
function naiveSearch(q: Float32Array, chunks: readonly { vectors: ArrayLike<number>; ids: readonly (string | null)[] }[], scale?: (c: number, r: number) => number): Hit[] {
  const heap = new TopK(K);
  chunks.forEach((c, ci) => {
    for (let r = 0; r < c.ids.length; r++) {
      let s = 0;
      for (let j = 0; j < DIM; j++) s += q[j] * c.vectors[r * DIM + j];
      heap.push(scale ? s * scale(ci, r) : s, c.ids[r]!);
    }
  });
  return heap.sorted();
}
/** Memory floor: read one int32 from every 64-byte line of the buffers (best of 3). */
function floorMs(buffers: ArrayBufferView[]): number {
  let best = Infinity;
  let sink = 0;
  for (let t = 0; t < 3; t++) {
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

interface Row {
  n: number;
  dtype: 'float32' | 'int8';
  ms_per_query: number;
  naive_ms_per_query: number;
  floor_ms: number;
  recall_at_10: number;
  js_unrolled_ms_per_query?: number;
  backend: string;
  runtime: string;
}
const results: Row[] = [];
const runtime = `node ${process.version}`;

for (const n of args.has('--quick') ? [10_000] : [10_000, 100_000]) {
  const chunks = chunksOf(n);
  const qs = queries(n, n >= 100_000 ? 15 : 30);
  const index = SearchIndex.fromChunks(chunks);
  const exact = qs.map((q) => searchChunksSync(q, chunks, K));
  const got = qs.map((q) => index.search(q, K));
  const ms = time(qs, (q) => index.search(q, K));
  const js = time(qs, (q) => searchChunksSync(q, chunks, K));
  const naive = time(qs.slice(0, 5), (q) => naiveSearch(q, chunks));
  const floor = floorMs(chunks.map((c) => c.vectors));
  const r: Row = { n, dtype: 'float32', ms_per_query: ms, naive_ms_per_query: naive, floor_ms: floor, recall_at_10: recall(got, exact), js_unrolled_ms_per_query: js, backend: index.backend, runtime };
  results.push(r);
  console.log(`N=${n} float32 ${DIM}-d: ${index.backend} ${ms.toFixed(2)} ms/q | JS unrolled ${js.toFixed(2)} | naive ${naive.toFixed(2)} | floor ${floor.toFixed(2)} | recall@10 ${r.recall_at_10}`);
}

if (!args.has('--no-1m') && !args.has('--quick')) {
  const n = 1_000_000;
  const qs = queries(n, 5);
  const idx = new Int8Index(DIM);
  idx.reserve(n);
  // One pass over the data: quantize into the index and compute the exact top-10 of every query.
  const heaps = qs.map(() => new TopK(K));
  const buf = new Float32Array(1024 * DIM);
  const scores = new Float64Array(1024);
  for (let s = 0; s < n; s += 1024) {
    const rows = Math.min(1024, n - s);
    for (let i = 0; i < rows; i++) {
      row(s + i, buf, i * DIM);
      idx.setRow(s + i, `d${s + i}`, buf.subarray(i * DIM, (i + 1) * DIM));
    }
    qs.forEach((q, qi) => {
      dotRows(q, buf, DIM, 0, rows, scores);
      for (let i = 0; i < rows; i++) heaps[qi].push(scores[i], `d${s + i}`);
    });
  }
  const exact = heaps.map((h) => h.sorted());
  const rescore = (r: number) => {
    const v = new Float32Array(DIM);
    row(r, v);
    return v;
  };
  const got = qs.map((q) => idx.search(q, K, { rescore }));
  const ms = time(qs, (q) => idx.search(q, K, { rescore }));
  // naive: one-row loop over the same int8 codes (and scales), no rescoring
  const codes = (idx as unknown as { codes: Int8Array }).codes.subarray(0, n * DIM);
  const scales = (idx as unknown as { scales: Float32Array }).scales;
  const ids = Array.from({ length: n }, (_, i) => `d${i}`);
  const naive = time(qs.slice(0, 3), (q) => naiveSearch(q, [{ vectors: codes, ids }], (_c, r) => scales[r]));
  const floor = floorMs([codes]);
  const r: Row = { n, dtype: 'int8', ms_per_query: ms, naive_ms_per_query: naive, floor_ms: floor, recall_at_10: recall(got, exact), backend: idx.backend, runtime };
  results.push(r);
  console.log(`N=${n} int8 ${DIM}-d: ${idx.backend} ${ms.toFixed(2)} ms/q (incl. rescoring 100) | naive ${naive.toFixed(2)} | floor ${floor.toFixed(2)} | recall@10 ${r.recall_at_10}`);
}

if (args.has('--json')) {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/search-node.json', import.meta.url), JSON.stringify(results, null, 2) + '\n');
  console.log('wrote bench/results/search-node.json');
}
