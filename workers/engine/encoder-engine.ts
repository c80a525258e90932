/**
 * EncoderEngine: the Contriever encoder on onnxruntime-web, with LoRA experts merged per
 * expert and kept resident as graph-input feeds. Implements EncoderApi in-process; the Web
 * Worker (workers/encoder.worker.ts) exposes it with comlink.
 */
import type * as ort from 'onnxruntime-web';
import { RouterRetrieverError } from '../../src/boundary/errors.js';
import { buildBertGraph, useBaseInput, type BertGraph } from '../model/bert-graph.js';
import type { BertConfig } from '../model/config.js';
import type { TextTokenizer } from '../tokenizer/tokenizer.js';
import type { F32Tensor, StateDict } from '../model/tensor.js';
import { toFloat32 } from '../model/tensor-convert.js';
import { parseAdapterConfig, resolveAdapter, type ResolvedLora } from '../lora/adapter.js';
import { mergedTransposed, transpose } from '../lora/merge.js';
import type {
  Backend,
  EmbedOptions,
  EmbedProgress,
  EncoderApi,
  EncoderStats,
  ExpertInfo,
  LoadOptions,
  LoadProgress,
  ModelInfo,
  ModelSpec,
} from '../../src/boundary/encoder-api.js';
import { planBatches, progressOf } from './batching.js';
import { probeWebGpu, resolveBackend } from './device.js';
import { loadAdapter, loadBaseModel } from './model-files.js';
import { defaultOrtLoader, type OrtLoader, type OrtRuntime } from './ort-builds.js';
import { RunQueue, type Priority } from './run-queue.js';
import { FeedSet, WeightFeedFactory } from './weight-feeds.js';

export const CANARY_TEXT = 'RouterRetriever canary: the quick brown fox jumps over the lazy dog, 42 times in Ångström units.';
export const CANARY_TOLERANCE = 1e-3;
const DEFAULT_TARGETS = ['query', 'value'];
const MAX_TOKENS_PER_BATCH = 16_384;

interface Expert {
  info: ExpertInfo;
  loras: ResolvedLora[];
  feeds: FeedSet;
  feedMap: Record<string, ort.Tensor>;
}

interface Runtime {
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
}

interface Loaded {
  config: BertConfig;
  tokenizer: TextTokenizer;
  info: ModelInfo;
  options: LoadOptions;
  /** Original [out, in] base matrices of the current target set. */
  targets: Map<string, F32Tensor>;
  readWeights: () => Promise<StateDict>;
  runtime: Runtime;
}

/** Names of the Linear weights that match PEFT-style target module names. */
export function matchTargets(weightNames: Iterable<string>, modules: string[]): string[] {
  const out: string[] = [];
  for (const key of weightNames) {
    if (!key.endsWith('.weight')) continue;
    const module = key.slice(0, -'.weight'.length);
    if (module.includes('LayerNorm') || module.startsWith('embeddings.')) continue;
    if (modules.some((m) => module === m || module.endsWith('.' + m))) out.push(key);
  }
  return out.sort(compareLayerKeys);
}

function compareLayerKeys(a: string, b: string): number {
  const la = Number(/layer\.(\d+)\./.exec(a)?.[1] ?? -1);
  const lb = Number(/layer\.(\d+)\./.exec(b)?.[1] ?? -1);
  return la - lb || (a < b ? -1 : a > b ? 1 : 0);
}

function f32(dict: StateDict, name: string): F32Tensor {
  const t = dict.get(name);
  if (!t) throw new RouterRetrieverError('MODEL_FORMAT', `The model has no tensor "${name}". Is it a BERT checkpoint in the Hugging Face layout?`);
  return { shape: t.shape, data: toFloat32(t) };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return a.length === b.length ? m : Infinity;
}

export type { OrtRuntime } from './ort-builds.js';

export interface EngineOptions {
  /**
   * The onnxruntime module for every backend (e.g. onnxruntime-node in Node tools). Default:
   * onnxruntime-web's plain WASM build for 'wasm' and its WebGPU build for 'webgpu'.
   */
  ort?: OrtRuntime | OrtLoader;
  /** Execution provider used for the 'wasm' backend (default 'wasm'; 'cpu' with onnxruntime-node). */
  cpuProvider?: string;
  /**
   * Keep the base weights as If-branch constants (default: on every backend but WebGPU, see
   * usesBaseBranches). false feeds the base matrices like an expert's; the bench compares both.
   */
  baseBranches?: boolean;
}

