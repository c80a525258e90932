import { resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

/**
 * The SDK as an ES library, one file per package entry: dist/lib/index.js (the browser SDK),
 * widget.js (defines <router-search>), node.js (the in-process encoder for Node), cli.js (the
 * `router-retriever` command) and
 * encoder.worker.js (+ shared chunks).
 *
 * Dependencies stay imports (onnxruntime-web, comlink, idb): the app's bundler resolves them and
 * serves onnxruntime-web's .wasm files. The worker is a second entry, and index.js starts it with
 * the literal `new Worker(new URL('./encoder.worker.js', import.meta.url), ...)` that app bundlers
 * (Vite, webpack 5) recognise, so the app bundles the worker with its own dependencies. Vite's lib
 * mode would otherwise inline the worker and each 14-28 MB .wasm as base64.
 */
const external = [/^onnxruntime-(web|node)(\/.*)?$/, 'comlink', 'idb', '@huggingface/tokenizers', /^node:/];
const WORKER_IN_SOURCE = "new URL('../workers/encoder.worker.ts', import.meta.url)";
const WORKER_IN_BUILD = "new URL('./encoder.worker.js', import.meta.url)";
const PLACEHOLDER = '__ROUTER_RETRIEVER_ENCODER_WORKER_URL__';

function workerAsEntry(): Plugin {
  return {
    name: 'router-retriever:worker-as-entry',
    enforce: 'pre',
    transform(code, id) {
      if (!id.endsWith('/src/encoder-client.ts')) return null;
      if (!code.includes(WORKER_IN_SOURCE)) this.error(`expected ${WORKER_IN_SOURCE} in ${id}`);
      return code.replace(WORKER_IN_SOURCE, PLACEHOLDER);
    },
    renderChunk(code) {
      return code.includes(PLACEHOLDER) ? code.replaceAll(PLACEHOLDER, WORKER_IN_BUILD) : null;
    },
  };
}

export default defineConfig({
  publicDir: false,
  plugins: [workerAsEntry()],
  build: {
    outDir: 'dist/lib',
    target: 'es2022',
    emptyOutDir: true,
    lib: {
      entry: {
        index: resolve(import.meta.dirname, 'src/index.ts'),
        widget: resolve(import.meta.dirname, 'src/widget.ts'),
        node: resolve(import.meta.dirname, 'src/node.ts'),
        // The command line (bin/router-retriever.js imports it); onnxruntime-node is loaded when present.
        cli: resolve(import.meta.dirname, 'src/cli/main.ts'),
        'encoder.worker': resolve(import.meta.dirname, 'workers/encoder.worker.ts'),
      },
      formats: ['es'],
    },
    rollupOptions: {
      external,
      // Every file in dist/lib itself, so that './encoder.worker.js' is right from any chunk.
      output: { entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
    },
  },
});
