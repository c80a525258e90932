/**
 * The in-memory searchable copy of a collection's vectors (row = store slot): float32
 * (SearchIndex) or int8 (Int8Index, keeping the float32 rows for exact rescoring).
 */
import { Int8Index } from './int8-index.js';
import { SearchIndex } from './search-index.js';
import type { VectorChunk, VectorIndex } from './types.js';

/** Builds the index from CollectionStore.loadAll() chunks; row r of the result = store slot r. */
export function buildVectorIndex(
  chunks: readonly VectorChunk[],
  dim: number,
  dtype: 'float32' | 'int8',
  chunkSize: number,
): VectorIndex {
  if (dtype === 'float32') return SearchIndex.fromChunks(chunks, dim);
  return Int8Index.fromChunks(chunks, dim, { floatBlock: chunkSize });
}
