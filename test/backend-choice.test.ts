import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveBackend } from '../workers/engine/device.js';
import { ortBuildFor, runningInNode, type OrtRuntime } from '../workers/engine/ort-builds.js';
import { EncoderEngine } from '../workers/engine/encoder-engine.js';
import { isRouterRetrieverError } from '../src/boundary/errors.js';
import { FIXTURES, folderSpec } from './helpers/fixtures.js';

describe('resolveBackend', () => {
  const gpu = { available: true, detail: 'SwiftShader, software fallback', isFallbackAdapter: true };
  const none = { available: false, detail: 'navigator.gpu is missing' };

  it('auto picks WebGPU only when an adapter exists, and says why', () => {
    expect(resolveBackend('auto', gpu)).toEqual({
      backend: 'webgpu',
      reason: 'auto: WebGPU adapter found (SwiftShader, software fallback)',
    });
    expect(resolveBackend('auto', none)).toEqual({
      backend: 'wasm',
      reason: 'auto: no WebGPU (navigator.gpu is missing), using WASM',
    });
  });

  it('forced wasm never needs the probe; forced webgpu without an adapter is a BACKEND error', () => {
    expect(resolveBackend('wasm', gpu).backend).toBe('wasm');
    let err: unknown;
    try {
      resolveBackend('webgpu', none);
    } catch (e) {
      err = e;
    }
    expect(isRouterRetrieverError(err) && err.code).toBe('BACKEND');
  });

  it('an unknown device is INVALID_INPUT', () => {
    expect(() => resolveBackend('cuda' as never, gpu)).toThrow(/Unknown device "cuda"/);
  });
});

describe('ortBuildFor', () => {
  it('a browser loads the plain WASM build for wasm and the JSEP build only for webgpu', () => {
    expect(ortBuildFor('wasm', false)).toBe('wasm');
    expect(ortBuildFor('webgpu', false)).toBe('webgpu');
  });

  it('Node always uses the package Node export', () => {
    expect(runningInNode()).toBe(true);
    expect(ortBuildFor('wasm', true)).toBe('node');
    expect(ortBuildFor('webgpu', true)).toBe('node');
  });

  it('EncoderEngine asks its loader for the backend it runs, once per session', async () => {
    const asked: string[] = [];
    const ort = (await import('onnxruntime-web')) as OrtRuntime;
    const engine = new EncoderEngine({
      ort: async (backend) => {
        asked.push(backend);
        return ort;
      },
    });
    await engine.load(folderSpec(join(FIXTURES, 'tiny-bert')), { device: 'wasm' });
    expect(asked).toEqual(['wasm']);
    await engine.dispose();
  });

  it('a loader that fails is a BACKEND error that says what to check', async () => {
    const engine = new EncoderEngine({ ort: async () => Promise.reject(new Error('404 ort.wasm.min.mjs')) });
    const err = await engine.load(folderSpec(join(FIXTURES, 'tiny-bert')), { device: 'wasm' }).catch((e: unknown) => e);
    expect(isRouterRetrieverError(err) && err.code).toBe('BACKEND');
    expect((err as Error).message).toMatch(/404 ort\.wasm\.min\.mjs.*serves onnxruntime-web's files/);
  });
});
