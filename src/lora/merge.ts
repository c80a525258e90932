/**
 * LoRA merge math (pure). The graph multiplies x @ Wt with Wt = [in, out], so merged matrices are
 * produced already transposed: Wt' = (W + scale * B @ A)^T.
 */
import { RouterRetrieverError } from '../errors';
import type { F32Tensor } from '../model/tensor';

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
    throw new RouterRetrieverError('INVALID_INPUT', `transpose: ${rows}x${cols} does not fit arrays of ${src.length} / ${dst.length}.`);
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
    throw new RouterRetrieverError('ADAPTER_MISMATCH', `${what} must be a 2-D matrix, got shape [${t.shape.join(', ')}].`);
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
    throw new RouterRetrieverError('ADAPTER_MISMATCH', `LoRA delta is ${nIn}x${nOut} but the weight has ${dst.length} elements.`);
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
        (fanInFanOut ? ' (fan_in_fan_out)' : '') + '.',
    );
  }
  const out = fanInFanOut ? W.data.slice() : transpose(W.data, w0, w1);
  if (scale !== 0) addLoraDeltaTransposed(out, A, B, scale);
  return out;
}

/** The scale PEFT uses: lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora. */
export function loraScale(alpha: number, r: number, useRslora: boolean): number {
  return useRslora ? alpha / Math.sqrt(r) : alpha / r;
}
