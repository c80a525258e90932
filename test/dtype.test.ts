import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRouterRetrieverError } from '../src/boundary/errors.js';
import { encoderBackend } from '../src/eval/dense.js';
import { parseArgs } from '../tools/eval/cli.js';
import { chooseDevice, type WebGpuProbe } from '../workers/engine/device.js';
import { BUILT_DTYPES, checkDtype, resolveDtype } from '../workers/engine/dtype.js';
import { EncoderEngine } from '../workers/engine/encoder-engine.js';
import { FIXTURES, folderSpec } from './helpers/fixtures.js';

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return isRouterRetrieverError(e) ? e.code : `not a RouterRetrieverError: ${String(e)}`;
  }
  return undefined;
};

describe('resolveDtype', () => {
  const all = ['fp32', 'fp16', 'q8'] as const;

  it("'auto' is q8 on WASM, fp16 on WebGPU with shader-f16, else fp32, and says why", () => {
    expect(resolveDtype('auto', 'wasm', false, all)).toEqual({ dtype: 'q8', reason: 'auto: q8 on WASM' });
    expect(resolveDtype('auto', 'wasm', true, all).dtype).toBe('q8');
    expect(resolveDtype('auto', 'webgpu', true, all)).toEqual({
      dtype: 'fp16',
      reason: 'auto: fp16 on WebGPU (adapter has shader-f16)',
    });
    expect(resolveDtype('auto', 'webgpu', false, all)).toEqual({
      dtype: 'fp32',
      reason: 'auto: WebGPU adapter without shader-f16, fp32',
    });
  });

  it('what this version builds: fp32 and q8, so auto on WebGPU stays fp32 and says so', () => {
    expect(BUILT_DTYPES).toEqual(['fp32', 'q8']);
    expect(resolveDtype('auto', 'wasm', false)).toEqual({ dtype: 'q8', reason: 'auto: q8 on WASM' });
    expect(resolveDtype('auto', 'webgpu', true)).toEqual({
      dtype: 'fp32',
      reason: 'auto: WebGPU adapter has shader-f16, but fp16 graphs are not built yet, fp32',
    });
    expect(resolveDtype('auto', 'wasm', false, ['fp32'])).toEqual({
      dtype: 'fp32',
      reason: 'auto: fp32 on WASM (q8 not available)',
    });
    expect(() => resolveDtype('fp16', 'webgpu', true)).toThrow(
      /dtype 'fp16' is not available.*use dtype 'fp32' or 'q8'/,
    );
  });

  it('an explicit dtype is kept, or is INVALID_INPUT where it cannot run', () => {
    expect(resolveDtype('fp32', 'webgpu', true, all)).toEqual({ dtype: 'fp32', reason: 'fp32 requested' });
    expect(resolveDtype('q8', 'wasm', false, all)).toEqual({ dtype: 'q8', reason: 'q8 requested' });
    expect(resolveDtype('fp16', 'webgpu', true, all)).toEqual({ dtype: 'fp16', reason: 'fp16 requested' });
    expect(codeOf(() => resolveDtype('q8', 'webgpu', true, all))).toBe('INVALID_INPUT');
    expect(() => resolveDtype('q8', 'webgpu', true, all)).toThrow(/runs on WASM only.*use device 'wasm'/);
    expect(codeOf(() => resolveDtype('fp16', 'wasm', true, all))).toBe('INVALID_INPUT');
    expect(() => resolveDtype('fp16', 'webgpu', false, all)).toThrow(/needs WebGPU with 'shader-f16'/);
  });

  it('an unknown dtype is INVALID_INPUT naming the choices', () => {
    expect(codeOf(() => checkDtype('int4'))).toBe('INVALID_INPUT');
    expect(() => resolveDtype('q4' as never, 'wasm', false)).toThrow(
      /Unknown dtype "q4": use 'auto', 'fp32', 'fp16' or 'q8'/,
    );
  });
});

