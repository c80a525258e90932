/** Row-by-row comparisons of embedding matrices ([rows, dim], row-major), for benches. */

/** Cosine of each row of `a` with the same row of `b`. */
export function rowCosines(a: Float32Array, b: Float32Array, dim: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length / dim; i++) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let j = i * dim; j < (i + 1) * dim; j++) {
      dot += a[j] * b[j];
      na += a[j] * a[j];
      nb += b[j] * b[j];
    }
    out.push(dot / Math.sqrt(na * nb));
  }
  return out;
}

/** The largest element difference of two equal-length arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
