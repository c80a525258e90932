/**
 * Metadata filters in Chromium: real worker, real IndexedDB (e2e/pages/index.html). The fields
 * declared at open are stored with the documents; after a reload (declaration not passed again,
 * no document embedded again) a filtered hybrid search returns exactly the hybrid top k of the
 * matching documents: both sides restricted to them, then fused.
 */
import { expect, test, type Page } from '@playwright/test';
import { fuse } from '../src/hybrid/fusion.js';
import type { Doc, Filter } from '../src/types.js';
import type { Harness } from './pages/index-harness.js';

type W = { rr: Harness };
type Hit = { id: string; score: number };

async function load(page: Page): Promise<void> {
  await page.goto('/e2e/pages/index.html?device=wasm');
  await page.waitForFunction(() => (window as unknown as { rrReady?: boolean }).rrReady === true);
}

const WORDS = 'river mountain ocean protein cell gene market stock bond court law judge star planet orbit'.split(' ');
const LANGS = ['en', 'de', 'fr'];
const DOCS: Doc[] = Array.from({ length: 300 }, (_, i) => ({
  id: `d${i}`,
  title: `${WORDS[i % WORDS.length]} ${i}`,
  text: `${WORDS[(i * 7) % WORDS.length]} ${WORDS[(i * 3 + 1) % WORDS.length]} ${WORDS[(i * 5 + 2) % WORDS.length]}`,
  ...(i % 10 === 9 ? {} : { metadata: { lang: LANGS[i % 3], year: 1990 + (i % 31) } }),
}));

function matches(d: Doc, f: { lang?: string; minYear?: number }): boolean {
  const m = d.metadata as { lang: string; year: number } | undefined;
  return !!m && (f.lang === undefined || m.lang === f.lang) && (f.minYear === undefined || m.year >= f.minYear);
}

test('filtered hybrid search returns exactly the top k of the matching documents after a reload', async ({ page }) => {
  await load(page);
  const name = `e2e-filter-${Date.now()}`;
  await page.evaluate(
    (n) => (window as unknown as W).rr.open(n, { filterable: { lang: 'string', year: 'number' } }),
    name,
  );
  await page.evaluate((docs) => (window as unknown as W).rr.addDocs(docs), DOCS);

  await page.reload();
  await page.waitForFunction(() => (window as unknown as { rrReady?: boolean }).rrReady === true);
  const re = await page.evaluate((n) => (window as unknown as W).rr.open(n), name); // declaration from the store
  expect(re.documents).toBe(300);
  expect(re.texts).toBe(0); // nothing embedded again

  const q = 'river protein market';
  const search = (options: Record<string, unknown>) =>
    page.evaluate(([q, o]) => (window as unknown as W).rr.searchWith(q as string, o as never), [q, options] as const);
  const all = async (mode: 'dense' | 'lexical'): Promise<Hit[]> => {
    const r = await search({ k: 300, mode });
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    return r.hits.map((h) => ({ id: h.id, score: h.score }));
  };
  const dense = await all('dense');
  const lexical = await all('lexical');
  expect(dense.length).toBe(300);
  expect(lexical.length).toBeGreaterThan(20);

  const cases: { filter: Filter; f: { lang?: string; minYear?: number } }[] = [
    { filter: { lang: 'de', year: { gte: 2005 } }, f: { lang: 'de', minYear: 2005 } },
    { filter: { lang: { in: ['fr'] } }, f: { lang: 'fr' } },
  ];
  for (const { filter, f } of cases) {
    const ok = new Set(DOCS.filter((d) => matches(d, f)).map((d) => d.id));
    const only = (hs: Hit[]) => hs.filter((h) => ok.has(h.id)).slice(0, 100);
    const want = fuse(only(dense), only(lexical), 10, { method: 'convex', weight: 0.5, depth: 100 });
    const got = await search({ k: 10, filter, fusion: { method: 'convex', weight: 0.5 } });
    expect(got.ok).toBe(true);
    if (!got.ok) return;
    expect(got.hits.map((h) => h.id)).toEqual(want.map((h) => h.id));
    got.hits.forEach((h, i) => expect(h.score).toBeCloseTo(want[i].score, 6));
    expect(got.hits.every((h) => ok.has(h.id))).toBe(true);
    const d = await search({ k: 10, mode: 'dense', filter });
    expect(d.ok && d.hits.map((h) => h.id)).toEqual(
      only(dense)
        .slice(0, 10)
        .map((h) => h.id),
    );
  }

  // Fewer matches than k: all of them, not fewer.
  const few = DOCS.filter((d) => matches(d, { lang: 'en', minYear: 2019 }));
  expect(few.length).toBeGreaterThan(0);
  expect(few.length).toBeLessThan(10);
  const r = await search({ k: 10, mode: 'dense', filter: { lang: 'en', year: { gte: 2019 } } });
  expect(r.ok && r.hits.map((h) => h.id).sort()).toEqual(few.map((d) => d.id).sort());

  const bad = await search({ k: 10, filter: { country: 'de' } });
  expect(bad.ok).toBe(false);
  if (!bad.ok) expect(bad.error).toMatchObject({ code: 'INVALID_INPUT', details: { field: 'country' } });
  const wrongType = await search({ k: 10, filter: { year: { gte: '2005' } } });
  expect(!wrongType.ok && wrongType.error.details).toEqual({ field: 'year' });
  await page.evaluate(() => (window as unknown as W).rr.close());
});
