/** The <router-search> widget page, on the tiny sample and (by default) the tiny fixture model. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';

const PRESET = process.env.E2E_PRESET ?? 'tiny';
const LABEL = PRESET === 'tiny' ? 'tiny-bert' : PRESET;
const meta = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'public', 'demo-data', 'queries.json'), 'utf8'),
) as {
  queries: { text: string; expected: Record<string, string>; routed?: Record<string, string | null> }[];
};
const q = meta.queries.find((x) => x.expected[LABEL])!;

test('widget: search, keyboard selection fires `select`, theming, no console errors', async ({ page }, info) => {
  test.setTimeout(300_000);
  const errors: string[] = [];
  // ORT's "[W:onnxruntime:" lines are warnings printed through console.error (see demo.spec.ts).
  page.on('console', (m) => m.type() === 'error' && !m.text().includes('[W:onnxruntime:') && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`/demo/widget.html?preset=${PRESET}&sample=tiny`);
  await expect(page.locator('body')).toHaveAttribute('data-state', 'ready', { timeout: 240_000 });

  const box = page.getByRole('combobox', { name: 'Search the sample collection' });
  await box.fill(q.text);
  const options = page.locator('#slot-1 router-search').getByRole('option');
  await expect(options).toHaveCount(5);
  await expect(options.first()).toHaveAttribute('data-id', q.expected[LABEL]);
  // Keyboard: ArrowDown twice, Enter selects the second result.
  await box.press('ArrowDown');
  await box.press('ArrowDown');
  await expect(options.nth(1)).toHaveAttribute('aria-selected', 'true');
  const second = await options.nth(1).getAttribute('data-id');
  await box.press('Enter');
  await expect(page.locator('#selected')).toHaveAttribute('data-selected', second!);
  // Click selects too.
  await options.first().click();
  await expect(page.locator('#selected')).toHaveAttribute('data-selected', q.expected[LABEL]);

  // The themed one: k=3, base encoder; its custom properties reach the shadow DOM.
  const box2 = page.getByRole('combobox', { name: 'Search with the base encoder' });
  await box2.fill(q.text);
  await expect(page.locator('#slot-2 router-search').getByRole('option')).toHaveCount(3);
  const bg = await page
    .locator('#slot-2 router-search')
    .evaluate((el) => getComputedStyle(el.shadowRoot!.querySelector('.box')!).backgroundColor);
  expect(bg).toBe('rgb(17, 24, 39)');
  const path = info.outputPath('widget.png');
  await page.screenshot({ path, fullPage: true });
  await info.attach('widget', { path, contentType: 'image/png' });
  expect(errors).toEqual([]);
});

test('widget auto mode on contriever-mini routes a query to the expert the Node pipeline chose', async ({
  page,
}, info) => {
  test.skip(
    info.project.name === 'webgpu',
    'SwiftShader runs the 6-layer model too slowly; the wasm project checks it',
  );
  test.setTimeout(300_000);
  const routed = meta.queries.find((x) => x.routed?.['contriever-mini'] && x.expected['contriever-mini'])!;
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && !m.text().includes('[W:onnxruntime:') && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('/demo/widget.html?preset=contriever-mini&sample=tiny&collection=e2e-widget-mini&device=wasm');
  await expect(page.locator('body')).toHaveAttribute('data-state', 'ready', { timeout: 240_000 });
  const widget = page.locator('#slot-1 router-search');
  const route = await widget.evaluate(async (el, q) => {
    const rr = await (
      el as unknown as { ready: Promise<{ search(q: string): Promise<{ route: { expert: string | null } }> }> }
    ).ready;
    return (await rr.search(q)).route;
  }, routed.text);
  console.log(`widget auto: "${routed.text.slice(0, 50)}" -> ${route.expert}`);
  expect(route.expert).toBe(routed.routed!['contriever-mini']);
  // What a visitor sees: the status line names the expert, the top hit is the known one.
  await page.getByRole('combobox', { name: 'Search the sample collection' }).fill(routed.text);
  await expect(widget.getByRole('option').first()).toHaveAttribute('data-id', routed.expected['contriever-mini']);
  await expect(widget.locator('.status')).toContainText(`expert ${route.expert}`);
  expect(errors).toEqual([]);
});
