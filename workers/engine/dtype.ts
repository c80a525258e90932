/**
 * Choosing the encoder's precision: a tiny pure resolver, run after the backend is chosen
 * (./device.ts), reported beside it in ModelInfo (dtype, dtypeReason).
 *
 * 'auto' follows what transformers.js users get by default: int8 on WASM, where fp32 is at the
 * SIMD128 limit of a core (a BERT-base stack of the encoder's MatMuls: fp32 629 ms, dynamic
 * int8 248 ms, 1 thread), and fp16 on WebGPU when the adapter can run it.
 */
import { RouterRetrieverError } from '../../src/boundary/errors.js';
import type { Backend, DeviceRequest, Dtype, DtypeRequest } from '../../src/boundary/encoder-api.js';

export interface DtypeChoice {
  dtype: Dtype;
  reason: string;
}

/**
 * 'auto', as transformers.js does: q8 on WASM. It became the default once q8 activations were
 * scaled per token (./../model/q8-graph.ts), so that a text's vector no longer depends on its batch.
 */
export const DEFAULT_DTYPE: DtypeRequest = 'auto';

/** The precisions this build's graph builder emits. fp16 graphs are not built yet. */
export const BUILT_DTYPES: readonly Dtype[] = ['fp32', 'q8'];

const DTYPES: readonly string[] = ['auto', 'fp32', 'fp16', 'q8'];

/** Throws INVALID_INPUT for anything but 'auto' | 'fp32' | 'fp16' | 'q8'. */
export function checkDtype(requested: unknown): DtypeRequest {
  if (typeof requested === 'string' && DTYPES.includes(requested)) return requested as DtypeRequest;
  throw new RouterRetrieverError(
    'INVALID_INPUT',
    `Unknown dtype "${String(requested)}": use 'auto', 'fp32', 'fp16' or 'q8'.`,
    { dtype: requested },
  );
}

/**
 * q8 is a WASM precision (onnxruntime's WebGPU provider has no MatMulInteger): with device
 * 'auto' it skips the WebGPU probe; with device 'webgpu' it is an error (see resolveDtype).
 */
export function deviceForDtype(device: DeviceRequest, dtype: DtypeRequest): { device: DeviceRequest; reason?: string } {
  if (dtype === 'q8' && device === 'auto') return { device: 'wasm', reason: 'auto: dtype q8 runs on WASM' };
  return { device };
}

/**
 * The dtype for `requested` on `backend`. `shaderF16`: the WebGPU adapter lists 'shader-f16'.
 * `built`: the dtypes that can be emitted (BUILT_DTYPES; a parameter so the rule is tested apart
 * from what is built today).
 */
export function resolveDtype(
  requested: DtypeRequest,
  backend: Backend,
  shaderF16: boolean,
  built: readonly Dtype[] = BUILT_DTYPES,
): DtypeChoice {
  const notBuilt = (d: Dtype) =>
    new RouterRetrieverError(
      'INVALID_INPUT',
      `dtype '${d}' is not available in this version: use dtype 'fp32'${built.includes('q8') ? " or 'q8' (on WASM)" : ''}.`,
      { dtype: d },
    );
  switch (checkDtype(requested)) {
    case 'fp32':
      return { dtype: 'fp32', reason: 'fp32 requested' };
    case 'q8':
      if (backend !== 'wasm') {
        throw new RouterRetrieverError(
          'INVALID_INPUT',
          `dtype 'q8' runs on WASM only, but the backend is ${backend}: use device 'wasm' or 'auto' with it, or dtype 'auto'.`,
          { dtype: 'q8', backend },
        );
      }
      if (!built.includes('q8')) throw notBuilt('q8');
      return { dtype: 'q8', reason: 'q8 requested' };
    case 'fp16':
      if (backend !== 'webgpu' || !shaderF16) {
        throw new RouterRetrieverError(
          'INVALID_INPUT',
          `dtype 'fp16' needs WebGPU with 'shader-f16' (backend ${backend}${backend === 'webgpu' ? ', adapter without shader-f16' : ''}): use dtype 'auto' or 'fp32'.`,
          { dtype: 'fp16', backend, shaderF16 },
        );
      }
      if (!built.includes('fp16')) throw notBuilt('fp16');
      return { dtype: 'fp16', reason: 'fp16 requested' };
    default: {
      // 'auto'
      if (backend === 'wasm') {
        return built.includes('q8')
          ? { dtype: 'q8', reason: 'auto: q8 on WASM' }
          : { dtype: 'fp32', reason: 'auto: fp32 on WASM (q8 not available)' };
      }
      if (!shaderF16) return { dtype: 'fp32', reason: 'auto: WebGPU adapter without shader-f16, fp32' };
      return built.includes('fp16')
        ? { dtype: 'fp16', reason: 'auto: fp16 on WebGPU (adapter has shader-f16)' }
        : { dtype: 'fp32', reason: 'auto: WebGPU adapter has shader-f16, but fp16 graphs are not built yet, fp32' };
    }
  }
}