export class EncoderEngine implements EncoderApi {
  private readonly ortFor: OrtLoader;
  private readonly cpuProvider: string;
  private readonly baseBranches: boolean | undefined;
  private loaded: Loaded | null = null;
  private readonly experts = new Map<string, Expert>();
  private readonly cancelled = new Set<string>();
  private readonly queue = new RunQueue();
  private numThreads: number | undefined;
  private counters: EncoderStats = { calls: 0, texts: 0, inferenceMs: 0 };

  constructor(options: EngineOptions = {}) {
    const fixed = options.ort;
    this.ortFor = typeof fixed === 'function' ? fixed : fixed ? async () => fixed : defaultOrtLoader;
    this.cpuProvider = options.cpuProvider ?? 'wasm';
    this.baseBranches = options.baseBranches;
  }

  async load(model: ModelSpec, options: LoadOptions = {}, onProgress?: (p: LoadProgress) => void): Promise<ModelInfo> {
    await this.dispose();
    const t0 = performance.now();
    const files = await loadBaseModel(model, options, onProgress);
    const { config } = files;
    const requested = options.device ?? 'auto';
    const probe = requested === 'wasm' ? { available: false, detail: 'not probed' } : await probeWebGpu();
    const choice = resolveBackend(requested, probe);
    this.numThreads = options.numThreads;

    const targetNames = matchTargets(files.weights.keys(), options.loraTargets ?? DEFAULT_TARGETS);
    const targets = new Map(targetNames.map((n) => [n, f32(files.weights, n)]));
    onProgress?.({ phase: 'build', message: `building the ONNX graph (${config.layers} layers, hidden ${config.hidden})` });
    const graph = buildBertGraph(config, (name) => f32(files.weights, name), {
      weightInputs: targetNames,
      baseBranches: this.baseBranches ?? usesBaseBranches(choice.backend),
    });

    const warnings: string[] = [];
    let reason = choice.reason;
    let canaryMaxAbsDiff: number | undefined;
    onProgress?.({ phase: 'session', message: `creating the ${choice.backend} session` });
    let runtime = await this.createRuntime(graph, choice.backend, targets);
    if (runtime.backend === 'webgpu' && options.canary !== false) {
      onProgress?.({ phase: 'canary', message: 'checking WebGPU against WASM on a canary text' });
      // The WebGPU build's own WASM provider: no second onnxruntime binary to download.
      // Same graph (no base branches): if WebGPU is dropped, this runtime serves as it is.
      const wasm = await this.createRuntime(graph, 'wasm', targets, runtime.ort);
      const ids = files.tokenizer.encode(CANARY_TEXT, config.maxLength).inputIds;
      const gpuEmb = await this.runBatch(runtime, runtime.baseFeedMap, [ids], ids.length, config.hidden);
      const cpuEmb = await this.runBatch(wasm, wasm.baseFeedMap, [ids], ids.length, config.hidden);
      canaryMaxAbsDiff = maxAbsDiff(gpuEmb, cpuEmb);
      if (!(canaryMaxAbsDiff <= CANARY_TOLERANCE)) {
        const msg = `WebGPU disagreed with WASM on the canary text (max abs diff ${canaryMaxAbsDiff.toExponential(2)} > ${CANARY_TOLERANCE}); using WASM so that no wrong embeddings are served.`;
        warnings.push(msg);
        console.warn(`[router-retriever] ${msg}`);
        await this.releaseRuntime(runtime);
        runtime = wasm;
        reason = `${reason}; dropped: ${msg}`;
      } else {
        await this.releaseRuntime(wasm);
      }
    }

    const info: ModelInfo = {
      backend: runtime.backend,
      backendReason: reason,
      warnings,
      dim: config.hidden,
      layers: config.layers,
      maxLength: config.maxLength,
      pooling: config.pooling,
      normalize: config.normalize,
      fingerprint: files.fingerprint,
      loadMs: performance.now() - t0,
      canaryMaxAbsDiff,
    };
    this.loaded = { config, tokenizer: files.tokenizer, info, options, targets, readWeights: files.readWeights, runtime };
    this.counters = { calls: 0, texts: 0, inferenceMs: 0 };
    onProgress?.({ phase: 'ready', message: `ready on ${runtime.backend}` });
    return info;
  }

