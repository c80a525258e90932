/** Public entry of the SDK (browser). The in-process encoder for Node is in ./node.ts. */
export { RouterRetriever, DEFAULT_SLICE, INT8_AUTO_THRESHOLD, type RouterIndexOptions, type BuildPilotOptions, type ImportCollectionOptions } from './router-retriever.js';
export type { PilotWeighting } from './router/pilots.js';
export { EncoderClient, startEncoderWorker } from './encoder-client.js';
export { RouterRetrieverError, isRouterRetrieverError, type ErrorCode } from './boundary/errors.js';
export type * from './types.js';
export { RouterSearchElement, defineRouterSearch } from './widget/router-search.js';
