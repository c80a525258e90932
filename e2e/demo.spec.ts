/**
 * The playground end to end, on the tiny sample (73 short documents) and, by default, the tiny
 * fixture model (E2E_PRESET=contriever-mini runs it on the trained model instead).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page, type TestInfo } from '@playwright/test';

const PRESET = process.env.E2E_PRESET ?? 'tiny';
const LABEL = PRESET === 'tiny' ? 'tiny-bert' : PRESET;
const URL_ = `/demo/?preset=${PRESET}&sample=tiny`;
const FIXTURES = join(import.meta.dirname, '..', 'test', 'fixtures');

interface KnownQuery {
  id: string;
  text: string;
  expected: Record<string, string>;
  /** Model label -> the expert the router chose (null: kept on the base encoder). */
  routed?: Record<string, string | null>;
}
const meta = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'public', 'demo-data', 'queries.json'), 'utf8'),
) as { queries: KnownQuery[] };
const SAMPLE_DOCS = readFileSync(join(import.meta.dirname, '..', 'public', 'demo-data', 'sample-tiny.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { id: string; title?: string; text: string });
const N = String(SAMPLE_DOCS.length);
const N2 = String(SAMPLE_DOCS.length + 2);
const known = meta.queries.filter((q) => q.expected[LABEL] || q.expected[`${LABEL}/none`]);

/** Console errors and page errors, minus what the dev server prints when it is cut off on purpose. */
function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    // ORT's WebGPU session prints its node-placement WARNINGS ("[W:onnxruntime:...") through
    // console.error; they are not errors (the engine could set ort.env.logLevel = 'error').
    if (m.type() === 'error' && !m.text().includes('[W:onnxruntime:')) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

async function shot(page: Page, info: TestInfo, name: string): Promise<void> {
  const path = info.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await info.attach(name, { path, contentType: 'image/png' });
}

async function search(page: Page, q: string): Promise<void> {
  await page.getByLabel('Query', { exact: true }).fill(q);
  await expect(page.locator('body')).toHaveAttribute('data-last-query', q.trim());
}

const topOf = (page: Page, mode: string) => page.locator(`.column[data-mode="${mode}"] li.hit`).first();

test.beforeEach(async ({ page }) => {
  await page.addInitScript(() => {
    const w = window as unknown as { __longtasks: { start: number; duration: number }[] };
    w.__longtasks = [];
    try {
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) w.__longtasks.push({ start: e.startTime, duration: e.duration });
      }).observe({ type: 'longtask', buffered: true });
    } catch {
      /* no longtask support */
    }
  });
});

