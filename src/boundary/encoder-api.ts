/**
 * The worker boundary: one typed interface, exposed with comlink.
 *
 * The same interface is implemented in-process by EncoderEngine (Node CLIs, tests) and
 * across a Web Worker by the comlink proxy (src/encoder-client.ts). Float32Array results
 * are transferred, not copied, when they cross the worker boundary.
 */

/** What the caller asks for. 'auto' = WebGPU when an adapter exists, else WASM. */
export type DeviceRequest = 'auto' | 'webgpu' | 'wasm';
/** What actually runs. */
export type Backend = 'webgpu' | 'wasm';

/**
 * Precision of the encoder's matrix products. 'q8': dynamic int8 linear layers (WASM);
 * 'fp16': half precision (WebGPU with shader-f16); 'auto': q8 on WASM, fp16 on WebGPU when the
 * adapter has shader-f16, else fp32.
 */
export type DtypeRequest = 'auto' | 'fp32' | 'fp16' | 'q8';
/** The precision the encoder actually runs at. */
export type Dtype = 'fp32' | 'fp16' | 'q8';

/**
 * Where a model or adapter comes from:
 * - a string: a base URL or path of a folder in the Hugging Face layout (`/models/contriever-mini`,
 *   `https://example.org/models/x/`), or a Hub id (`facebook/contriever`);
 * - an object of files (picked by the user, or read from disk by a Node tool), keyed by file name
 *   (`config.json`, `model.safetensors`, `adapter_config.json`, ...).
 */
export type ModelSpec = string | { id?: string; files: Record<string, Blob | ArrayBuffer | Uint8Array> };

export interface LoadOptions {
  device?: DeviceRequest;
  /**
   * Precision of the linear layers (default 'fp32'). 'q8' quantizes the Linear weights to int8
   * at load time (per output column) and the activations per run; embeddings, LayerNorm,
   * softmax and pooling stay fp32. With device 'auto', 'q8' picks WASM.
   */
  dtype?: DtypeRequest;
  /** Override the pooling found in the model folder (default: mean, as Contriever). */
  pooling?: 'mean' | 'cls';
  /** Override L2 normalisation (default: off, as Contriever; on for models whose folder says so). */
  normalize?: boolean;
  /** Maximum tokens per text, at most the model's maximum (default: the model's, up to 512). */
  maxLength?: number;
  /** Cache API cache name for downloaded files; false disables caching. Default 'router-retriever-models'. */
  cache?: string | false;
  /** Linear modules whose weights experts may replace (default ['query', 'value'], PEFT's BERT default). */
  loraTargets?: string[];
  /**
   * WASM threads (needs cross-origin isolation in browsers). Default: onnxruntime's, half the
   * cores and at most 4 when the page is cross-origin isolated, else 1 (ModelInfo.threads says).
   */
  numThreads?: number;
  /** Check WebGPU against WASM on a canary text (default true). */
  canary?: boolean;
}

export interface LoadProgress {
  phase: 'download' | 'parse' | 'build' | 'session' | 'canary' | 'ready';
  file?: string;
  loaded?: number;
  total?: number | null;
  message?: string;
}

export interface ModelInfo {
  backend: Backend;
  /** Why this backend: e.g. 'auto: WebGPU adapter found (SwiftShader)', 'auto: no WebGPU adapter'. */
  backendReason: string;
  /** The precision the encoder runs at. */
  dtype: Dtype;
  /** Why this dtype: e.g. 'auto: q8 on WASM', 'fp32 requested'. */
  dtypeReason: string;
  warnings: string[];
  dim: number;
  layers: number;
  maxLength: number;
  pooling: 'mean' | 'cls';
  normalize: boolean;
  /** SHA-256 of config.json and the weights file: identifies the base model of an index. */
  fingerprint: string;
  /**
   * Where the ONNX graph came from: 'cache' (a graph this browser built on an earlier load of the
   * same cached weights, dtype and targets, kept in the Cache API) or 'build' (built from the
   * weights on this load).
   */
  graphSource: 'cache' | 'build';
  /** Why: e.g. 'cache: built 2025-… ; size and SHA-256 checked', 'build: cache: false', 'build: no cached graph …; stored for the next load'. */
  graphReason: string;
  /** The WASM threads onnxruntime runs with (LoadOptions.numThreads, or its default). */
  threads: number;
  loadMs: number;
  /** Canary check result when WebGPU was tried: max abs diff against WASM. */
  canaryMaxAbsDiff?: number;
}

export interface ExpertInfo {
  name: string;
  r: number;
  alpha: number;
  scale: number;
  targets: string[];
  /** Bytes held for this expert's merged matrices (GPU buffers on WebGPU, typed arrays on WASM). */
  residentBytes: number;
  /** Time to read, validate and merge the adapter. */
  addMs: number;
}

export interface EmbedProgress {
  done: number;
  total: number;
  docsPerSec: number;
  /** Seconds left at the current rate (null before the first batch finishes). */
  etaSec: number | null;
}

export interface EmbedOptions {
  /** Texts per batch (default 32). Texts are sorted by length into batches to keep padding small. */
  batchSize?: number;
  /** An id the caller can pass to cancel(jobId). */
  jobId?: string;
  /** Truncate these texts to this many tokens (at most the model's maximum), e.g. 256 for long documents. */
  maxLength?: number;
}

export interface EncoderStats {
  /** Calls of embedDocuments / embedQueries / embedQuery since load. */
  calls: number;
  /** Texts embedded since load. */
  texts: number;
  /** Milliseconds spent inside onnxruntime runs since load (the rest of a call's time is tokenising, queueing and, through the worker, messaging). */
  inferenceMs: number;
}

export interface EncoderApi {
  load(model: ModelSpec, options?: LoadOptions, onProgress?: (p: LoadProgress) => void): Promise<ModelInfo>;
  addExpert(name: string, adapter: ModelSpec, onProgress?: (p: LoadProgress) => void): Promise<ExpertInfo>;
  removeExpert(name: string): Promise<void>;
  listExperts(): Promise<ExpertInfo[]>;
  /** Documents with the base encoder: an n x dim row-major Float32Array, in input order. */
  embedDocuments(
    texts: string[],
    options?: EmbedOptions,
    onProgress?: (p: EmbedProgress) => void,
  ): Promise<Float32Array>;
  /** Many queries with one expert (null = base): n x dim, in input order. */
  embedQueries(
    texts: string[],
    expert: string | null,
    options?: EmbedOptions,
    onProgress?: (p: EmbedProgress) => void,
  ): Promise<Float32Array>;
  /** One query with an expert (null = base). */
  embedQuery(text: string, expert: string | null): Promise<Float32Array>;
  /** Cancel a running embedDocuments/embedQueries call started with this jobId. */
  cancel(jobId: string): Promise<void>;
  info(): Promise<ModelInfo>;
  stats(): Promise<EncoderStats>;
  dispose(): Promise<void>;
}
