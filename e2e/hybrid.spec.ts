/**
 * Hybrid search in Chromium: real worker, real IndexedDB (e2e/pages/index.html). The lexical
 * index is committed with the documents, restored on reload from the stored term vectors (no
 * document analyzed again), and a delete removes a document from both sides.
 */
import { expect, test, type Page } from '@playwright/test';
import type { Harness } from './pages/index-harness.js';

type W = { rr: Harness };

async function load(page: Page): Promise<void> {
  await page.goto('/e2e/pages/index.html?device=wasm');
  await page.waitForFunction(() => (window as unknown as { rrReady?: boolean }).rrReady === true);
}

/** Documents a BM25 side can tell apart, among generated filler. */
const KNOWN = [
  {
    id: 'vitd',
    title: 'Vitamin D supplementation and fracture risk',
    text: 'Randomised trials of vitamin D in older adults: fractures of the hip were fewer with daily doses.',
  },
  {
    id: 'statin',
    title: 'Statins after myocardial infarction',
    text: 'Cholesterol lowering with statins reduced recurrent heart attacks.',
  },
  {
    id: 'wing',
    title: 'Boundary layer on a swept wing',
    text: 'Transition of the boundary layer at supersonic speeds over swept wings.',
  },
];

test('hybrid results carry both scores; reload restores lexical hits with zero documents re-analyzed; delete removes from both', async ({
  page,
}) => {
  await load(page);
  const name = `e2e-hybrid-${Date.now()}`;
  await page.evaluate((n) => (window as unknown as W).rr.open(n), name);
  const filler = await page.evaluate(() => (window as unknown as W).rr.makeDocs(400));
  await page.evaluate((docs) => (window as unknown as W).rr.addDocs(docs), [...filler, ...KNOWN]);
  const st = await page.evaluate(() => (window as unknown as W).rr.lexicalStats());
  expect(st.analyzedDocuments).toBe(403);
  expect(st.memoryBytes).toBeGreaterThan(0);

  const q = 'vitamin D fracture risk';
  // lexical weight 0.6: the one document with these terms scores >= 0.6, any other <= 0.4
  const hybrid = await page.evaluate(
    (q) => (window as unknown as W).rr.searchWith(q, { k: 10, fusion: { method: 'convex', weight: 0.6 } }),
    q,
  );
  expect(hybrid.ok).toBe(true);
  if (!hybrid.ok) return;
  expect(hybrid.hits[0].id).toBe('vitd');
  expect(hybrid.hits[0].scores.lexical).toBeGreaterThan(0);
  expect(hybrid.hits[0].scores.fused).toBe(hybrid.hits[0].score);
  expect(hybrid.hits.some((h) => h.scores.lexical === null && h.scores.dense !== null)).toBe(true);
  const byDefault = await page.evaluate((q) => (window as unknown as W).rr.searchWith(q, { k: 10 }), q);
  expect(byDefault.ok && byDefault.hits.length).toBe(10);

  const textsBefore = (await page.evaluate(() => (window as unknown as W).rr.counts())).texts;
  const lexical = await page.evaluate(() =>
    (window as unknown as W).rr.searchWith('supersonic swept wing', { k: 5, mode: 'lexical' }),
  );
  expect(lexical.ok).toBe(true);
  if (!lexical.ok) return;
  expect(lexical.hits[0].id).toBe('wing');
  expect(lexical.hits[0].scores.dense).toBeNull();
  expect((await page.evaluate(() => (window as unknown as W).rr.counts())).texts).toBe(textsBefore); // no encoder pass

  await page.reload();
  await page.waitForFunction(() => (window as unknown as { rrReady?: boolean }).rrReady === true);
  const re = await page.evaluate((n) => (window as unknown as W).rr.open(n), name);
  expect(re.documents).toBe(403);
  expect(re.texts).toBe(0);
  expect((await page.evaluate(() => (window as unknown as W).rr.lexicalStats())).analyzedDocuments).toBe(0);
  const lexAfter = await page.evaluate(() =>
    (window as unknown as W).rr.searchWith('supersonic swept wing', { k: 5, mode: 'lexical' }),
  );
  expect(lexAfter.ok && lexAfter.hits).toEqual(lexical.hits);
  const hybridAfter = await page.evaluate(
    (q) => (window as unknown as W).rr.searchWith(q, { k: 10, fusion: { method: 'convex', weight: 0.6 } }),
    q,
  );
  expect(hybridAfter.ok && hybridAfter.hits.map((h) => h.id)).toEqual(hybrid.hits.map((h) => h.id));

  expect(await page.evaluate(() => (window as unknown as W).rr.deleteDocs(['vitd']))).toBe(1);
  const gone = async () => {
    const h = await page.evaluate((q) => (window as unknown as W).rr.searchWith(q, { k: 500 }), q);
    const l = await page.evaluate((q) => (window as unknown as W).rr.searchWith(q, { k: 500, mode: 'lexical' }), q);
    const d = await page.evaluate((q) => (window as unknown as W).rr.searchWith(q, { k: 500, mode: 'dense' }), q);
    return [h, l, d].map((r) => (r.ok ? r.hits.some((x) => x.id === 'vitd') : 'error'));
  };
  expect(await gone()).toEqual([false, false, false]);
  await page.reload();
  await page.waitForFunction(() => (window as unknown as { rrReady?: boolean }).rrReady === true);
  await page.evaluate((n) => (window as unknown as W).rr.open(n), name);
  expect(await gone()).toEqual([false, false, false]);
  expect((await page.evaluate(() => (window as unknown as W).rr.lexicalStats())).analyzedDocuments).toBe(0);
  await page.evaluate(() => (window as unknown as W).rr.close());
  await page.evaluate((n) => indexedDB.deleteDatabase(`rr:${n}`), name);
});

test('bad search options are INVALID_INPUT naming the field', async ({ page }) => {
  await load(page);
  await page.evaluate(() => (window as unknown as W).rr.open(`e2e-hybrid-bad-${Date.now()}`));
  const r = await page.evaluate(() => (window as unknown as W).rr.searchWith('x', { mode: 'sparse' as never }));
  expect(r.ok).toBe(false);
  if (!r.ok) {
    expect(r.error.code).toBe('INVALID_INPUT');
    expect(r.error.message).toContain('mode');
  }
});
