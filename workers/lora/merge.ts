/**
 * LoRA merge math (pure). The graph multiplies x @ Wt with Wt = [in, out], so merged matrices are
 * produced already transposed: Wt' = (W + scale * B @ A)^T.
 */
import { RouterRetrieverError } from '../../src/boundary/errors.js';
import type { F32Tensor } from '../model/tensor.js';

const TILE = 32;

/**
 * Cache-blocked transpose of a row-major [rows, cols] matrix into `dst` ([cols, rows]),
 * optionally multiplied by `scale`. Returns dst.
 */
export function transpose(
  src: Float32Array,
  rows: number,
  cols: number,
  dst: Float32Array = new Float32Array(rows * cols),
  scale = 1,
): Float32Array {
  if (src.length < rows * cols || dst.length < rows * cols) {
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      `transpose: ${rows}x${cols} does not fit arrays of ${src.length} / ${dst.length}.`,
    );
  }
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(r0 + TILE, rows);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(c0 + TILE, cols);
      if (scale === 1) {
        for (let r = r0; r < r1; r++) {
          const s = r * cols;
          for (let c = c0; c < c1; c++) dst[c * rows + r] = src[s + c];
        }
      } else {
        for (let r = r0; r < r1; r++) {
          const s = r * cols;
          for (let c = c0; c < c1; c++) dst[c * rows + r] = src[s + c] * scale;
        }
      }
    }
  }
  return dst;
}

function dims2(t: F32Tensor, what: string): [number, number] {
  if (t.shape.length !== 2 || t.data.length !== t.shape[0] * t.shape[1]) {
    throw new RouterRetrieverError(
      'ADAPTER_MISMATCH',
      `${what} must be a 2-D matrix, got shape [${t.shape.join(', ')}].`,
    );
  }
  return [t.shape[0], t.shape[1]];
}

/**
 * Adds scale * (B @ A)^T into `dst` ([in, out], row-major) in place:
 * dst[i, o] += scale * sum_k B[o, k] * A[k, i].
 */
export function addLoraDeltaTransposed(dst: Float32Array, A: F32Tensor, B: F32Tensor, scale: number): void {
  const [r, nIn] = dims2(A, 'lora_A');
  const [nOut, rB] = dims2(B, 'lora_B');
  if (rB !== r) {
    throw new RouterRetrieverError('ADAPTER_MISMATCH', `lora_B has rank ${rB} but lora_A has rank ${r}.`);
  }
  if (dst.length !== nIn * nOut) {
    throw new RouterRetrieverError(
      'ADAPTER_MISMATCH',
      `LoRA delta is ${nIn}x${nOut} but the weight has ${dst.length} elements.`,
    );
  }
  // Bt[k, o] = scale * B[o, k]: rows of Bt are contiguous over `out`, the inner loop below.
  const Bt = transpose(B.data, nOut, r, new Float32Array(r * nOut), scale);
  const a = A.data;
  let k = 0;
  // Four ranks at a time: one load/store of dst per four multiply-adds.
  for (; k + 4 <= r; k += 4) {
    const b0 = k * nOut;
    const b1 = b0 + nOut;
    const b2 = b1 + nOut;
    const b3 = b2 + nOut;
    for (let i = 0; i < nIn; i++) {
      const a0 = a[k * nIn + i];
      const a1 = a[(k + 1) * nIn + i];
      const a2 = a[(k + 2) * nIn + i];
      const a3 = a[(k + 3) * nIn + i];
      const d = i * nOut;
      for (let o = 0; o < nOut; o++) {
        dst[d + o] += a0 * Bt[b0 + o] + a1 * Bt[b1 + o] + a2 * Bt[b2 + o] + a3 * Bt[b3 + o];
      }
    }
  }
  for (; k < r; k++) {
    const b0 = k * nOut;
    for (let i = 0; i < nIn; i++) {
      const a0 = a[k * nIn + i];
      const d = i * nOut;
      for (let o = 0; o < nOut; o++) dst[d + o] += a0 * Bt[b0 + o];
    }
  }
}

