import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// Cross-origin isolation lets onnxruntime-web use multi-threaded WASM.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** The demo app (playground + widget page). The SDK library build is vite.lib.config.ts. */
export default defineConfig({
  root: '.',
  publicDir: 'public',
  server: { headers: isolation, host: '127.0.0.1', port: 5173 },
  preview: { headers: isolation, host: '127.0.0.1', port: 4173 },
  // onnxruntime-web's builds are served as they are (their .wasm files sit next to them).
  optimizeDeps: { exclude: ['onnxruntime-web', 'onnxruntime-web/wasm'] },
  worker: { format: 'es' },
  build: {
    outDir: 'dist/demo',
    target: 'es2022',
    rollupOptions: {
      input: {
        index: resolve(import.meta.dirname, 'index.html'),
        demo: resolve(import.meta.dirname, 'demo/index.html'),
        widget: resolve(import.meta.dirname, 'demo/widget.html'),
      },
    },
  },
});
