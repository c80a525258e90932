/**
 * Choosing a backend: a tiny pure resolver plus the one browser probe it needs.
 * The probe runs BEFORE any onnxruntime session exists, because a failed WebGPU
 * session can poison later sessions in the same worker.
 */
import { RouterRetrieverError } from '../../src/boundary/errors.js';
import type { Backend, DeviceRequest, DtypeRequest } from '../../src/boundary/encoder-api.js';
import { checkDtype, DEFAULT_DTYPE, deviceForDtype, type DtypeChoice, resolveDtype } from './dtype.js';

export interface WebGpuProbe {
  /** An adapter was returned by navigator.gpu.requestAdapter(). */
  available: boolean;
  /** Human-readable description: vendor/architecture, or why there is none. */
  detail: string;
  /** Software adapter (SwiftShader): correct but slow. */
  isFallbackAdapter?: boolean;
  /** The adapter lists the 'shader-f16' feature (what dtype 'fp16' needs). */
  shaderF16?: boolean;
}

export interface BackendChoice {
  backend: Backend;
  reason: string;
}

export function resolveBackend(requested: DeviceRequest, probe: WebGpuProbe): BackendChoice {
  switch (requested) {
    case 'wasm':
      return { backend: 'wasm', reason: 'wasm requested' };
    case 'webgpu':
      if (!probe.available) {
        throw new RouterRetrieverError(
          'BACKEND',
          `WebGPU was requested but is not available (${probe.detail}). Use device: 'auto' or 'wasm', or open the page in a browser with WebGPU enabled.`,
        );
      }
      return { backend: 'webgpu', reason: `webgpu requested: adapter ${probe.detail}` };
    case 'auto':
      return probe.available
        ? { backend: 'webgpu', reason: `auto: WebGPU adapter found (${probe.detail})` }
        : { backend: 'wasm', reason: `auto: no WebGPU (${probe.detail}), using WASM` };
    default:
      throw new RouterRetrieverError(
        'INVALID_INPUT',
        `Unknown device "${String(requested)}": use 'auto', 'webgpu' or 'wasm'.`,
      );
  }
}

/**
 * The backend and the dtype of a load: the dtype may pin the device (q8 runs on WASM), the
 * backend decides what 'auto' dtype means. Probes WebGPU only when the device may be WebGPU.
 */
export async function chooseDevice(
  device: DeviceRequest | undefined,
  dtype: DtypeRequest | undefined,
  probe: () => Promise<WebGpuProbe> = probeWebGpu,
): Promise<{ backend: BackendChoice; dtype: DtypeChoice }> {
  const dtypeRequest = checkDtype(dtype ?? DEFAULT_DTYPE);
  const pinned = deviceForDtype(device ?? 'auto', dtypeRequest);
  const found = pinned.device === 'wasm' ? { available: false, detail: 'not probed' } : await probe();
  const backend = resolveBackend(pinned.device, found);
  if (pinned.reason) backend.reason = pinned.reason;
  const chosen = resolveDtype(dtypeRequest, backend.backend, found.shaderF16 === true);
  if (dtype === undefined) chosen.reason = `default ${chosen.reason}`;
  return { backend, dtype: chosen };
}

interface MinimalGpuAdapter {
  info?: { vendor?: string; architecture?: string; description?: string };
  isFallbackAdapter?: boolean;
  features?: { has(name: string): boolean };
}

/** Asks navigator.gpu for an adapter; never throws. */
export async function probeWebGpu(): Promise<WebGpuProbe> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<MinimalGpuAdapter | null> } } })
    .navigator?.gpu;
  if (!gpu) return { available: false, detail: 'navigator.gpu is missing' };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { available: false, detail: 'navigator.gpu.requestAdapter() returned null' };
    const info = adapter.info ?? {};
    const isFallbackAdapter = Boolean(
      adapter.isFallbackAdapter ?? (info as { isFallbackAdapter?: boolean }).isFallbackAdapter,
    );
    const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unknown adapter';
    const shaderF16 = Boolean(adapter.features?.has('shader-f16'));
    return {
      available: true,
      detail: isFallbackAdapter ? `${name}, software fallback` : name,
      isFallbackAdapter,
      shaderF16,
    };
  } catch (e) {
    return { available: false, detail: `requestAdapter failed: ${(e as Error).message}` };
  }
}