/**
 * The merged weight, transposed for the graph: returns [in, out] = (W + scale * B @ A)^T.
 *
 * W is the base weight as stored: [out, in] for torch Linear, or [in, out] when
 * `fanInFanOut` (Conv1D-style storage; PEFT then adds (B @ A)^T and the stored matrix is already
 * the [in, out] layout the graph wants). A is [r, in], B is [out, r].
 */
export function mergedTransposed(
  W: F32Tensor,
  A: F32Tensor,
  B: F32Tensor,
  scale: number,
  fanInFanOut: boolean,
): Float32Array {
  const [w0, w1] = dims2(W, 'base weight');
  const [, nIn] = dims2(A, 'lora_A');
  const [nOut] = dims2(B, 'lora_B');
  const [expIn, expOut] = fanInFanOut ? [w0, w1] : [w1, w0];
  if (expIn !== nIn || expOut !== nOut) {
    throw new RouterRetrieverError(
      'ADAPTER_MISMATCH',
      `LoRA delta is [out ${nOut}, in ${nIn}] but the base weight [${w0}, ${w1}] has out ${expOut}, in ${expIn}` +
        (fanInFanOut ? ' (fan_in_fan_out)' : '') +
        '.',
    );
  }
  if (fanInFanOut) {
    const out = W.data.slice();
    if (scale !== 0) addLoraDeltaTransposed(out, A, B, scale);
    return out;
  }
  const rB = B.shape[1];
  if (A.shape[0] !== rB)
    throw new RouterRetrieverError('ADAPTER_MISMATCH', `lora_B has rank ${rB} but lora_A has rank ${A.shape[0]}.`);
  return fusedTransposeMerge(W.data, nOut, nIn, A.data, B.data, rB, scale);
}

/**
 * dst[i, o] = W[o, i] + sum_k A[k, i] * scale * B[o, k], in one pass over W: four output rows
 * (four input columns of W) at a time, so each W row segment and each B row is read once per block.
 */
function fusedTransposeMerge(
  W: Float32Array,
  nOut: number,
  nIn: number,
  A: Float32Array,
  B: Float32Array,
  r: number,
  scale: number,
): Float32Array {
  const dst = new Float32Array(nIn * nOut);
  const Bs = new Float32Array(nOut * r); // scale * B, [out, r]
  for (let x = 0; x < Bs.length; x++) Bs[x] = B[x] * scale;
  const a0 = new Float32Array(r);
  const a1 = new Float32Array(r);
  const a2 = new Float32Array(r);
  const a3 = new Float32Array(r);
  let i = 0;
  for (; i + 4 <= nIn; i += 4) {
    for (let k = 0; k < r; k++) {
      const b = k * nIn + i;
      a0[k] = A[b];
      a1[k] = A[b + 1];
      a2[k] = A[b + 2];
      a3[k] = A[b + 3];
    }
    const d0 = i * nOut;
    const d1 = d0 + nOut;
    const d2 = d1 + nOut;
    const d3 = d2 + nOut;
    for (let o = 0; o < nOut; o++) {
      const w = o * nIn + i;
      const bo = o * r;
      let s0 = W[w];
      let s1 = W[w + 1];
      let s2 = W[w + 2];
      let s3 = W[w + 3];
      for (let k = 0; k < r; k++) {
        const b = Bs[bo + k];
        s0 += a0[k] * b;
        s1 += a1[k] * b;
        s2 += a2[k] * b;
        s3 += a3[k] * b;
      }
      dst[d0 + o] = s0;
      dst[d1 + o] = s1;
      dst[d2 + o] = s2;
      dst[d3 + o] = s3;
    }
  }
  for (; i < nIn; i++) {
    for (let o = 0; o < nOut; o++) {
      let s = W[o * nIn + i];
      for (let k = 0; k < r; k++) s += A[k * nIn + i] * Bs[o * r + k];
      dst[i * nOut + o] = s;
    }
  }
  return dst;
}

/** The scale PEFT uses: lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora. */
export function loraScale(alpha: number, r: number, useRslora: boolean): number {
  return useRslora ? alpha / Math.sqrt(r) : alpha / r;
}
