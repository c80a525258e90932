/**
 * The page side of bench/encoder.ts: our encoder worker (EncoderClient) and transformers.js'
 * feature-extraction pipeline on the same weights, timed in the same page. Returns raw timings;
 * the Node side computes and prints the statistics.
 */
import { EncoderClient } from '../../src/encoder-client';
import type { EncoderApi } from '../../workers/encoder-api';
import * as ortWeb from 'onnxruntime-web';
import { EncoderEngine } from '../../workers/engine/encoder-engine';

export interface BenchConfig {
  /** Served folder of the model, e.g. /.cache/bench-models/tiny/ */
  modelUrl: string;
  /** transformers.js: env.localModelPath and the model id under it. */
  tjsRoot: string;
  tjsModel: string;
  /** onnxruntime-web dist folder of transformers.js' own onnxruntime-web. */
  tjsOrtDist: string;
  experts: [string, string];
  query: string;
  docs: string[];
  runs: number;
  warmup: number;
  batchSize: number;
  numThreads: number;
  device: 'wasm' | 'webgpu';
  /** Run EncoderEngine on this thread (like transformers.js here) instead of in the worker. */
  inThread?: boolean;
  /** Skip indexing (e.g. for the in-thread run, which only measures query latency). */
  skipIndex?: boolean;
  /** In-thread only: which onnxruntime-web build the engine uses ('default': the package's main export). */
  ortBuild?: 'default' | 'wasm';
  /** Index the docs this many times in a row (default 1); indexMs is the first, indexMsAll all of them. */
  indexRuns?: number;
}

const now = () => performance.now();

async function timeRuns(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = now();
    await fn(i);
    out.push(now() - t0);
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return a.length === b.length ? m : Infinity;
}

let ourQueryVec: Float32Array | null = null;
let ourDocVecs: Float32Array | null = null;

async function runOurs(cfg: BenchConfig) {
  const ort = cfg.ortBuild === 'wasm' ? ((await import('onnxruntime-web/wasm')) as unknown as typeof import('onnxruntime-web')) : undefined;
  const client: EncoderApi = cfg.inThread ? new EncoderEngine(ort ? { ort } : {}) : new EncoderClient();
  try {
    const t0 = now();
    const info = await client.load(cfg.modelUrl, { device: cfg.device, numThreads: cfg.numThreads, cache: false, maxLength: 512 });
    const loadWallMs = now() - t0;
    const addWallMs: number[] = [];
    for (const [i, url] of cfg.experts.entries()) {
      const ta = now();
      await client.addExpert(i === 0 ? 'A' : 'B', url);
      addWallMs.push(now() - ta);
    }
    const experts = await client.listExperts();
    const q = cfg.query;
    for (let i = 0; i < cfg.warmup; i++) {
      await client.embedQuery(q, null);
      await client.embedQuery(q, 'A');
      await client.embedQuery(q, 'B');
    }
    ourQueryVec = await client.embedQuery(q, null);
    const base = await timeRuns(cfg.runs, () => client.embedQuery(q, null));
    const expertFixed = await timeRuns(cfg.runs, () => client.embedQuery(q, 'A'));
    const expertAlternating = await timeRuns(cfg.runs, (i) => client.embedQuery(q, i % 2 === 0 ? 'A' : 'B'));
    const baseAgain = await timeRuns(cfg.runs, () => client.embedQuery(q, null));

    const indexMsAll: number[] = [];
    for (let r = 0; !cfg.skipIndex && r < (cfg.indexRuns ?? 1); r++) {
      const ti = now();
      ourDocVecs = await client.embedDocuments(cfg.docs, { batchSize: cfg.batchSize });
      indexMsAll.push(now() - ti);
    }
    const indexMs = indexMsAll[0] ?? NaN;
    const ortEnv = cfg.inThread ? { numThreads: (ort ?? ortWeb).env.wasm.numThreads, versions: (ort ?? ortWeb).env.versions, crossOriginIsolated: self.crossOriginIsolated } : null;
    return { info, ortEnv, loadWallMs, addWallMs, experts, base, baseAgain, expertFixed, expertAlternating, indexMs, indexMsAll };
  } finally {
    await client.dispose();
  }
}

async function runTjs(cfg: BenchConfig) {
  const { pipeline, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = cfg.tjsRoot;
  env.useBrowserCache = false;
  (env as unknown as { useWasmCache?: boolean }).useWasmCache = false;
  // A shallow copy of transformers.js' own ort.env: .wasm is the same object as its onnxruntime-web's env.wasm.
  const onnx = env.backends.onnx as unknown as { wasm: { wasmPaths: unknown; numThreads: number; proxy: boolean }; versions?: Record<string, string> };
  onnx.wasm.wasmPaths = {
    mjs: `${cfg.tjsOrtDist}ort-wasm-simd-threaded.asyncify.mjs`,
    wasm: `${cfg.tjsOrtDist}ort-wasm-simd-threaded.asyncify.wasm`,
  };
  onnx.wasm.numThreads = cfg.numThreads;
  onnx.wasm.proxy = false;
  const t0 = now();
  const extractor = await pipeline('feature-extraction', cfg.tjsModel, { device: cfg.device, dtype: 'fp32' });
  const loadWallMs = now() - t0;
  const ortEnv = { numThreads: onnx.wasm.numThreads, proxy: onnx.wasm.proxy, versions: onnx.versions, crossOriginIsolated: self.crossOriginIsolated };
  const opts = { pooling: 'mean' as const, normalize: false };
  const q = cfg.query;
  for (let i = 0; i < cfg.warmup * 3; i++) await extractor(q, opts);
  const qv = (await extractor(q, opts)).data as Float32Array;
  const base = await timeRuns(cfg.runs, () => extractor(q, opts));

  const dim = qv.length;
  const ti = now();
  const docVecs = new Float32Array(cfg.docs.length * dim);
  for (let i = 0; i < cfg.docs.length; i += cfg.batchSize) {
    const out = await extractor(cfg.docs.slice(i, i + cfg.batchSize), opts);
    docVecs.set(out.data as Float32Array, i * dim);
  }
  const indexMs = now() - ti;
  await extractor.dispose();
  return {
    loadWallMs,
    ortEnv,
    base,
    indexMs,
    // Same weights, same tokenizer: the two implementations should agree.
    queryMaxAbsDiff: ourQueryVec ? maxAbsDiff(ourQueryVec, qv) : null,
    docsMaxAbsDiff: ourDocVecs ? maxAbsDiff(ourDocVecs, docVecs) : null,
  };
}

const w = window as unknown as Record<string, unknown>;
w.bench = {
  runOurs,
  runTjs,
  env: () => ({ isolated: self.crossOriginIsolated, cores: navigator.hardwareConcurrency, ua: navigator.userAgent }),
};
w.benchReady = true;
