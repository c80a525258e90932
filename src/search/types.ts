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
