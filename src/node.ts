/** Node entry: the SDK plus the in-process encoder (onnxruntime-web on WASM), for tools and tests. */
export * from './index.js';
export { EncoderEngine } from '../workers/engine/encoder-engine.js';
