import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/**
 * The SDK as an ES library: dist/lib/index.js plus the encoder worker chunk. Dependencies stay
 * external in both, so the app's bundler resolves onnxruntime-web and serves its .wasm files
 * (lib mode would otherwise inline each ~14-28 MB binary into the chunk as base64).
 */
const external = [/^onnxruntime-web(\/.*)?$/, 'comlink', 'idb'];

export default defineConfig({
  publicDir: false,
  // Relative URLs: the worker chunk is found next to index.js wherever the app serves it.
  base: './',
  worker: { format: 'es', rollupOptions: { external } },
  build: {
    outDir: 'dist/lib',
    target: 'es2022',
    emptyOutDir: true,
    lib: { entry: resolve(import.meta.dirname, 'src/index.ts'), formats: ['es'], fileName: 'index' },
    rollupOptions: { external },
  },
});
