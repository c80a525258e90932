export type { VectorChunk, Hit } from './types.js';
export { compareHits } from './types.js';
export { TopK } from './heap.js';
export { dot, dotRows, dotRowsInt8 } from './kernel.js';
export { searchChunks, searchChunksSync, yieldToEventLoop, type SearchOptions } from './topk.js';
export {
  quantizeChunk,
  quantizeVector,
  searchInt8,
  searchInt8Sync,
  type Int8Chunk,
  type Int8SearchOptions,
} from './int8.js';
export { SearchIndex, type SearchIndexOptions, type IndexSearchOptions } from './search-index.js';
export { wasmSimdSupported, relaxedDotSupported, DOTS_WASM } from './wasm-kernel.js';
export { Int8Index, type Int8IndexOptions, type Int8IndexSearchOptions } from './int8-index.js';
