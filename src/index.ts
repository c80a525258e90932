/**
 * `router-retriever-web`: the browser SDK. Importing it has no side effects: the encoder worker
 * starts on RouterRetriever.open() (or new EncoderClient()), and <router-search> is defined only
 * by the `router-retriever-web/widget` entry (src/widget.ts).
 */
export {
  RouterRetriever,
  DEFAULT_SLICE,
  INT8_AUTO_THRESHOLD,
  FUSION_DEPTH,
  type RouterIndexOptions,
  type BuildPilotOptions,
  type ImportCollectionOptions,
  type PrebuiltResult,
} from './router-retriever.js';
export type { PilotWeighting } from './router/pilots.js';
export { DEFAULT_LEXICAL_WEIGHT, DEFAULT_LEXICAL_WEIGHT_BASE, DEFAULT_FUSION } from './hybrid/fusion-json.js';
export { LEXICAL_DEFAULTS } from './lexical/lexical-index.js';
export { EncoderClient, startEncoderWorker } from './encoder-client.js';
export { RouterRetrieverError, isRouterRetrieverError, type ErrorCode } from './boundary/errors.js';
export type * from './types.js';
export { RemoteVectorIndex } from './retriever/remote-index.js';
export type { DenseIndex, DenseDoc, DenseSearchOptions } from './retriever/dense-index.js';
