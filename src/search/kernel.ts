/**
 * Dot-product kernels over row-major blocks. Four rows are processed together
 * so every query element loaded is reused four times, with two independent
 * accumulators per row (8 in all) to hide floating-point add latency. This
 * runs ~2x faster than the naive one-row loop in V8 (see bench/search.ts).
 * Accumulation is in float64 (JS numbers); results are written to `out`.
 */
export function dotRows(
  q: Float32Array,
  v: Float32Array,
  dim: number,
  row0: number,
  row1: number,
  out: Float64Array,
): void {
  const even = dim & ~1;
  let r = row0;
  for (; r + 4 <= row1; r += 4) {
    const o0 = r * dim;
    const o1 = o0 + dim;
    const o2 = o1 + dim;
    const o3 = o2 + dim;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    for (let j = 0; j < even; j += 2) {
      const x = q[j];
      const y = q[j + 1];
      s0 += x * v[o0 + j];
      s1 += x * v[o1 + j];
      s2 += x * v[o2 + j];
      s3 += x * v[o3 + j];
      t0 += y * v[o0 + j + 1];
      t1 += y * v[o1 + j + 1];
      t2 += y * v[o2 + j + 1];
      t3 += y * v[o3 + j + 1];
    }
    if (even !== dim) {
      const x = q[even];
      s0 += x * v[o0 + even];
      s1 += x * v[o1 + even];
      s2 += x * v[o2 + even];
      s3 += x * v[o3 + even];
    }
    out[r] = s0 + t0;
    out[r + 1] = s1 + t1;
    out[r + 2] = s2 + t2;
    out[r + 3] = s3 + t3;
  }
  for (; r < row1; r++) out[r] = dot(q, v, r * dim, dim);
}

/** Dot product of q with v[off .. off+dim), 4 accumulators. */
export function dot(q: Float32Array, v: Float32Array | Int8Array, off: number, dim: number): number {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  let j = 0;
  for (; j + 4 <= dim; j += 4) {
    a0 += q[j] * v[off + j];
    a1 += q[j + 1] * v[off + j + 1];
    a2 += q[j + 2] * v[off + j + 2];
    a3 += q[j + 3] * v[off + j + 3];
  }
  for (; j < dim; j++) a0 += q[j] * v[off + j];
  return (a0 + a1) + (a2 + a3);
}

/** Same as dotRows for int8 codes (the caller multiplies by the row scale). */
export function dotRowsInt8(
  q: Float32Array,
  v: Int8Array,
  dim: number,
  row0: number,
  row1: number,
  out: Float64Array,
): void {
  const even = dim & ~1;
  let r = row0;
  for (; r + 4 <= row1; r += 4) {
    const o0 = r * dim;
    const o1 = o0 + dim;
    const o2 = o1 + dim;
    const o3 = o2 + dim;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    for (let j = 0; j < even; j += 2) {
      const x = q[j];
      const y = q[j + 1];
      s0 += x * v[o0 + j];
      s1 += x * v[o1 + j];
      s2 += x * v[o2 + j];
      s3 += x * v[o3 + j];
      t0 += y * v[o0 + j + 1];
      t1 += y * v[o1 + j + 1];
      t2 += y * v[o2 + j + 1];
      t3 += y * v[o3 + j + 1];
    }
    if (even !== dim) {
      const x = q[even];
      s0 += x * v[o0 + even];
      s1 += x * v[o1 + even];
      s2 += x * v[o2 + even];
      s3 += x * v[o3 + even];
    }
    out[r] = s0 + t0;
    out[r + 1] = s1 + t1;
    out[r + 2] = s2 + t2;
    out[r + 3] = s3 + t3;
  }
  for (; r < row1; r++) out[r] = dot(q, v, r * dim, dim);
}