test('first visit indexes with a progress bar; known queries; reload is instant; offline still searches', async ({
  page,
  context,
}, info) => {
  test.setTimeout(420_000);
  const errors = watchConsole(page);
  await page.goto(URL_);
  // The progress bar is visible while indexing and reports docs/s and an ETA.
  const bar = page.locator('#index-progress');
  await expect(bar).toBeVisible({ timeout: 120_000 });
  await expect(page.locator('#index-status')).toContainText(/docs\/s/, { timeout: 120_000 });
  // The screenshot's own layout and paint are not the page's work: leave that window out.
  const s0 = await page.evaluate(() => performance.now());
  await shot(page, info, '1-indexing');
  const s1 = await page.evaluate(() => performance.now());
  await expect(page.locator('body')).toHaveAttribute('data-state', 'ready', { timeout: 150_000 });
  await expect(page.locator('#coll-stats')).toHaveAttribute('data-documents', N);
  await expect(page.locator('#backend')).toContainText(/WEBGPU|WASM/);
  // Long tasks between the start and the end of indexing (outside the screenshot).
  const tasks = await page.evaluate(
    ([s0, s1]) => {
      const [s] = performance.getEntriesByName('rr-demo:index-start');
      const [e] = performance.getEntriesByName('rr-demo:index-end');
      const all = (window as unknown as { __longtasks: { start: number; duration: number }[] }).__longtasks;
      const inShot = (t: { start: number; duration: number }) => t.start < s1 && t.start + t.duration > s0;
      return {
        during: all
          .filter((t) => t.start >= s.startTime && t.start <= e.startTime && !inShot(t))
          .map((t) => t.duration),
        all: all.map((t) => [Math.round(t.start), Math.round(t.duration)]),
        span: [s.startTime, e.startTime],
      };
    },
    [s0, s1],
  );
  console.log(
    `long tasks (start, ms): ${JSON.stringify(tasks.all)}; indexing ${tasks.span.map(Math.round).join('-')} ms`,
  );
  // No wall-clock bound (load stretches tasks; bench:responsiveness measures them): the indexing
  // was cut into tasks, none of which held the page for the whole run.
  expect(Math.max(0, ...tasks.during), 'no task as long as the whole indexing run').toBeLessThan(
    tasks.span[1] - tasks.span[0],
  );

  // Known queries return their expected top document (auto routing and the base column).
  expect(known.length).toBeGreaterThan(0);
  await page.getByLabel('Compare with').selectOption('none');
  for (const q of known) {
    await search(page, q.text);
    if (q.expected[LABEL]) await expect(topOf(page, 'auto')).toHaveAttribute('data-id', q.expected[LABEL]);
    if (q.expected[`${LABEL}/none`])
      await expect(topOf(page, 'none')).toHaveAttribute('data-id', q.expected[`${LABEL}/none`]);
  }
  await expect(page.locator('.route-chart .bar.chosen')).toHaveCount(1);
  await expect(page.locator('#timings')).toContainText(/route .* encode .* search/);
  await shot(page, info, '2-search-compare');

  // Reload: ready from IndexedDB, no indexing.
  await expect(page.locator('body')).toHaveAttribute('data-offline', 'ready', { timeout: 60_000 });
  await page.reload();
  await expect(page.locator('body')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.locator('#index-box')).toBeHidden();
  await expect(page.locator('#model-status')).toContainText('nothing to re-index');
  const q0 = known[0];
  await search(page, q0.text);
  await expect(page.locator('li.hit').first()).toBeVisible();
  await shot(page, info, '3-reloaded');
  expect(errors, 'no console errors').toEqual([]);

  // Offline: reload and search.
  await expect(page.locator('body')).toHaveAttribute('data-offline', 'ready', { timeout: 60_000 });
  await context.setOffline(true);
  const offlineLog: string[] = [];
  page.on('console', (m) => offlineLog.push(`${m.type()}: ${m.text()}`));
  page.on('requestfailed', (r) => offlineLog.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
  await page.reload();
  await expect(page.locator('body'), offlineLog.join('\n')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await search(page, q0.text);
  if (q0.expected[LABEL]) await expect(topOf(page, 'auto')).toHaveAttribute('data-id', q0.expected[LABEL]);
  await expect(page.locator('li.hit').first()).toBeVisible();
  await shot(page, info, '4-offline');
  await context.setOffline(false);
});

async function ready(page: Page): Promise<void> {
  await page.goto(URL_);
  await expect(page.locator('body')).toHaveAttribute('data-state', 'ready', { timeout: 150_000 });
}

test('import a JSONL file and find its document; a malformed file shows an error and the index still answers', async ({
  page,
}, info) => {
  const errors = watchConsole(page);
  await ready(page);
  // mine-1 repeats the text of a sample document that a known query finds (so even the random
  // fixture model ranks it at the top, tied with the original; ties go to the smaller id).
  const q0 = known[0];
  const target = q0.expected[`${LABEL}/none`] ?? q0.expected[LABEL];
  const orig = SAMPLE_DOCS.find((d) => d.id === target)!;
  const jsonl = [
    { id: 'mine-1', title: orig.title, text: orig.text },
    {
      id: 'mine-2',
      title: 'Sourdough starter',
      text: 'Feed the starter with equal weights of flour and water every day.',
    },
  ]
    .map((d) => JSON.stringify(d))
    .join('\n');
  await page
    .getByLabel('Documents file')
    .setInputFiles({ name: 'mine.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(jsonl) });
  await expect(page.locator('#import-status')).toContainText('Done: 2 added', { timeout: 60_000 });
  await expect(page.locator('#coll-stats')).toHaveAttribute('data-documents', N2);
  await page.getByLabel('Compare with').selectOption('none');
  await search(page, q0.text);
  await expect(page.locator('.column[data-mode="none"] li.hit[data-id="mine-1"]')).toBeVisible();
  await shot(page, info, '5-imported');

  // A malformed file: a plain-words alert, nothing lost.
  await page.getByLabel('Documents file').setInputFiles({
    name: 'broken.jsonl',
    mimeType: 'application/jsonl',
    buffer: Buffer.from('{"id": "x", "text": "ok"}\n{not json\n'),
  });
  const alert = page.getByRole('alert');
  await expect(alert).toBeVisible();
  await expect(alert).toContainText('Line 2 is not valid JSON');
  await expect(page.locator('#coll-stats')).toHaveAttribute('data-documents', N2);
  await search(page, 'Feed the starter with flour');
  await expect(page.locator('li.hit').first()).toBeVisible();
  await shot(page, info, '6-malformed');
  await page.getByRole('button', { name: 'Dismiss' }).click();
  expect(errors).toEqual([]);
});

test('add and remove an expert without re-embedding a document (keyboard only)', async ({ page }, info) => {
  const errors = watchConsole(page);
  await ready(page);
  const counter = page.locator('#embed-counter');
  const before = Number(await counter.getAttribute('data-texts'));
  // Pilot embeddings from a file: the fixture's pilot library entry of expert-b.
  const pilots = JSON.parse(
    readFileSync(join(import.meta.dirname, '..', 'public', 'demo-data', 'tiny-pilots.json'), 'utf8'),
  ) as Record<string, number[][]>;
  test.skip(PRESET !== 'tiny', 'uses the fixture adapter');
  await page.locator('#add-expert summary').focus();
  await page.keyboard.press('Enter');
  await page.getByLabel('Name', { exact: true }).fill('my-expert');
  await page
    .getByLabel(/^Files/)
    .setInputFiles(['adapter_config.json', 'adapter_model.bin'].map((f) => join(FIXTURES, 'adapters', 'expert-b', f)));
  await page.getByLabel(/A JSON file/).setInputFiles({
    name: 'pilots.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(pilots['expert-b'])),
  });
  await page.getByRole('button', { name: 'Add expert' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('#expert-list li[data-expert="my-expert"]')).toBeVisible({ timeout: 30_000 });
  await expect(counter).toContainText('embedded 0 texts');
  expect(Number(await counter.getAttribute('data-texts'))).toBe(before);
  await expect(page.locator('#coll-stats')).toHaveAttribute('data-documents', N);
  await page.getByLabel('Compare with').selectOption('my-expert');
  await search(page, 'thirty shots were fired');
  await expect(page.locator('.route-chart .bar[data-expert="my-expert"]')).toHaveCount(1);
  await expect(page.locator('.column[data-mode="my-expert"] li.hit').first()).toBeVisible();
  await shot(page, info, '7-expert-added');

  await page.getByRole('button', { name: 'Remove expert my-expert' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('#expert-list li[data-expert="my-expert"]')).toHaveCount(0);
  // The page reads the encoder's embedded-texts counter just before and after the removal.
  await expect(counter).toContainText('Removing “my-expert” embedded 0 texts');
  await search(page, 'thirty shots were fired again');
  await expect(page.locator('.route-chart .bar[data-expert="my-expert"]')).toHaveCount(0);
  await shot(page, info, '8-expert-removed');
  expect(errors).toEqual([]);
});

test('phone width: no horizontal scrolling, search usable', async ({ page }, info) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await ready(page);
  // Nothing is left to cancel once indexing is done; a search's query embedding is counted.
  await expect(page.locator('#index-cancel')).toBeHidden();
  const counter = page.locator('#embed-counter');
  const start = Number(await counter.getAttribute('data-texts'));
  await search(page, 'counting queries');
  await expect.poll(async () => Number(await counter.getAttribute('data-texts'))).toBeGreaterThan(start);
  await search(page, 'shots fired');
  await page.getByLabel('Compare with').selectOption('none');
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
  await shot(page, info, '9-phone');
});

test('the bundled contriever-mini answers the known queries (auto routing and base)', async ({ page }, info) => {
  test.skip(
    info.project.name === 'webgpu',
    'SwiftShader runs the 6-layer model too slowly for CI; the wasm project checks it',
  );
  test.skip(PRESET !== 'tiny', 'the default run of this spec already uses the preset given by E2E_PRESET');
  test.setTimeout(300_000);
  const mini = meta.queries.filter((q) => q.expected['contriever-mini'] || q.expected['contriever-mini/none']);
  expect(
    mini.length,
    'known queries recorded for contriever-mini (tools/make-demo-data.ts --expect)',
  ).toBeGreaterThanOrEqual(10);
  const errors = watchConsole(page);
  await page.goto('/demo/?preset=contriever-mini&sample=tiny&collection=e2e-contriever-mini');
  await expect(page.locator('body')).toHaveAttribute('data-state', 'ready', { timeout: 240_000 });
  await expect(page.locator('#coll-stats')).toHaveAttribute('data-documents', N);
  await page.getByLabel('Compare with').selectOption('none');
  for (const q of mini) {
    await search(page, q.text);
    if (q.expected['contriever-mini'])
      await expect(topOf(page, 'auto')).toHaveAttribute('data-id', q.expected['contriever-mini']);
    if (q.expected['contriever-mini/none'])
      await expect(topOf(page, 'none')).toHaveAttribute('data-id', q.expected['contriever-mini/none']);
    // The routing panel shows the abstaining router's decision, the one the Node pipeline recorded
    // (an expert, or kept on the base encoder), with the gain threshold drawn.
    const routed = q.routed?.['contriever-mini'];
    if (routed !== undefined) {
      await expect(page.locator('#route-choice')).toHaveAttribute('data-expert', routed ?? '');
      await expect(page.locator('#route-choice')).toHaveAttribute('data-abstained', String(routed === null));
      await expect(page.locator('.route-chart .threshold')).toHaveCount(1);
    }
  }
  expect(
    mini.filter((q) => q.routed?.['contriever-mini'] === null).length,
    'some known queries stay on the base',
  ).toBeGreaterThan(0);
  await shot(page, info, 'contriever-mini-search');
  expect(errors, 'no console errors').toEqual([]);
});
