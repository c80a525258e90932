/**
 * The SDK as npm users get it: `vite build --config vite.lib.config.ts` (dist/lib), then a
 * separate app (e2e/consumer-app) that imports 'router-retriever-web' is built with Vite and
 * served as static files. Its encoder worker must come out of the app's own bundle, fetch only
 * the plain WASM onnxruntime binary, and match the PyTorch goldens.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, test } from '@playwright/test';
import { build, preview, type PreviewServer } from 'vite';

const ROOT = resolve(import.meta.dirname, '..');
const APP = join(ROOT, 'e2e', 'consumer-app');
const OUT = join(ROOT, 'test-results', 'consumer-app-dist');
const golden = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'golden.json'), 'utf8')) as {
  texts: string[];
  embeddings: Record<string, number[][]>;
};
const DIM = golden.embeddings.base[0].length;

let server: PreviewServer | undefined;

test.describe('the library build in a third-party app', () => {
  // One browser project is enough: this is about packaging, the backends are covered elsewhere.
  test.skip(() => test.info().project.name !== 'wasm', 'packaging is checked once, in the wasm project');

  test.beforeAll(async () => {
    test.setTimeout(240_000);
    await build({ configFile: join(ROOT, 'vite.lib.config.ts'), root: ROOT, logLevel: 'warn' });
    await build({
      configFile: false,
      root: APP,
      logLevel: 'warn',
      publicDir: join(ROOT, 'test', 'fixtures'),
      // The package name resolves to the built files, as it would from node_modules.
      resolve: { alias: { 'router-retriever-web': join(ROOT, 'dist', 'lib', 'index.js') } },
      worker: { format: 'es' },
      build: { outDir: OUT, emptyOutDir: true, target: 'es2022' },
    });
    server = await preview({ configFile: false, root: APP, logLevel: 'warn', build: { outDir: OUT }, preview: { host: '127.0.0.1', port: 0 } });
  });

  test.afterAll(async () => {
    await server?.close();
  });

  test('the built SDK runs from the app bundle: one onnxruntime binary, golden embeddings', async ({ page }) => {
    const origin = server!.resolvedUrls!.local[0];
    const wasm: string[] = [];
    page.on('request', (r) => {
      const file = new URL(r.url()).pathname.split('/').pop() ?? '';
      if (file.endsWith('.wasm')) wasm.push(file);
    });
    await page.goto(origin);
    await page.waitForFunction(() => (window as unknown as { appReady?: boolean }).appReady === true);
    const texts = golden.texts.slice(0, 3);
    const out = await page.evaluate((t) => (window as unknown as { embed(t: string[]): Promise<{ backend: string; base: number[]; expert: number[] }> }).embed(t), texts);
    expect(out.backend).toBe('wasm');
    expect(wasm).toHaveLength(1);
    expect(wasm[0]).toMatch(/^ort-wasm-simd-threaded-[\w-]+\.wasm$/); // the app's hashed copy of the plain build
    for (const [key, values] of [['base', out.base], ['expert-a', out.expert]] as const) {
      let worst = 0;
      texts.forEach((_, i) => {
        for (let j = 0; j < DIM; j++) worst = Math.max(worst, Math.abs(values[i * DIM + j] - golden.embeddings[key][i][j]));
      });
      expect(worst, key).toBeLessThanOrEqual(1e-4);
    }
  });
});
