/**
 * Choosing a backend: a tiny pure resolver plus the one browser probe it needs.
 * The probe runs BEFORE any onnxruntime session exists, because a failed WebGPU
 * session can poison later sessions in the same worker.
 */
import { RouterRetrieverError } from '../../src/boundary/errors.js';
import type { Backend, DeviceRequest } from '../../src/boundary/encoder-api.js';

export interface WebGpuProbe {
  /** An adapter was returned by navigator.gpu.requestAdapter(). */
  available: boolean;
  /** Human-readable description: vendor/architecture, or why there is none. */
  detail: string;
  /** Software adapter (SwiftShader): correct but slow. */
  isFallbackAdapter?: boolean;
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

interface MinimalGpuAdapter {
  info?: { vendor?: string; architecture?: string; description?: string };
  isFallbackAdapter?: boolean;
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
    return { available: true, detail: isFallbackAdapter ? `${name}, software fallback` : name, isFallbackAdapter };
  } catch (e) {
    return { available: false, detail: `requestAdapter failed: ${(e as Error).message}` };
  }
}
