/** transformers.js' feature-extraction pipeline as the benches load it (bench/pages/encoder-bench.ts, load-bench.ts). */
export interface TjsConfig {
  /** env.localModelPath and the model id under it. */
  tjsRoot: string;
  tjsModel: string;
  /** onnxruntime-web dist folder of transformers.js' own onnxruntime-web. */
  tjsOrtDist: string;
  numThreads: number;
  device: 'wasm' | 'webgpu';
  /** q8 = onnx/model_quantized.onnx */
  dtype: 'fp32' | 'q8';
  /** Let transformers.js keep the model in its Cache API cache (default false: fetched on every load). */
  browserCache?: boolean;
}

/** transformers.js' feature-extraction pipeline on the bench model, with its own onnxruntime-web. */
export async function makeTjs(cfg: TjsConfig) {
  const { pipeline, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = cfg.tjsRoot;
  env.useBrowserCache = cfg.browserCache ?? false;
  (env as unknown as { useWasmCache?: boolean }).useWasmCache = false;
  // A shallow copy of transformers.js' own ort.env: .wasm is the same object as its onnxruntime-web's env.wasm.
  const onnx = env.backends.onnx as unknown as {
    wasm: { wasmPaths: unknown; numThreads: number; proxy: boolean };
    versions?: Record<string, string>;
  };
  onnx.wasm.wasmPaths = {
    mjs: `${cfg.tjsOrtDist}ort-wasm-simd-threaded.asyncify.mjs`,
    wasm: `${cfg.tjsOrtDist}ort-wasm-simd-threaded.asyncify.wasm`,
  };
  onnx.wasm.numThreads = cfg.numThreads;
  onnx.wasm.proxy = false;
  const extractor = await pipeline('feature-extraction', cfg.tjsModel, { device: cfg.device, dtype: cfg.dtype });
  return { extractor, onnx };
}
