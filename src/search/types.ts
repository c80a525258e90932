/**
 * A block of document embeddings held as one contiguous Float32Array.
 * Row r occupies vectors[r*dim .. (r+1)*dim). `ids[r] === null` marks a free
 * slot (a deleted or not-yet-written row): search skips it.
 * The number of rows is `ids.length`; `vectors.length` must be >= ids.length*dim.
 */
export interface VectorChunk {
  dim: number;
  vectors: Float32Array;
  ids: ReadonlyArray<string | null>;
}

/** One search result. */
export interface Hit {
  id: string;
  score: number;
}

/**
 * Result order everywhere in the SDK: higher score first; equal scores by id in
 * ascending string (UTF-16 code unit) order, so results are deterministic.
 */
export function compareHits(a: Hit, b: Hit): number {
  if (a.score !== b.score) return b.score - a.score;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * What the query path searches: one index kind per file beside this (float32 SearchIndex,
 * int8 Int8Index). Rows are store slots; a row with id null is free and never returned.
 */
export interface VectorIndex {
  readonly dim: number;
  readonly dtype: 'float32' | 'int8';
  readonly backend: string;
  /** Rows (slots), free ones included. */
  readonly rows: number;
  setRow(row: number, id: string | null, vector?: Float32Array): void;
  /** Top-k by dot product, scanned in slices that yield (see ./scan.ts); with `mask`, among its rows only. */
  searchAsync(
    query: Float32Array,
    k: number,
    options?: { signal?: AbortSignal; sliceMs?: number; mask?: Uint8Array },
  ): Promise<Hit[]>;
}
