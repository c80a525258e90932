/**
 * The page side of bench/encoder.ts: our encoder worker (EncoderClient) and transformers.js'
 * feature-extraction pipeline on the same weights, timed in the same page. Returns raw timings;
 * the Node side computes and prints the statistics.
 */
import { EncoderClient } from '../../src/encoder-client.js';
import type { EncoderApi } from '../../src/boundary/encoder-api.js';
import { EncoderEngine } from '../../workers/engine/encoder-engine.js';
import { mulberry32 } from '../../src/router/random.js';
import { makeTjs } from './tjs-pipeline.js';
import { exposeBenchApi, pageEnv } from './expose.js';

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
  /** Precision of both sides: ours (LoadOptions.dtype) and transformers.js (its dtype option; q8 = onnx/model_quantized.onnx). */
  dtype: 'fp32' | 'q8';
  /** Run EncoderEngine on this thread (like transformers.js here) instead of in the worker. */
  inThread?: boolean;
  /** Skip indexing (e.g. for the in-thread run, which only measures query latency). */
  skipIndex?: boolean;
  /**
   * In-thread only: the engine's default builds, the JSEP build for every backend (the old
   * default), or onnxruntime-web/webgpu (the asyncify build transformers.js uses) for every backend.
   */
  ortBuild?: 'default' | 'jsep' | 'asyncify';
  /** Index the docs this many times in a row, on both sides (default 1): pass 1 is cold, the rest warm. */
  indexRuns?: number;
  /** Paired indexing: documents per turn (default: all of them in one turn). */
  indexSlice?: number;
  /** Paired runs: no indexing (queries only). */
  pairedSkipIndex?: boolean;
  /** Paired runs: also time an in-thread engine that feeds the base weights as inputs (no base branches). */
  comparePlainInputs?: boolean;
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

/** The onnxruntime-web build the in-thread engine uses under cfg.ortBuild. */
async function ortFor(cfg: BenchConfig, backend: 'wasm' | 'webgpu'): Promise<typeof import('onnxruntime-web')> {
  if (cfg.ortBuild === 'jsep') return import('onnxruntime-web');
  if (cfg.ortBuild === 'asyncify')
    return (await import('onnxruntime-web/webgpu')) as unknown as typeof import('onnxruntime-web');
  return (await (backend === 'webgpu'
    ? import('onnxruntime-web')
    : import('onnxruntime-web/wasm'))) as unknown as typeof import('onnxruntime-web');
}

let ourQueryVec: Float32Array | null = null;
let ourDocVecs: Float32Array | null = null;

async function runOurs(cfg: BenchConfig) {
  let usedOrt: typeof import('onnxruntime-web') | undefined;
  const loader = async (backend: 'wasm' | 'webgpu') => {
    usedOrt = await ortFor(cfg, backend);
    return usedOrt;
  };
  const client: EncoderApi = cfg.inThread ? new EncoderEngine({ ort: loader }) : new EncoderClient();
  try {
    const t0 = now();
    const info = await client.load(cfg.modelUrl, {
      device: cfg.device,
      dtype: cfg.dtype,
      numThreads: cfg.numThreads,
      cache: false,
      maxLength: 512,
    });
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
    // Expert switch, paired: after a query with A, time one more with A (same) and, after
    // another with A, one with B (switched). Their difference is what switching costs.
    const switchPairs: number[] = [];
    for (let i = 0; i < cfg.runs; i++) {
      await client.embedQuery(q, 'A');
      const same = await time(() => client.embedQuery(q, 'A'));
      await client.embedQuery(q, 'A');
      switchPairs.push((await time(() => client.embedQuery(q, 'B'))) - same);
    }

    const indexMsAll: number[] = [];
    for (let r = 0; !cfg.skipIndex && r < (cfg.indexRuns ?? 1); r++) {
      const ti = now();
      ourDocVecs = await client.embedDocuments(cfg.docs, { batchSize: cfg.batchSize });
      indexMsAll.push(now() - ti);
    }
    const indexMs = indexMsAll[0] ?? NaN;
    const ortEnv =
      cfg.inThread && usedOrt
        ? {
            numThreads: usedOrt.env.wasm.numThreads,
            versions: usedOrt.env.versions,
            crossOriginIsolated: self.crossOriginIsolated,
          }
        : null;
    return {
      info,
      ortEnv,
      loadWallMs,
      addWallMs,
      experts,
      base,
      baseAgain,
      expertFixed,
      expertAlternating,
      switchPairs,
      indexMs,
      indexMsAll,
    };
  } finally {
    await client.dispose();
  }
}

