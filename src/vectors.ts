/**
 * The one vector check of the SDK: documents' vectors (store), query embeddings (search,
 * routing), pilot embeddings and index rows all go through checkVector, so every bad vector
 * is the same INVALID_INPUT error, found before anything is written.
 */
import { RouterRetrieverError } from './boundary/errors.js';

/** expert name -> its pilot embeddings (base-encoder space). Insertion order = expert order. */
export type PilotLibrary = Map<string, Float32Array[]>;

/** Dot product in float64. */
export function dot64(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Throws INVALID_INPUT unless v is a non-empty Float32Array of `dim` finite numbers.
 * `what` names the vector in the message; `hint` (optional) says what to do about a wrong dim.
 */
export function checkVector(v: unknown, dim: number | undefined, what: string, hint = ''): Float32Array {
  if (!(v instanceof Float32Array)) {
    throw new RouterRetrieverError('INVALID_INPUT', `${what} must be a Float32Array.`);
  }
  if (dim !== undefined && v.length !== dim) {
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      `${what} has ${v.length} dimensions, expected ${dim}.${hint ? ` ${hint}` : ''}`,
      {
        got: v.length,
        expected: dim,
      },
    );
  }
  if (v.length === 0) throw new RouterRetrieverError('INVALID_INPUT', `${what} is empty.`);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) {
      throw new RouterRetrieverError('INVALID_INPUT', `${what} has a non-finite value at index ${i}.`);
    }
  }
  return v;
}

/** Rows of an n x dim flat array as views (no copy). */
export function rowsOf(flat: Float32Array, dim: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let i = 0; i < flat.length / dim; i++) out.push(flat.subarray(i * dim, (i + 1) * dim));
  return out;
}
