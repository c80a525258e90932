/**
 * Which onnxruntime build runs a backend. onnxruntime-web ships several builds of one API:
 * - 'wasm':   ort.wasm (ort-wasm-simd-threaded.wasm, 14 MB) — CPU only, the fastest to
 *             compile and the fastest cold (measured 1.7x the JSEP build on the first pass);
 * - 'webgpu': the package's main build (JSEP, ort-wasm-simd-threaded.jsep.wasm, 28 MB) —
 *             WebGPU plus its own WASM CPU provider. (onnxruntime-web/webgpu is the newer native
 *             WebGPU provider on an asyncify binary; it also passes our goldens on SwiftShader, but
 *             the JSEP provider is the package default and the one validated on real GPUs.)
 * - 'node':   the package's Node export, for tools and unit tests outside a browser.
 * A browser therefore downloads and compiles only the binary its backend needs.
 */
import type * as ortTypes from 'onnxruntime-web';
import type { Backend } from '../../src/boundary/encoder-api.js';

/** The onnxruntime JS API (every build, and onnxruntime-node, expose the same one). */
export type OrtRuntime = typeof ortTypes;
export type OrtBuild = 'wasm' | 'webgpu' | 'node';
/** Supplies the onnxruntime module for a backend. */
export type OrtLoader = (backend: Backend) => Promise<OrtRuntime>;

/** Pure resolver: the build for a backend in a given environment. */
export function ortBuildFor(backend: Backend, inNode: boolean): OrtBuild {
  if (inNode) return 'node';
  return backend === 'webgpu' ? 'webgpu' : 'wasm';
}

export function runningInNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return (
    typeof p?.versions?.node === 'string' && typeof (globalThis as { document?: unknown }).document === 'undefined'
  );
}

/** Imports a build. The literal specifiers let bundlers emit one chunk (and one .wasm) per build. */
export async function importOrtBuild(build: OrtBuild): Promise<OrtRuntime> {
  switch (build) {
    case 'wasm':
      return (await import('onnxruntime-web/wasm')) as unknown as OrtRuntime;
    case 'webgpu':
      return (await import('onnxruntime-web')) as unknown as OrtRuntime;
    case 'node': {
      // Node's require resolves the package's "node" export. It goes through
      // process.getBuiltinModule so that no bundler sees (and ships) a third build.
      const proc = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process;
      const mod = proc?.getBuiltinModule?.('node:module') as
        | { createRequire(url: string): (id: string) => unknown }
        | undefined;
      if (!mod)
        throw new Error(
          'this Node has no process.getBuiltinModule (Node >= 20.16 is needed), pass { ort } to EncoderEngine',
        );
      return mod.createRequire(import.meta.url)('onnxruntime-web') as OrtRuntime;
    }
  }
}

/** The default loader: the build each backend needs (import() and require() load a module once). */
export const defaultOrtLoader: OrtLoader = (backend) => importOrtBuild(ortBuildFor(backend, runningInNode()));