async function tjsIndex(
  extractor: Awaited<ReturnType<typeof makeTjs>>['extractor'],
  cfg: BenchConfig,
  into: Float32Array,
  dim: number,
  docs = cfg.docs,
) {
  const opts = { pooling: 'mean' as const, normalize: false };
  for (let i = 0; i < docs.length; i += cfg.batchSize) {
    const out = await extractor(docs.slice(i, i + cfg.batchSize), opts);
    into.set(out.data as Float32Array, i * dim);
  }
}

/**
 * Paired timings on a noisy machine: ours (worker), ours (this thread) and transformers.js
 * (this thread) take turns, query by query and indexing pass by indexing pass, so that load
 * changes hit all three alike. Ratios are then taken pair by pair.
 */
async function runPaired(cfg: BenchConfig) {
  const worker = new EncoderClient();
  const inThread = new EncoderEngine({ ort: (backend) => ortFor(cfg, backend) });
  const plain = cfg.comparePlainInputs
    ? new EncoderEngine({ ort: (backend) => ortFor(cfg, backend), baseBranches: false })
    : null;
  const tjs = await makeTjs(cfg);
  try {
    const opts = {
      device: cfg.device,
      dtype: cfg.dtype,
      numThreads: cfg.numThreads,
      cache: false,
      maxLength: 512,
    } as const;
    await worker.load(cfg.modelUrl, opts);
    await inThread.load(cfg.modelUrl, opts);
    await plain?.load(cfg.modelUrl, opts);
    for (const e of [worker, inThread, plain]) await e?.addExpert('A', cfg.experts[0]);
    const q = cfg.query;
    const popts = { pooling: 'mean' as const, normalize: false };
    for (let i = 0; i < cfg.warmup; i++) {
      for (const e of [worker, inThread, plain]) {
        await e?.embedQuery(q, null);
        await e?.embedQuery(q, 'A');
      }
      await tjs.extractor(q, popts);
    }
    const query = {
      worker: [] as number[],
      inThread: [] as number[],
      tjs: [] as number[],
      workerExpert: [] as number[],
      inThreadExpert: [] as number[],
      plain: [] as number[],
      plainExpert: [] as number[],
      /** Time inside onnxruntime for each worker / in-thread query, base and expert (EncoderStats.inferenceMs deltas). */
      workerInference: [] as number[],
      inThreadInference: [] as number[],
      workerExpertInference: [] as number[],
      inThreadExpertInference: [] as number[],
    };
    /** A timed turn; for our engines also (untimed) their onnxruntime time during it. */
    const turn =
      (into: number[], fn: () => Promise<unknown>, engine?: EncoderApi, inference?: number[]) => async () => {
        const before = engine ? (await engine.stats()).inferenceMs : 0;
        into.push(await time(fn));
        if (engine && inference) inference.push((await engine.stats()).inferenceMs - before);
      };
    const turns = [
      turn(query.worker, () => worker.embedQuery(q, null), worker, query.workerInference),
      turn(query.inThread, () => inThread.embedQuery(q, null), inThread, query.inThreadInference),
      turn(query.tjs, () => tjs.extractor(q, popts)),
      turn(query.workerExpert, () => worker.embedQuery(q, 'A'), worker, query.workerExpertInference),
      turn(query.inThreadExpert, () => inThread.embedQuery(q, 'A'), inThread, query.inThreadExpertInference),
    ];
    if (plain)
      turns.push(
        turn(query.plain, () => plain.embedQuery(q, null)),
        turn(query.plainExpert, () => plain.embedQuery(q, 'A')),
      );
    const rand = mulberry32(12345);
    for (let i = 0; i < cfg.runs; i++) {
      // A fresh order each round, so that no contender always follows the same one.
      for (let j = turns.length - 1; j > 0; j--) {
        const k = Math.floor(rand() * (j + 1));
        [turns[j], turns[k]] = [turns[k], turns[j]];
      }
      for (const t of turns) await t();
    }
    // Indexing passes; each pass goes slice by slice (the SDK indexes 256 documents per slice),
    // the two sides taking turns per slice, and who goes first alternates.
    const index = {
      worker: [] as number[],
      tjs: [] as number[],
      sliceWorker: [] as number[],
      sliceTjs: [] as number[],
    };
    const dim = (await inThread.info()).dim;
    const slice = cfg.indexSlice ?? cfg.docs.length;
    const tjsVecs = new Float32Array(slice * dim);
    for (let r = 0; !cfg.pairedSkipIndex && r < (cfg.indexRuns ?? 1); r++) {
      let [w, t] = [0, 0];
      for (let at = 0, k = 0; at < cfg.docs.length; at += slice, k++) {
        const docs = cfg.docs.slice(at, at + slice);
        const ours = () => time(() => worker.embedDocuments(docs, { batchSize: cfg.batchSize }));
        const theirs = () => time(() => tjsIndex(tjs.extractor, cfg, tjsVecs, dim, docs));
        let oursMs: number;
        let tjsMs: number;
        if ((r + k) % 2 === 0) {
          oursMs = await ours();
          tjsMs = await theirs();
        } else {
          tjsMs = await theirs();
          oursMs = await ours();
        }
        console.log(
          `[bench] indexing pass ${r + 1}, docs ${at}-${at + docs.length}: ours ${oursMs.toFixed(0)} ms, transformers.js ${tjsMs.toFixed(0)} ms`,
        );
        index.sliceWorker.push(oursMs);
        index.sliceTjs.push(tjsMs);
        w += oursMs;
        t += tjsMs;
      }
      index.worker.push(w);
      index.tjs.push(t);
    }
    return { query, index };
  } finally {
    await worker.dispose();
    await inThread.dispose();
    await plain?.dispose();
    await tjs.extractor.dispose();
  }
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = now();
  await fn();
  return now() - t0;
}