describe('chooseDevice', () => {
  const gpuF16: WebGpuProbe = { available: true, detail: 'Acme GPU', shaderF16: true };
  const noGpu: WebGpuProbe = { available: false, detail: 'navigator.gpu is missing' };
  const probing = (p: WebGpuProbe, log: string[]) => async () => {
    log.push('probed');
    return p;
  };

  it("defaults to 'auto': fp32 on WebGPU (no fp16 graphs yet), q8 on WASM, and says it was the default", async () => {
    const log: string[] = [];
    expect(await chooseDevice(undefined, undefined, probing(gpuF16, log))).toEqual({
      backend: { backend: 'webgpu', reason: 'auto: WebGPU adapter found (Acme GPU)' },
      dtype: {
        dtype: 'fp32',
        reason: 'default auto: WebGPU adapter has shader-f16, but fp16 graphs are not built yet, fp32',
      },
    });
    expect((await chooseDevice('wasm', undefined, probing(gpuF16, log))).dtype).toEqual({
      dtype: 'q8',
      reason: 'default auto: q8 on WASM',
    });
    expect((await chooseDevice(undefined, undefined, probing(noGpu, log))).dtype.dtype).toBe('q8');
    expect(log).toEqual(['probed', 'probed']);
  });

  it("q8 with device 'auto' runs on WASM without probing WebGPU", async () => {
    const log: string[] = [];
    expect(await chooseDevice('auto', 'q8', probing(gpuF16, log))).toEqual({
      backend: { backend: 'wasm', reason: 'auto: dtype q8 runs on WASM' },
      dtype: { dtype: 'q8', reason: 'q8 requested' },
    });
    expect(log).toEqual([]);
  });

  it("dtype 'auto' follows the backend", async () => {
    expect((await chooseDevice('auto', 'auto', probing(noGpu, []))).dtype).toEqual({
      dtype: 'q8',
      reason: 'auto: q8 on WASM',
    });
    expect((await chooseDevice('auto', 'auto', probing(gpuF16, []))).dtype.dtype).toBe('fp32');
  });

  it("q8 with device 'webgpu' is INVALID_INPUT", async () => {
    const err = await chooseDevice('webgpu', 'q8', probing(gpuF16, [])).catch((e: unknown) => e);
    expect(isRouterRetrieverError(err, 'INVALID_INPUT')).toBe(true);
  });
});

describe('EncoderEngine reports the dtype beside the backend', () => {
  const model = () => folderSpec(join(FIXTURES, 'tiny-bert'));

  it.each([
    [undefined, 'q8', 'default auto: q8 on WASM'],
    ['fp32', 'fp32', 'fp32 requested'],
    ['q8', 'q8', 'q8 requested'],
    ['auto', 'q8', 'auto: q8 on WASM'],
  ] as const)('dtype %s on WASM: %s (%s)', async (dtype, expected, reason) => {
    const engine = new EncoderEngine();
    const info = await engine.load(model(), { device: 'wasm', ...(dtype ? { dtype } : {}) });
    expect(info).toMatchObject({
      backend: 'wasm',
      backendReason: 'wasm requested',
      dtype: expected,
      dtypeReason: reason,
    });
    // onnxruntime's default thread count, resolved at load (at least 1; half the cores in Node).
    expect(Number.isInteger(info.threads) && info.threads >= 1).toBe(true);
    await engine.dispose();
  });

  it('reports the threads asked for', async () => {
    const engine = new EncoderEngine();
    expect((await engine.load(model(), { device: 'wasm', numThreads: 1 })).threads).toBe(1);
    await engine.dispose();
  });

  it('a bad dtype fails the load with INVALID_INPUT naming the choices', async () => {
    const engine = new EncoderEngine();
    const err = await engine.load(model(), { device: 'wasm', dtype: 'int8' as never }).catch((e: unknown) => e);
    expect(isRouterRetrieverError(err, 'INVALID_INPUT')).toBe(true);
    expect((err as Error).message).toMatch(/Unknown dtype "int8"/);
  });
});

describe('the eval at another dtype', () => {
  it('--dtype picks the encoder precision (default fp32) and rejects others', () => {
    expect(parseArgs(['--data', 'd']).dtype).toBe('fp32');
    expect(parseArgs(['--data', 'd', '--dtype', 'q8']).dtype).toBe('q8');
    expect(() => parseArgs(['--data', 'd', '--dtype', 'fp64'])).toThrow(/--dtype/);
  });

  it('caches q8 document vectors apart from fp32 ones (fp32 keys unchanged)', () => {
    const info = { fingerprint: 'abc', pooling: 'mean', normalize: false, maxLength: 512, dim: 4 } as const;
    const enc = { embedDocuments: async () => new Float32Array(), embedQueries: async () => new Float32Array() };
    const fp32 = encoderBackend(enc, { ...info, dtype: 'fp32' } as never).fingerprint;
    const q8 = encoderBackend(enc, { ...info, dtype: 'q8' } as never).fingerprint;
    expect(fp32).toBe('abc:mean:raw:len512');
    expect(q8).toBe('abc:mean:raw:len512:q8r'); // per-row activation scales; ':q8' was per batch
  });
});