  private async createRuntime(graph: BertGraph, backend: Backend, targets: Map<string, F32Tensor>, build?: OrtRuntime): Promise<Runtime> {
    let ortRt: OrtRuntime;
    try {
      ortRt = build ?? (await this.ortFor(backend));
    } catch (e) {
      throw new RouterRetrieverError('BACKEND', `Could not load onnxruntime for ${backend}: ${(e as Error).message}. Check that the app serves onnxruntime-web's files, or try device: 'wasm'.`, { backend });
    }
    if (this.numThreads !== undefined && ortRt.env.wasm) ortRt.env.wasm.numThreads = this.numThreads;
    let session: ort.InferenceSession;
    try {
      session = await ortRt.InferenceSession.create(graph.model, {
        executionProviders: [backend === 'wasm' ? this.cpuProvider : backend],
        graphOptimizationLevel: 'all',
        ...(this.numThreads ? { intraOpNumThreads: this.numThreads } : {}),
      });
    } catch (e) {
      throw new RouterRetrieverError('BACKEND', `Could not create the ${backend} session: ${(e as Error).message}. Try device: 'wasm', or a smaller model.`, { backend });
    }
    const factory = await WeightFeedFactory.create(backend, ortRt);
    const baseFeeds = new FeedSet();
    if (graph.baseBranches) {
      // The base matrices live in the session; feed placeholders and switch every target to base.
      const placeholder = new ortRt.Tensor('float32', new Float32Array(1), [1, 1]);
      const useBase = new ortRt.Tensor('bool', new Uint8Array([1]), []);
      const baseFeedMap: Record<string, ort.Tensor> = {};
      for (const name of targets.keys()) {
        baseFeedMap[name] = placeholder;
        baseFeedMap[useBaseInput(name)] = useBase;
      }
      const useFed = new ortRt.Tensor('bool', new Uint8Array([0]), []);
      return { backend, ort: ortRt, session, factory, baseBranches: true, baseFeeds, baseFeedMap, useFed };
    }
    for (const [name, w] of targets) {
      baseFeeds.feeds.set(name, factory.make(transpose(w.data, w.shape[0], w.shape[1]), [w.shape[1], w.shape[0]]));
    }
    return { backend, ort: ortRt, session, factory, baseBranches: false, baseFeeds, baseFeedMap: feedMapOf(baseFeeds), useFed: null };
  }

  private async releaseRuntime(rt: Runtime): Promise<void> {
    rt.baseFeeds.release();
    await rt.session.release();
  }

  private require(): Loaded {
    if (!this.loaded) throw new RouterRetrieverError('NOT_READY', 'The encoder has no model: call load() first (and wait for it).');
    return this.loaded;
  }

  async addExpert(name: string, adapter: ModelSpec, onProgress?: (p: LoadProgress) => void): Promise<ExpertInfo> {
    const loaded = this.require();
    if (typeof name !== 'string' || name.trim() === '') throw new RouterRetrieverError('INVALID_INPUT', 'An expert needs a non-empty name.');
    const t0 = performance.now();
    const files = await loadAdapter(adapter, loaded.options.cache, onProgress);
    const config = parseAdapterConfig(files.configJson);
    // Shapes of every Linear weight the adapter could target are needed for validation.
    let base = loaded.targets;
    let shapes = new Map([...base].map(([k, v]) => [k, v.shape]));
    let loras: ResolvedLora[];
    try {
      loras = resolveAdapter(config, files.weights, shapes);
    } catch (e) {
      // The adapter may target modules that are not graph inputs yet: widen once, then validate again.
      const all = await loaded.readWeights();
      const allShapes = new Map([...all].filter(([, t]) => t.shape.length === 2).map(([k, t]) => [k, t.shape]));
      loras = resolveAdapter(config, files.weights, allShapes);
      const missing = loras.map((l) => l.target).filter((t) => !base.has(t));
      if (missing.length === 0) throw e;
      onProgress?.({ phase: 'build', message: `rebuilding the graph once so that ${missing.length} more weights can be switched per expert` });
      await this.widenTargets(all, missing);
      base = loaded.targets;
      shapes = new Map([...base].map(([k, v]) => [k, v.shape]));
    }
    const expert = this.makeExpert(name, loras, config.r, config.loraAlpha, performance.now() - t0);
    const old = this.experts.get(name);
    this.experts.set(name, expert);
    old?.feeds.release();
    expert.info.addMs = performance.now() - t0;
    return expert.info;
  }