async function runTjs(cfg: BenchConfig) {
  const t0 = now();
  const { extractor, onnx } = await makeTjs(cfg);
  const loadWallMs = now() - t0;
  const ortEnv = {
    numThreads: onnx.wasm.numThreads,
    proxy: onnx.wasm.proxy,
    versions: onnx.versions,
    crossOriginIsolated: self.crossOriginIsolated,
  };
  const opts = { pooling: 'mean' as const, normalize: false };
  const q = cfg.query;
  for (let i = 0; i < cfg.warmup * 3; i++) await extractor(q, opts);
  const qv = (await extractor(q, opts)).data as Float32Array;
  const base = await timeRuns(cfg.runs, () => extractor(q, opts));

  const dim = qv.length;
  const docVecs = new Float32Array(cfg.docs.length * dim);
  const indexMsAll: number[] = [];
  for (let r = 0; !cfg.skipIndex && r < (cfg.indexRuns ?? 1); r++)
    indexMsAll.push(await time(() => tjsIndex(extractor, cfg, docVecs, dim)));
  const indexMs = indexMsAll[0] ?? NaN;
  await extractor.dispose();
  return {
    loadWallMs,
    ortEnv,
    base,
    indexMs,
    indexMsAll,
    // Same weights, same tokenizer: the two implementations should agree.
    queryMaxAbsDiff: ourQueryVec ? maxAbsDiff(ourQueryVec, qv) : null,
    docsMaxAbsDiff: ourDocVecs ? maxAbsDiff(ourDocVecs, docVecs) : null,
  };
}

const api = {
  runOurs,
  runTjs,
  runPaired,
  env: pageEnv,
};
/** What bench/encoder.ts calls in the page. */
export type EncoderBenchApi = typeof api;
exposeBenchApi(api);
