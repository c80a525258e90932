/**
 * One onnxruntime session of the encoder graph on one backend, with the feeds a run with no
 * expert needs, and the batch run itself.
 */
import type * as ort from 'onnxruntime-web';
import type { Backend } from '../../src/boundary/encoder-api.js';
import { RouterRetrieverError } from '../../src/boundary/errors.js';
import { transpose } from '../lora/merge.js';
import { useBaseInput, type BertGraph } from '../model/bert-graph.js';
import { scaleInput } from '../model/q8-graph.js';
import type { BaseTargets } from './base-targets.js';
import type { OrtLoader, OrtRuntime } from './ort-builds.js';
import { FeedSet, WeightFeedFactory } from './weight-feeds.js';

export interface Runtime {
  backend: Backend;
  /** The onnxruntime build this session belongs to (its tensors must come from it too). */
  ort: OrtRuntime;
  session: ort.InferenceSession;
  factory: WeightFeedFactory;
  /** The graph keeps the base weights in If branches: feeds switch them off per target (BuildOptions.baseBranches). */
  baseBranches: boolean;
  baseFeeds: FeedSet;
  /** What a run with no expert feeds for the weight inputs (and their switches). */
  baseFeedMap: Record<string, ort.Tensor>;
  /** The `.use_base` value that selects the fed matrix (baseBranches only). */
  useFed: ort.Tensor | null;
  /** Precision of the graph: at q8 a weight feed is int8 levels plus `<name>.scale`. */
  dtype: 'fp32' | 'q8';
}

export interface RuntimeSettings {
  ortFor: OrtLoader;
  /** Execution provider of the 'wasm' backend ('wasm'; 'cpu' with onnxruntime-node). */
  cpuProvider: string;
  numThreads: number | undefined;
}

/**
 * Base weights as If-branch constants on CPU backends (pre-packed, never copied per run); on
 * WebGPU every target stays a plain input fed from GPU buffers, since If would run on the CPU.
 */
export function usesBaseBranches(backend: Backend): boolean {
  return backend !== 'webgpu';
}

export function feedMapOf(set: FeedSet): Record<string, ort.Tensor> {
  const m: Record<string, ort.Tensor> = {};
  for (const [k, f] of set.feeds) m[k] = f.tensor;
  return m;
}

/** A session of `graph` on `backend` (with `build`, that onnxruntime build rather than the default one). */
export async function createRuntime(
  graph: BertGraph,
  backend: Backend,
  targets: BaseTargets,
  settings: RuntimeSettings,
  build?: OrtRuntime,
): Promise<Runtime> {
  let ortRt: OrtRuntime;
  try {
    ortRt = build ?? (await settings.ortFor(backend));
  } catch (e) {
    throw new RouterRetrieverError(
      'BACKEND',
      `Could not load onnxruntime for ${backend}: ${(e as Error).message}. Check that the app serves onnxruntime-web's files, or try device: 'wasm'.`,
      { backend },
    );
  }
  const { numThreads } = settings;
  if (numThreads !== undefined && ortRt.env.wasm) ortRt.env.wasm.numThreads = numThreads;
  let session: ort.InferenceSession;
  try {
    session = await ortRt.InferenceSession.create(graph.model, {
      executionProviders: [backend === 'wasm' ? settings.cpuProvider : backend],
      graphOptimizationLevel: 'all',
      ...(numThreads ? { intraOpNumThreads: numThreads } : {}),
    });
  } catch (e) {
    throw new RouterRetrieverError(
      'BACKEND',
      `Could not create the ${backend} session: ${(e as Error).message}. Try device: 'wasm', or a smaller model.`,
      { backend },
    );
  }
  const factory = await WeightFeedFactory.create(backend, ortRt);
  const baseFeeds = new FeedSet();
  if (graph.baseBranches) {
    // The base matrices live in the session; feed placeholders and switch every target to base.
    const q8 = graph.dtype === 'q8';
    const placeholder = q8
      ? new ortRt.Tensor('int8', new Int8Array(1), [1, 1])
      : new ortRt.Tensor('float32', new Float32Array(1), [1, 1]);
    const scalePlaceholder = new ortRt.Tensor('float32', new Float32Array(1), [1]);
    const useBase = new ortRt.Tensor('bool', new Uint8Array([1]), []);
    const baseFeedMap: Record<string, ort.Tensor> = {};
    for (const name of targets.names) {
      baseFeedMap[name] = placeholder;
      if (q8) baseFeedMap[scaleInput(name)] = scalePlaceholder;
      baseFeedMap[useBaseInput(name)] = useBase;
    }
    const useFed = new ortRt.Tensor('bool', new Uint8Array([0]), []);
    return {
      backend,
      ort: ortRt,
      session,
      factory,
      baseBranches: true,
      baseFeeds,
      baseFeedMap,
      useFed,
      dtype: graph.dtype,
    };
  }
  for (const [name, w] of await targets.matrices()) {
    const [nOut, nIn] = w.shape;
    for (const [k, f] of factory.feedsOf(name, transpose(w.data, nOut, nIn), nIn, nOut, graph.dtype)) {
      baseFeeds.feeds.set(k, f);
    }
  }
  return {
    backend,
    ort: ortRt,
    session,
    factory,
    baseBranches: false,
    baseFeeds,
    baseFeedMap: feedMapOf(baseFeeds),
    useFed: null,
    dtype: graph.dtype,
  };
}

export async function releaseRuntime(rt: Runtime): Promise<void> {
  rt.baseFeeds.release();
  await rt.session.release();
}

/** Embeddings of `rows` (token ids, each at most seqLen), padded to seqLen: [rows.length, hidden]. */
export async function runBatch(
  rt: Runtime,
  weightFeeds: Record<string, ort.Tensor>,
  rows: number[][],
  seqLen: number,
  hidden: number,
  counters: { inferenceMs: number },
): Promise<Float32Array> {
  const b = rows.length;
  const idsData = new BigInt64Array(b * seqLen);
  const maskData = new BigInt64Array(b * seqLen);
  rows.forEach((r, i) => {
    for (let j = 0; j < r.length; j++) {
      idsData[i * seqLen + j] = BigInt(r[j]);
      maskData[i * seqLen + j] = 1n;
    }
  });
  const feeds: Record<string, ort.Tensor> = {
    ...weightFeeds,
    input_ids: new rt.ort.Tensor('int64', idsData, [b, seqLen]),
    attention_mask: new rt.ort.Tensor('int64', maskData, [b, seqLen]),
  };
  let result: ort.InferenceSession.OnnxValueMapType;
  const t0 = performance.now();
  try {
    result = await rt.session.run(feeds);
  } catch (e) {
    throw new RouterRetrieverError(
      'BACKEND',
      `Inference failed on ${rt.backend}: ${(e as Error).message}. Try smaller batches or device: 'wasm'.`,
      { backend: rt.backend },
    );
  } finally {
    counters.inferenceMs += performance.now() - t0;
  }
  const t = result.embeddings;
  const data = (t.location === 'cpu' ? t.data : await t.getData()) as Float32Array;
  const copy = data.slice(0, b * hidden);
  t.dispose();
  return copy;
}