  private makeExpert(name: string, loras: ResolvedLora[], r: number, alpha: number, addMs: number): Expert {
    const loaded = this.require();
    const rt = loaded.runtime;
    const feeds = new FeedSet();
    for (const l of loras) {
      const w = loaded.targets.get(l.target);
      if (!w) throw new RouterRetrieverError('ADAPTER_MISMATCH', `Expert "${name}" targets ${l.target}, which the base model does not have.`);
      const merged = mergedTransposed(w, l.A, l.B, l.scale, l.fanInFanOut);
      feeds.feeds.set(l.target, rt.factory.make(merged, [w.shape[1], w.shape[0]]));
    }
    const feedMap = { ...rt.baseFeedMap, ...feedMapOf(feeds) };
    if (rt.useFed) for (const target of feeds.feeds.keys()) feedMap[useBaseInput(target)] = rt.useFed;
    const info: ExpertInfo = {
      name,
      r,
      alpha,
      scale: loras[0]?.scale ?? alpha / r,
      targets: loras.map((l) => l.target),
      residentBytes: feeds.residentBytes,
      addMs,
    };
    return { info, loras, feeds, feedMap };
  }

  private async widenTargets(all: StateDict, extra: string[]): Promise<void> {
    const loaded = this.require();
    const names = [...loaded.targets.keys(), ...extra].sort(compareLayerKeys);
    const targets = new Map(names.map((n) => [n, loaded.targets.get(n) ?? f32(all, n)]));
    const graph = buildBertGraph(loaded.config, (n) => f32(all, n), { weightInputs: names, baseBranches: loaded.runtime.baseBranches });
    const runtime = await this.createRuntime(graph, loaded.runtime.backend, targets, loaded.runtime.ort);
    await this.releaseRuntime(loaded.runtime);
    loaded.runtime = runtime;
    loaded.targets = targets;
    for (const [name, e] of this.experts) {
      e.feeds.release();
      this.experts.set(name, this.makeExpert(name, e.loras, e.info.r, e.info.alpha, e.info.addMs));
    }
  }

  async removeExpert(name: string): Promise<void> {
    const e = this.experts.get(name);
    if (!e) throw new RouterRetrieverError('NOT_FOUND', `No expert named "${name}". Registered: ${[...this.experts.keys()].join(', ') || 'none'}.`);
    this.experts.delete(name);
    // Let a run that already picked this expert's feeds finish before the buffers go.
    await this.queue.run('interactive', async () => e.feeds.release());
  }

  async listExperts(): Promise<ExpertInfo[]> {
    return [...this.experts.values()].map((e) => ({ ...e.info }));
  }

  private feedsFor(expert: string | null): Record<string, ort.Tensor> {
    const loaded = this.require();
    if (expert === null || expert === undefined) return loaded.runtime.baseFeedMap;
    const e = this.experts.get(expert);
    if (!e) throw new RouterRetrieverError('NOT_FOUND', `No expert named "${expert}". Registered: ${[...this.experts.keys()].join(', ') || 'none'}. Add it with addExpert() first.`);
    return e.feedMap;
  }

  async embedDocuments(texts: string[], options: EmbedOptions = {}, onProgress?: (p: EmbedProgress) => void): Promise<Float32Array> {
    return this.embedMany(texts, null, options, onProgress, 'bulk');
  }

  async embedQueries(texts: string[], expert: string | null, options: EmbedOptions = {}, onProgress?: (p: EmbedProgress) => void): Promise<Float32Array> {
    return this.embedMany(texts, expert, options, onProgress, 'bulk');
  }

