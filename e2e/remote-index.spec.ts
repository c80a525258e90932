/**
 * The remote index in Chromium: the page (real worker, real IndexedDB, e2e/pages/index.html)
 * routes and encodes the query, the reference service (server/: PGlite + pgvector over the wire
 * protocol, started here on a free port with CORS for the page's origin) answers. The same
 * documents searched locally and remotely give the same hits; a write without the key is refused
 * and stores nothing; the service down is NETWORK and says so.
 */
import { expect, test, type Page } from '@playwright/test';
import { type RunningService, startLocalService } from '../server/service.js';
import type { Doc } from '../src/types.js';
import type { Harness } from './pages/index-harness.js';

type W = { rr: Harness };
const KEY = 'e2e-write-key';
const DIM = 32; // test/fixtures/tiny-bert
const FIELDS = { lang: 'string', year: 'number' } as const;
const WORDS = 'river mountain ocean protein cell gene market stock bond court law judge star planet orbit'.split(' ');
const DOCS: Doc[] = Array.from({ length: 150 }, (_, i) => ({
  id: `d${i}`,
  title: `${WORDS[i % WORDS.length]} ${i}`,
  text: `${WORDS[(i * 7) % WORDS.length]} ${WORDS[(i * 3 + 1) % WORDS.length]} ${WORDS[(i * 5 + 2) % WORDS.length]}`,
  metadata: { lang: ['en', 'de', 'fr'][i % 3], year: 1990 + (i % 31) },
}));

let svc: RunningService;

test.beforeAll(async ({ baseURL }) => {
  svc = await startLocalService({
    dim: DIM,
    apiKey: KEY,
    corsOrigin: new URL(baseURL!).origin,
    filterable: { ...FIELDS },
    efSearch: 400,
  });
});

test.afterAll(async () => {
  await svc?.stop();
});

async function load(page: Page): Promise<void> {
  await page.goto('/e2e/pages/index.html?device=wasm');
  await page.waitForFunction(() => (window as unknown as { rrReady?: boolean }).rrReady === true);
}

test('the page routes and encodes, the service answers: the same hits as the local index', async ({ page }) => {
  await load(page);
  const stamp = Date.now();
  const run = async (name: string, index?: { url: string; apiKey?: string }) => {
    await page.evaluate(
      ([n, idx, f]) =>
        (window as unknown as W).rr.open(n as string, {
          filterable: f as never,
          ...(idx ? { index: idx as never } : {}),
        }),
      [name, index, FIELDS] as const,
    );
    await page.evaluate((docs) => (window as unknown as W).rr.addDocs(docs), DOCS);
    const out: string[][] = [];
    for (const q of ['river protein market', 'court law judge'])
      for (const o of [
        { mode: 'dense' },
        { mode: 'hybrid' },
        { mode: 'dense', filter: { lang: 'de', year: { gte: 2000 } } },
      ]) {
        const r = await page.evaluate(([q, o]) => (window as unknown as W).rr.searchWith(q as string, o as never), [
          q,
          o,
        ] as const);
        expect(r.ok, JSON.stringify(r)).toBe(true);
        if (r.ok) out.push(r.hits.map((h) => h.id));
      }
    return out;
  };
  const local = await run(`e2e-local-${stamp}`);
  const remote = await run(`e2e-remote-${stamp}`, { url: svc.url, apiKey: KEY });
  expect(remote).toEqual(local);
  expect(local[0].length).toBe(10);
  const health = (await (await fetch(`${svc.url}/health`)).json()) as { count: number };
  expect(health.count).toBe(DOCS.length);
});

test('a write without the key is refused and stored nowhere; the service down is NETWORK', async ({ page }) => {
  await load(page);
  await page.evaluate(
    ([url, f]) =>
      (window as unknown as W).rr.open(`e2e-nokey-${Date.now()}`, {
        filterable: f as never,
        index: { url: url as string },
      }),
    [svc.url, FIELDS] as const,
  );
  const before = ((await (await fetch(`${svc.url}/health`)).json()) as { count: number }).count;
  const refused = await page.evaluate(async () => {
    const rr = (window as unknown as W).rr;
    try {
      await rr.addDocs([{ id: 'nokey', text: 'river' }]);
      return { ok: true, counts: await rr.counts() };
    } catch (e) {
      return {
        ok: false,
        code: (e as { code?: string }).code,
        message: String((e as Error).message),
        counts: await rr.counts(),
      };
    }
  });
  expect(refused.ok).toBe(false);
  expect(refused.code).toBe('INVALID_INPUT');
  expect(refused.message).toMatch(/API key/);
  expect(refused.counts.documents).toBe(0);
  expect(((await (await fetch(`${svc.url}/health`)).json()) as { count: number }).count).toBe(before);

  const down = await page.evaluate(async () => {
    try {
      await (window as unknown as W).rr.open(`e2e-down-${Date.now()}`, { index: { url: 'http://127.0.0.1:9/' } });
      return { code: 'none', message: '' };
    } catch (e) {
      return { code: (e as { code?: string }).code, message: String((e as Error).message) };
    }
  });
  expect(down.code).toBe('NETWORK');
  expect(down.message).toMatch(/search service at http:\/\/127\.0\.0\.1:9\/ could not be reached/);
});
