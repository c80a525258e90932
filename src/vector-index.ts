/**
 * The in-memory searchable copy of a collection's vectors (row = store slot),
 * float32 (SearchIndex) or int8 (Int8Index + exact float rescoring).
 *
 * int8 mode keeps the float32 rows too (in plain JS memory, one array per store
 * chunk) for the exact rescoring of the int8 candidates: the scan reads 4x fewer
 * bytes, memory use is 1.25x the float32 size.
 */
import { Int8Index } from './search/int8-index.js';
import { SearchIndex } from './search/search-index.js';
import type { Hit, VectorChunk } from './search/types.js';

export interface VectorIndex {
  readonly dim: number;
  readonly dtype: 'float32' | 'int8';
  readonly backend: string;
  /** Rows (slots), free ones included. */
  readonly rows: number;
  setRow(row: number, id: string | null, vector?: Float32Array): void;
  searchAsync(query: Float32Array, k: number, options?: { signal?: AbortSignal; sliceMs?: number }): Promise<Hit[]>;
}

/** What both adapters delegate to their index (SearchIndex or Int8Index). */
type RowIndex = Pick<SearchIndex, 'dim' | 'backend' | 'rows' | 'setRow'>;

abstract class DelegatingVectorIndex<I extends RowIndex> {
  constructor(protected readonly index: I) {}
  get dim(): number {
    return this.index.dim;
  }
  get backend(): string {
    return this.index.backend;
  }
  get rows(): number {
    return this.index.rows;
  }
  setRow(row: number, id: string | null, vector?: Float32Array): void {
    this.index.setRow(row, id, vector);
  }
}

class FloatVectorIndex extends DelegatingVectorIndex<SearchIndex> implements VectorIndex {
  readonly dtype = 'float32';
  searchAsync(query: Float32Array, k: number, options: { signal?: AbortSignal; sliceMs?: number } = {}): Promise<Hit[]> {
    return this.index.searchAsync(query, k, options);
  }
}

class Int8VectorIndex extends DelegatingVectorIndex<Int8Index> implements VectorIndex {
  readonly dtype = 'int8';
  /** float32 rows for rescoring, `block` rows per array. */
  private readonly floats: Float32Array[] = [];
  private readonly block: number;

  constructor(dim: number, block: number) {
    super(new Int8Index(dim));
    this.block = block;
  }
  override setRow(row: number, id: string | null, vector?: Float32Array): void {
    super.setRow(row, id, vector);
    const b = Math.floor(row / this.block);
    while (this.floats.length <= b) this.floats.push(new Float32Array(this.block * this.dim));
    const off = (row % this.block) * this.dim;
    if (id !== null && vector) this.floats[b].set(vector, off);
    else this.floats[b].fill(0, off, off + this.dim);
  }
  private rescore = (row: number): Float32Array => {
    const off = (row % this.block) * this.dim;
    return this.floats[Math.floor(row / this.block)].subarray(off, off + this.dim);
  };
  searchAsync(query: Float32Array, k: number, options: { signal?: AbortSignal; sliceMs?: number } = {}): Promise<Hit[]> {
    return this.index.searchAsync(query, k, { ...options, rescore: this.rescore });
  }
}

/** Builds the index from CollectionStore.loadAll() chunks; row r of the result = store slot r. */
export function buildVectorIndex(chunks: readonly VectorChunk[], dim: number, dtype: 'float32' | 'int8', chunkSize: number): VectorIndex {
  if (dtype === 'float32') return new FloatVectorIndex(SearchIndex.fromChunks(chunks, dim));
  const idx = new Int8VectorIndex(dim, chunkSize);
  let row = 0;
  for (const c of chunks) {
    for (let r = 0; r < c.ids.length; r++, row++) {
      const id = c.ids[r];
      if (id !== null) idx.setRow(row, id, c.vectors.subarray(r * dim, (r + 1) * dim));
    }
  }
  return idx;
}
