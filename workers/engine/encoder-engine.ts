/**
 * EncoderEngine: the Contriever encoder on onnxruntime-web, with LoRA experts merged per
 * expert and kept resident as graph-input feeds. Implements EncoderApi in-process; the Web
 * Worker (workers/encoder.worker.ts) exposes it with comlink.
 */
import type * as ort from 'onnxruntime-web';
import { RouterRetrieverError } from '../../src/boundary/errors.js';
import { buildBertGraph } from '../model/bert-graph.js';
import type { BertConfig } from '../model/config.js';
import type { TextTokenizer } from '../tokenizer/tokenizer.js';
import type { StateDict } from '../model/tensor.js';
import { parseAdapterConfig, resolveAdapter, type ResolvedLora } from '../lora/adapter.js';
import type {
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
import { planBatches, progressTracker } from './batching.js';
import { chooseDevice } from './device.js';
import { openBaseGraph } from './base-graph.js';
import { checkCanary } from './canary.js';
import { BaseTargets } from './base-targets.js';
import { compareLayerKeys, f32, makeExpert, type Expert } from './experts.js';
import { loadAdapter, loadModelHead } from './model-files.js';
import { defaultOrtLoader, type OrtLoader, type OrtRuntime } from './ort-builds.js';
import { RunQueue, type Priority } from './run-queue.js';
import {
  createRuntime,
  releaseRuntime,
  runBatch,
  usesBaseBranches,
  type Runtime,
  type RuntimeSettings,
} from './runtime.js';

export { matchTargets } from './experts.js';
export { usesBaseBranches } from './runtime.js';

const DEFAULT_TARGETS = ['query', 'value'];
const MAX_TOKENS_PER_BATCH = 16_384;

interface Loaded {
  config: BertConfig;
  tokenizer: TextTokenizer;
  info: ModelInfo;
  options: LoadOptions;
  /** Original [out, in] base matrices of the current target set (read when first needed). */
  targets: BaseTargets;
  readWeights: () => Promise<StateDict>;
  runtime: Runtime;
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
    const head = await loadModelHead(model, options, onProgress);
    const { config } = head;
    const { backend: choice, dtype } = await chooseDevice(options.device, options.dtype);
    this.numThreads = options.numThreads;

    const request = {
      dtype: dtype.dtype === 'q8' ? ('q8' as const) : ('fp32' as const),
      baseBranches: this.baseBranches ?? usesBaseBranches(choice.backend),
      loraTargets: options.loraTargets ?? DEFAULT_TARGETS,
      cache: options.cache,
    };
    const opened = await openBaseGraph(
      head,
      request,
      {
        create: (g, targets) => {
          onProgress?.({ phase: 'session', message: `creating the ${choice.backend} session` });
          return createRuntime(g, choice.backend, targets, this.runtimeSettings());
        },
        release: releaseRuntime,
      },
      onProgress,
    );
    const { targets, graph } = opened;
    const warnings: string[] = [];
    let reason = choice.reason;
    let canaryMaxAbsDiff: number | undefined;
    let runtime = opened.runtime;
    if (runtime.backend === 'webgpu' && options.canary !== false) {
      onProgress?.({ phase: 'canary', message: 'checking WebGPU against WASM on a canary text' });
      const canary = await checkCanary(
        runtime,
        graph,
        targets,
        head.tokenizer,
        config,
        this.runtimeSettings(),
        (rt, ids) => this.runBatch(rt, rt.baseFeedMap, [ids], ids.length, config.hidden),
      );
      canaryMaxAbsDiff = canary.maxAbsDiff;
      runtime = canary.runtime;
      if (canary.dropped) {
        warnings.push(canary.dropped);
        reason = `${reason}; dropped: ${canary.dropped}`;
      }
    }

    const info: ModelInfo = {
      backend: runtime.backend,
      backendReason: reason,
      dtype: dtype.dtype,
      dtypeReason: dtype.reason,
      warnings,
      dim: config.hidden,
      layers: config.layers,
      maxLength: config.maxLength,
      pooling: config.pooling,
      normalize: config.normalize,
      fingerprint: opened.fingerprint,
      graphSource: opened.graphSource,
      graphReason: opened.graphReason,
      threads: this.numThreads ?? runtime.ort.env.wasm?.numThreads ?? 1,
      loadMs: performance.now() - t0,
      canaryMaxAbsDiff,
    };
    this.loaded = {
      config,
      tokenizer: head.tokenizer,
      info,
      options,
      targets,
      readWeights: opened.readWeights,
      runtime,
    };
    this.counters = { calls: 0, texts: 0, inferenceMs: 0 };
    onProgress?.({ phase: 'ready', message: `ready on ${runtime.backend}` });
    return info;
  }

  private runtimeSettings(): RuntimeSettings {
    return { ortFor: this.ortFor, cpuProvider: this.cpuProvider, numThreads: this.numThreads };
  }

  private require(): Loaded {
    if (!this.loaded)
      throw new RouterRetrieverError('NOT_READY', 'The encoder has no model: call load() first (and wait for it).');
    return this.loaded;
  }

  async addExpert(name: string, adapter: ModelSpec, onProgress?: (p: LoadProgress) => void): Promise<ExpertInfo> {
    const loaded = this.require();
    if (typeof name !== 'string' || name.trim() === '')
      throw new RouterRetrieverError('INVALID_INPUT', 'An expert needs a non-empty name.');
    const t0 = performance.now();
    const files = await loadAdapter(adapter, loaded.options.cache, onProgress);
    const config = parseAdapterConfig(files.configJson);
    // Shapes of every Linear weight the adapter could target are needed for validation.
    let base = await loaded.targets.matrices();
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
      onProgress?.({
        phase: 'build',
        message: `rebuilding the graph once so that ${missing.length} more weights can be switched per expert`,
      });
      await this.widenTargets(all, missing);
      base = await loaded.targets.matrices();
      shapes = new Map([...base].map(([k, v]) => [k, v.shape]));
    }
    const expert = makeExpert(name, loras, config.r, config.loraAlpha, performance.now() - t0, base, loaded.runtime);
    const old = this.experts.get(name);
    this.experts.set(name, expert);
    old?.feeds.release();
    expert.info.addMs = performance.now() - t0;
    return expert.info;
  }

  private async widenTargets(all: StateDict, extra: string[]): Promise<void> {
    const loaded = this.require();
    const known = await loaded.targets.matrices();
    const names = [...known.keys(), ...extra].sort(compareLayerKeys);
    const matrices = new Map(names.map((n) => [n, known.get(n) ?? f32(all, n)]));
    const targets = new BaseTargets(names, matrices);
    const graph = buildBertGraph(loaded.config, (n) => f32(all, n), {
      weightInputs: names,
      baseBranches: loaded.runtime.baseBranches,
      dtype: loaded.runtime.dtype,
    });
    const runtime = await createRuntime(
      graph,
      loaded.runtime.backend,
      targets,
      this.runtimeSettings(),
      loaded.runtime.ort,
    );
    await releaseRuntime(loaded.runtime);
    loaded.runtime = runtime;
    loaded.targets = targets;
    for (const [name, e] of this.experts) {
      e.feeds.release();
      this.experts.set(name, makeExpert(name, e.loras, e.info.r, e.info.alpha, e.info.addMs, matrices, runtime));
    }
  }

  async removeExpert(name: string): Promise<void> {
    const e = this.experts.get(name);
    if (!e)
      throw new RouterRetrieverError(
        'NOT_FOUND',
        `No expert named "${name}". Registered: ${[...this.experts.keys()].join(', ') || 'none'}.`,
      );
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
    if (!e)
      throw new RouterRetrieverError(
        'NOT_FOUND',
        `No expert named "${expert}". Registered: ${[...this.experts.keys()].join(', ') || 'none'}. Add it with addExpert() first.`,
      );
    return e.feedMap;
  }

  async embedDocuments(
    texts: string[],
    options: EmbedOptions = {},
    onProgress?: (p: EmbedProgress) => void,
  ): Promise<Float32Array> {
    return this.embedMany(texts, null, options, onProgress, 'bulk');
  }

  async embedQueries(
    texts: string[],
    expert: string | null,
    options: EmbedOptions = {},
    onProgress?: (p: EmbedProgress) => void,
  ): Promise<Float32Array> {
    return this.embedMany(texts, expert, options, onProgress, 'bulk');
  }

  async embedQuery(text: string, expert: string | null): Promise<Float32Array> {
    const loaded = this.require();
    if (typeof text !== 'string') throw new RouterRetrieverError('INVALID_INPUT', 'embedQuery takes a string.');
    const feeds = this.feedsFor(expert);
    this.counters.calls++;
    this.counters.texts++;
    const ids = loaded.tokenizer.encode(text, loaded.config.maxLength).inputIds;
    return this.queue.run('interactive', () =>
      this.runBatch(loaded.runtime, feeds, [ids], ids.length, loaded.config.hidden),
    );
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
    if (!(maxLength >= 2))
      throw new RouterRetrieverError(
        'INVALID_INPUT',
        `maxLength must be at least 2 (room for [CLS] and [SEP]), got ${options.maxLength}.`,
      );
    const jobId = options.jobId;
    const ids = texts.map((t) => loaded.tokenizer.encode(t, maxLength).inputIds);
    const plan = planBatches(
      ids.map((x) => x.length),
      { batchSize: options.batchSize ?? 32, maxTokens: MAX_TOKENS_PER_BATCH },
    );
    const out = new Float32Array(texts.length * hidden);
    const progress = progressTracker(plan);
    let done = 0;
    try {
      for (const [b, batch] of plan.entries()) {
        if (jobId !== undefined && this.cancelled.has(jobId)) {
          throw new RouterRetrieverError(
            'CANCELLED',
            `Embedding job ${jobId} was cancelled after ${done} of ${texts.length} texts.`,
            { done },
          );
        }
        const emb = await this.queue.run(priority, () => {
          const rt = this.require().runtime;
          return this.runBatch(
            rt,
            this.feedsFor(expert),
            batch.indices.map((i) => ids[i]),
            batch.seqLen,
            hidden,
          );
        });
        batch.indices.forEach((row, j) => out.set(emb.subarray(j * hidden, (j + 1) * hidden), row * hidden));
        done += batch.indices.length;
        onProgress?.(progress(b));
      }
    } finally {
      if (jobId !== undefined) this.cancelled.delete(jobId);
    }
    return out;
  }

  private runBatch(
    rt: Runtime,
    weightFeeds: Record<string, ort.Tensor>,
    rows: number[][],
    seqLen: number,
    hidden: number,
  ): Promise<Float32Array> {
    return runBatch(rt, weightFeeds, rows, seqLen, hidden, this.counters);
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
      await releaseRuntime(rt);
    }
  }
}
