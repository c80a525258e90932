import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/** The SDK as an ES library: dist/lib/index.js plus the encoder worker chunk. */
export default defineConfig({
  publicDir: false,
  worker: { format: 'es' },
  build: {
    outDir: 'dist/lib',
    target: 'es2022',
    emptyOutDir: true,
    lib: { entry: resolve(import.meta.dirname, 'src/index.ts'), formats: ['es'], fileName: 'index' },
    rollupOptions: { external: ['onnxruntime-web', 'comlink', 'idb'] },
  },
});
