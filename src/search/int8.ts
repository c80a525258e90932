/**
 * int8 scalar quantization, PER-VECTOR symmetric scale:
 *   scale = max_i |x_i| / 127,  code_i = round(x_i / scale) in [-127, 127],  x_i ≈ code_i * scale.
 * Per-vector (not per-dimension) so each vector quantizes on its own: upserts
 * never need collection-wide statistics. A zero vector gets scale 0.
 * The approximate score is scale * (q · codes), computed with the float32 query.
 */
export function quantizeVector(
  x: Float32Array,
  codes: Int8Array,
  codeOffset: number,
  xOffset = 0,
  dim = x.length,
): number {
  let m = 0;
  for (let j = 0; j < dim; j++) {
    const a = Math.abs(x[xOffset + j]);
    if (a > m) m = a;
  }
  if (m === 0) {
    codes.fill(0, codeOffset, codeOffset + dim);
    return 0;
  }
  const inv = 127 / m;
  for (let j = 0; j < dim; j++) codes[codeOffset + j] = Math.round(x[xOffset + j] * inv);
  return m / 127;
}

/** The 7-bit query's bias: codes in [-63, 63] are stored as code + 64 in [1, 127]. */
export const QUERY_BIAS = 64;

/**
 * 7-bit symmetric query quantization for the int8 WASM kernel (int8-index.ts):
 * code_j = round(x_j / scale) in [-63, 63] with scale = max_j |x_j| / 63, written to
 * `out` as code_j + QUERY_BIAS (in [1, 127]: the non-negative "i7" operand of relaxed
 * SIMD's int8 dot product). Returns the scale (0 for a zero query, all codes then 64).
 */
export function quantizeQueryU7(x: Float32Array, out: Uint8Array, dim = x.length): number {
  let m = 0;
  for (let j = 0; j < dim; j++) {
    const a = Math.abs(x[j]);
    if (a > m) m = a;
  }
  if (m === 0) {
    out.fill(QUERY_BIAS, 0, dim);
    return 0;
  }
  const inv = 63 / m;
  for (let j = 0; j < dim; j++) out[j] = Math.round(x[j] * inv) + QUERY_BIAS;
  return m / 63;
}

/** Sum of codes[off .. off + dim). */
export function codeSum(codes: Int8Array, off: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += codes[off + j];
  return s;
}
