/**
 * Loads of one model started together, on a cold cache (each test has a fresh browser context):
 * a <router-search> widget and RouterRetriever.open() on one page, two open() calls, and two
 * tabs. Each load has its own encoder worker, so each reads the model's files itself.
 *
 * Run against the dev server and against a `vite build` + `vite preview` of the app. The latter
 * gzips responses on the fly (no Content-Length), which is where two simultaneous downloads of
 * model.safetensors failed: the second request joined the first one's HTTP cache entry, whose
 * write Chromium abandons once the 25 MB body outgrows the cache's largest entry, and it ended
 * with ERR_CACHE_WRITE_FAILURE ("the download failed midway"). The file is now downloaded once
 * per origin at a time, and the others read it from the Cache API.
 */
import { join, resolve } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { build, preview, type PreviewServer } from 'vite';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'test-results', 'two-loads-app');
const PAGE = '/e2e/pages/two-loads.html';
const WEIGHTS = '/models/contriever-mini/model.safetensors';
const QUERY = 'how do vaccines protect against viruses';

/** What a page must not do: throw, leave a rejection unhandled, or log an error (ORT's warnings aside). */
function watch(page: Page): { errors: string[]; weightRequests: () => number } {
  const errors: string[] = [];
  let weights = 0;
  page.on('console', (m) => m.type() === 'error' && !m.text().includes('[W:onnxruntime:') && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => new URL(r.url()).pathname === WEIGHTS && weights++);
  return { errors, weightRequests: () => weights };
}

/** Each load's outcome: 'ok' or its error message. */
function outcomes(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Promise.all(
      (window as unknown as { loads: Promise<unknown>[] }).loads.map((l) =>
        l.then(
          () => 'ok',
          (e: unknown) => (e instanceof Error ? e.message : String(e)),
        ),
      ),
    ),
  );
}

/** The top hit's id of the i-th load's search for QUERY. */
function topHit(page: Page, i: number): Promise<string | undefined> {
  return page.evaluate(
    async ([i, q]) => {
      const loads = (
        window as unknown as { loads: Promise<{ search(q: string): Promise<{ hits: { id: string }[] }> }>[] }
      ).loads;
      return (await (await loads[i]).search(q)).hits[0]?.id;
    },
    [i, QUERY] as const,
  );
}

let server: PreviewServer | undefined;
/** Each server's origin, once it runs. */
const servers: Record<string, () => string> = {
  dev: () => test.info().project.use.baseURL!,
  preview: () => server!.resolvedUrls!.local[0].replace(/\/$/, ''),
};

test.describe('one model loaded twice at once', () => {
  // The loads run on WASM either way: one project is enough.
  test.skip(() => test.info().project.name !== 'wasm', 'checked once, in the wasm project');

  test.beforeAll(async () => {
    test.setTimeout(180_000);
    const configFile = join(ROOT, 'vite.config.ts');
    await build({
      configFile,
      logLevel: 'warn',
      build: {
        outDir: OUT,
        emptyOutDir: true,
        rollupOptions: { input: { twoLoads: join(ROOT, 'e2e', 'pages', 'two-loads.html') } },
      },
    });
    server = await preview({ configFile, logLevel: 'warn', build: { outDir: OUT }, preview: { port: 0 } });
  });
  test.afterAll(async () => {
    await server?.close();
  });

  for (const [name, origin] of Object.entries(servers)) {
    test.describe(`on the ${name} server`, () => {
      test('a widget and open() on the same model both load and search; the weights are downloaded once', async ({
        page,
      }) => {
        test.setTimeout(300_000);
        const seen = watch(page);
        await page.goto(`${origin()}${PAGE}?loads=widget,open`);
        expect(await outcomes(page)).toEqual(['ok', 'ok']);
        // The widget as a visitor uses it, open()'s retriever through the API.
        await page.getByRole('combobox', { name: 'Search two-loads-widget-0' }).fill(QUERY);
        await expect(page.getByRole('option').first()).toHaveAttribute('data-id', 'vaccine');
        expect(await topHit(page, 1)).toBe('vaccine');
        expect(seen.weightRequests()).toBe(1);
        expect(seen.errors).toEqual([]);
      });

      test('two open() calls on the same model both load', async ({ page }) => {
        test.setTimeout(300_000);
        const seen = watch(page);
        await page.goto(`${origin()}${PAGE}?loads=open,open`);
        expect(await outcomes(page)).toEqual(['ok', 'ok']);
        expect([await topHit(page, 0), await topHit(page, 1)]).toEqual(['vaccine', 'vaccine']);
        expect(seen.weightRequests()).toBe(1);
        expect(seen.errors).toEqual([]);
      });

      test('two tabs opening the same model both load', async ({ context }) => {
        test.setTimeout(300_000);
        const tabs = [await context.newPage(), await context.newPage()];
        const seen = tabs.map(watch);
        await Promise.all(tabs.map((tab, i) => tab.goto(`${origin()}${PAGE}?loads=open&tag=tab${i}`)));
        expect(await Promise.all(tabs.map(outcomes))).toEqual([['ok'], ['ok']]);
        expect(await Promise.all(tabs.map((tab) => topHit(tab, 0)))).toEqual(['vaccine', 'vaccine']);
        expect(seen[0].weightRequests() + seen[1].weightRequests()).toBe(1);
        expect(seen.flatMap((s) => s.errors)).toEqual([]);
      });

      test('a widget whose model cannot load says so, with no unhandled rejection', async ({ page }) => {
        const seen = watch(page);
        await page.goto(`${origin()}${PAGE}?loads=widget&model=/models/no-such-model/`);
        const [outcome] = await outcomes(page);
        expect(outcome).not.toBe('ok');
        await expect(page.getByRole('alert')).toContainText('The search could not start');
        // The browser's own line for a 404 is no error of the page.
        expect(seen.errors.filter((e) => !e.startsWith('Failed to load resource'))).toEqual([]);
      });

      test('the widget demo page defines <router-search>', async ({ page }) => {
        await page.goto(`${origin()}/demo/widget.html?preset=contriever-mini&sample=tiny&device=wasm`);
        await page.waitForFunction(() => customElements.get('router-search') !== undefined);
      });
    });
  }
});
