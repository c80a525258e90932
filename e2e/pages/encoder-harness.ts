/** Exposes the SDK's encoder client to Playwright as window.harness. */
import { EncoderClient } from '../../src/encoder-client';
import { isRouterRetrieverError } from '../../src/errors';

const w = window as unknown as Record<string, unknown>;
w.harness = {
  EncoderClient,
  isRouterRetrieverError,
  async probe() {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    const adapter = gpu ? await gpu.requestAdapter() : null;
    return { hasGpu: Boolean(gpu), hasAdapter: Boolean(adapter), isolated: self.crossOriginIsolated };
  },
};
w.harnessReady = true;
