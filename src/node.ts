/**
 * `router-retriever-web/node`: for Node tools and servers, importable with no DOM. It has the
 * SDK's DOM-free parts (RouterRetriever with `{ encoder }`, errors, types) and EncoderEngine,
 * the encoder running in-process on onnxruntime-web's WASM backend (the same code as the
 * browser's worker).
 */
export * from './index.js';
export { EncoderEngine } from '../workers/engine/encoder-engine.js';
export type { EngineOptions, OrtRuntime } from '../workers/engine/encoder-engine.js';