  async embedQuery(text: string, expert: string | null): Promise<Float32Array> {
    const loaded = this.require();
    if (typeof text !== 'string') throw new RouterRetrieverError('INVALID_INPUT', 'embedQuery takes a string.');
    const feeds = this.feedsFor(expert);
    this.counters.calls++;
    this.counters.texts++;
    const ids = loaded.tokenizer.encode(text, loaded.config.maxLength).inputIds;
    return this.queue.run('interactive', () => this.runBatch(loaded.runtime, feeds, [ids], ids.length, loaded.config.hidden));
  }

  private async embedMany(
    texts: string[],
    expert: string | null,
    options: EmbedOptions,
    onProgress: ((p: EmbedProgress) => void) | undefined,
    priority: Priority,
  ): Promise<Float32Array> {
    const loaded = this.require();
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) {
      throw new RouterRetrieverError('INVALID_INPUT', 'Texts must be an array of strings.');
    }
    this.feedsFor(expert); // validates the expert name up front
    this.counters.calls++;
    this.counters.texts += texts.length;
    const { hidden } = loaded.config;
    const maxLength = Math.min(options.maxLength ?? loaded.config.maxLength, loaded.config.maxLength);
    if (!(maxLength >= 2)) throw new RouterRetrieverError('INVALID_INPUT', `maxLength must be at least 2 (room for [CLS] and [SEP]), got ${options.maxLength}.`);
    const jobId = options.jobId;
    const ids = texts.map((t) => loaded.tokenizer.encode(t, maxLength).inputIds);
    const plan = planBatches(
      ids.map((x) => x.length),
      { batchSize: options.batchSize ?? 32, maxTokens: MAX_TOKENS_PER_BATCH },
    );
    const out = new Float32Array(texts.length * hidden);
    const t0 = performance.now();
    let done = 0;
    try {
      for (const batch of plan) {
        if (jobId !== undefined && this.cancelled.has(jobId)) {
          throw new RouterRetrieverError('CANCELLED', `Embedding job ${jobId} was cancelled after ${done} of ${texts.length} texts.`, { done });
        }
        const emb = await this.queue.run(priority, () => {
          const rt = this.require().runtime;
          return this.runBatch(rt, this.feedsFor(expert), batch.indices.map((i) => ids[i]), batch.seqLen, hidden);
        });
        batch.indices.forEach((row, j) => out.set(emb.subarray(j * hidden, (j + 1) * hidden), row * hidden));
        done += batch.indices.length;
        onProgress?.(progressOf(done, texts.length, performance.now() - t0));
      }
    } finally {
      if (jobId !== undefined) this.cancelled.delete(jobId);
    }
    return out;
  }

  private async runBatch(rt: Runtime, weightFeeds: Record<string, ort.Tensor>, rows: number[][], seqLen: number, hidden: number): Promise<Float32Array> {
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
      throw new RouterRetrieverError('BACKEND', `Inference failed on ${rt.backend}: ${(e as Error).message}. Try smaller batches or device: 'wasm'.`, { backend: rt.backend });
    } finally {
      this.counters.inferenceMs += performance.now() - t0;
    }
    const t = result.embeddings;
    const data = (t.location === 'cpu' ? t.data : await t.getData()) as Float32Array;
    const copy = data.slice(0, b * hidden);
    t.dispose();
    return copy;
  }

  async cancel(jobId: string): Promise<void> {
    this.cancelled.add(jobId);
  }

  async info(): Promise<ModelInfo> {
    return { ...this.require().info };
  }

  async stats(): Promise<EncoderStats> {
    return { ...this.counters };
  }

  async dispose(): Promise<void> {
    for (const e of this.experts.values()) e.feeds.release();
    this.experts.clear();
    if (this.loaded) {
      const rt = this.loaded.runtime;
      this.loaded = null;
      await this.releaseRuntime(rt);
    }
  }
}

/**
 * Base weights as If-branch constants on CPU backends (pre-packed, never copied per run); on
 * WebGPU every target stays a plain input fed from GPU buffers, since If would run on the CPU.
 */
export function usesBaseBranches(backend: Backend): boolean {
  return backend !== 'webgpu';
}

function feedMapOf(set: FeedSet): Record<string, ort.Tensor> {
  const m: Record<string, ort.Tensor> = {};
  for (const [k, f] of set.feeds) m[k] = f.tensor;
  return m;
}
