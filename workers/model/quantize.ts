/**
 * Int8 quantization math for the q8 encoder, pure. Weights are quantized offline (at load),
 * symmetric int8 (zero point 0) with one scale per output column or per tensor; activations are
 * quantized per run, per row (token), symmetric in uint8 around a zero point of 128
 * (`rowQuantize` restates the graph's rule for tests). A q8 linear layer is then
 *   y = float(MatMulInteger(xq, Wq, 128)) * w_scale[col] * x_scale[row] + bias.
 *
 * Rounding is half to even everywhere, as ONNX specifies and numpy's rint does, so the goldens
 * in test/fixtures/q8-golden.json (written by tools/reference/q8_reference.py) match exactly.
 */

export type QuantAxis = 'per-column' | 'per-tensor';

export interface QuantizedMatrix {
  /** [rows, cols] row-major, the same layout as the float input. */
  data: Int8Array;
  /** One scale per column (per-column) or one (per-tensor): w ~= data * scale. */
  scale: Float32Array;
}

/** Round half to even (ONNX QuantizeLinear, numpy.rint). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds halves up; a half that landed on an odd integer goes back down.
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Symmetric int8 quantization of a [rows, cols] float matrix (the TRANSPOSED Linear weight,
 * [in, out], so a column is an output channel). Levels -127..127: the symmetric range keeps
 * q * -1 representable and matches what onnxruntime's quantizer writes for int8 weights.
 * An all-zero column gets scale 1 (its levels are all 0 either way).
 */
export function quantizeWeights(w: Float32Array, rows: number, cols: number, axis: QuantAxis): QuantizedMatrix {
  if (w.length !== rows * cols) throw new RangeError(`quantizeWeights: ${w.length} values for [${rows}, ${cols}]`);
  const nScale = axis === 'per-column' ? cols : 1;
  const maxAbs = new Float32Array(nScale);
  for (let i = 0; i < rows; i++) {
    const row = i * cols;
    for (let j = 0; j < cols; j++) {
      const a = Math.abs(w[row + j]);
      const k = axis === 'per-column' ? j : 0;
      if (a > maxAbs[k]) maxAbs[k] = a;
    }
  }
  const scale = new Float32Array(nScale);
  for (let k = 0; k < nScale; k++) scale[k] = maxAbs[k] > 0 ? maxAbs[k] / 127 : 1;
  const data = new Int8Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const row = i * cols;
    for (let j = 0; j < cols; j++) {
      // Divide in float32, as the reference does, so that ties land where numpy's do.
      const q = roundHalfEven(Math.fround(w[row + j] / scale[axis === 'per-column' ? j : 0]));
      data[row + j] = Math.min(127, Math.max(-127, q));
    }
  }
  return { data, scale };
}

/** data * scale back to float: what the q8 graph multiplies by, for error checks. */
export function dequantizeWeights(q: QuantizedMatrix, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const perColumn = q.scale.length === cols && cols !== 1;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[i * cols + j] = q.data[i * cols + j] * q.scale[perColumn ? j : 0];
  }
  return out;
}

/** The uint8 level of 0 in a quantized activation row: levels 1..255 are -127..127 steps. */
export const ROW_ZERO_POINT = 128;

export interface RowQuantized {
  /** [m, k] uint8 levels around ROW_ZERO_POINT. */
  data: Uint8Array;
  /** One scale per row: max |x| / 127 (an all-zero row: 1e-30 / 127). */
  scale: Float32Array;
}

/**
 * Each row (token) of x [m, k] quantized on its own, symmetric, as the q8 graph does it
 * (./q8-graph.ts): scale = max |x| / 127, level = rint((x + 128 scale) / scale) in 0..255, all
 * in float32 as the graph computes it. A text's vector then depends on that text only, never on
 * the texts batched with it or on their padding.
 */
export function rowQuantize(x: Float32Array, m: number, k: number): RowQuantized {
  if (x.length !== m * k) throw new RangeError(`rowQuantize: ${x.length} values for [${m}, ${k}]`);
  const data = new Uint8Array(m * k);
  const scale = new Float32Array(m);
  for (let i = 0; i < m; i++) {
    let amax = 0;
    for (let j = i * k; j < (i + 1) * k; j++) amax = Math.max(amax, Math.abs(x[j]));
    const s = Math.fround(Math.max(amax, Math.fround(1e-30)) / 127);
    const shift = Math.fround(s * ROW_ZERO_POINT);
    for (let j = i * k; j < (i + 1) * k; j++) {
      data[j] = Math.min(255, Math.max(0, roundHalfEven(Math.fround(Math.fround(x[j] + shift) / s))));
    }
    scale[i] = s;
  }
  return { data, scale };
}

/**
 * The q8 linear layer in float64 on quantized inputs: x [m, k] times w [k, n] as the graph
 * computes it (uint8 x per row, int8 w, integer sums, then the scales). For tests.
 */
export function q8MatMul(x: Float32Array, m: number, k: number, w: QuantizedMatrix, n: number): Float64Array {
  const xq = rowQuantize(x, m, k);
  const perColumn = w.scale.length === n && n !== 1;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let t = 0; t < k; t++) acc += (xq.data[i * k + t] - ROW_ZERO_POINT) * w.data[t * n + j];
      out[i * n + j] = acc * w.scale[perColumn ? j : 0] * xq.scale[i];
    }
  }
  return out;
}
