/**
 * `router-retriever-web`: the browser SDK. Importing it has no side effects: the encoder worker
 * starts on RouterRetriever.open() (or new EncoderClient()), and <router-search> is defined only
 * by the `router-retriever-web/widget` entry (src/widget.ts).
 */
export {
  RouterRetriever,
  DEFAULT_SLICE,
  INT8_AUTO_THRESHOLD,
  type RouterIndexOptions,
  type BuildPilotOptions,
  type ImportCollectionOptions,
} from './router-retriever.js';
export type { PilotWeighting } from './router/pilots.js';
export { EncoderClient, startEncoderWorker } from './encoder-client.js';
export { RouterRetrieverError, isRouterRetrieverError, type ErrorCode } from './boundary/errors.js';
export type * from './types.js';
