import { RouterRetrieverError } from '../boundary/errors.js';

/** Dot product in float64. */
export function dot64(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Throws INVALID_INPUT unless v is a Float32Array of `dim` finite numbers. */
export function checkVector(v: unknown, dim: number | undefined, what: string): Float32Array {
  if (!(v instanceof Float32Array)) {
    throw new RouterRetrieverError('INVALID_INPUT', `${what} must be a Float32Array.`);
  }
  if (dim !== undefined && v.length !== dim) {
    throw new RouterRetrieverError('INVALID_INPUT', `${what} has ${v.length} dimensions, expected ${dim}.`, {
      got: v.length,
      expected: dim,
    });
  }
  if (v.length === 0) throw new RouterRetrieverError('INVALID_INPUT', `${what} is empty.`);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) {
      throw new RouterRetrieverError('INVALID_INPUT', `${what} has a non-finite value at index ${i}.`);
    }
  }
  return v;
}
