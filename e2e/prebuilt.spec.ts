/**
 * The playground on a prebuilt collection (built by the package's CLI, as `npm run demo` does):
 * a fresh browser context imports it into real IndexedDB without embedding one document in the
 * browser, answers a known query, and a reload imports nothing again. The time to the first
 * answer is printed, not bounded (npm run bench:first-search measures it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';

const ROOT = join(import.meta.dirname, '..');
const FILE = join(ROOT, 'public', 'demo-data', 'prebuilt', 'contriever-mini-tiny.rrc');
const meta = JSON.parse(readFileSync(join(ROOT, 'public', 'demo-data', 'queries.json'), 'utf8')) as {
  queries: { text: string; expected: Record<string, string> }[];
};
const known = meta.queries.find((q) => q.expected['contriever-mini'])!;
const N = String(
  readFileSync(join(ROOT, 'public', 'demo-data', 'sample-tiny.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean).length,
);

test.beforeAll(() => {
  test.setTimeout(180_000);
  // The build output `npm run demo` makes; made here when a plain `vite` serves the tests.
  if (!existsSync(FILE))
    execFileSync('npx', ['tsx', 'tools/build-demo-collections.ts', '--samples', 'tiny'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
});

test('the demo imports its prebuilt sample: no document embedded in the browser, known answer, nothing imported on reload', async ({
  page,
}, info) => {
  test.skip(
    info.project.name === 'webgpu',
    'SwiftShader runs the 6-layer model too slowly; the wasm project checks it',
  );
  test.setTimeout(240_000);
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && !m.text().includes('[W:onnxruntime:') && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('/demo/?preset=contriever-mini&sample=tiny&collection=e2e-prebuilt&device=wasm');
  await expect(page.locator('body')).toHaveAttribute('data-state', 'ready', { timeout: 180_000 });
  const ready = await page.evaluate(() => performance.now());
  await expect(page.locator('body')).toHaveAttribute('data-prebuilt', 'imported');
  await expect(page.locator('#coll-stats')).toHaveAttribute('data-documents', N);
  await expect(page.locator('#embed-counter')).toHaveAttribute('data-texts', '0');
  await expect(page.locator('#index-box')).toBeHidden();
  await page.getByLabel('Query', { exact: true }).fill(known.text);
  const top = page.locator('.column[data-mode="auto"] li.hit').first();
  await expect(top).toHaveAttribute('data-id', known.expected['contriever-mini']);
  const answered = await page.evaluate(() => performance.now());
  console.log(
    `prebuilt tiny sample: ready ${(ready / 1000).toFixed(1)} s, first answer ${(answered / 1000).toFixed(1)} s after navigation`,
  );

  await page.reload();
  await expect(page.locator('body')).toHaveAttribute('data-state', 'ready', { timeout: 180_000 });
  await expect(page.locator('body')).not.toHaveAttribute('data-prebuilt', 'imported');
  await expect(page.locator('#model-status')).toContainText(`${N} documents loaded from IndexedDB`);
  await expect(page.locator('#coll-stats')).toHaveAttribute('data-documents', N);
  expect(errors).toEqual([]);
});
