/**
 * Search kernel benchmark in headless Chromium (the SDK's runtime):
 *   npx tsx bench/search-browser.ts [--json] [--quick] [--no-1m] [--only-1m] [--only-filter]
 * Starts a vite server on a free port, opens bench/pages/search.html and reports, per N,
 * ms per query (median) of exact top-10 (10k and 100k 768-d float32: WASM SIMD SearchIndex;
 * 1M int8: Int8Index scan + exact rescoring of 100 candidates, recall@10 vs exact), beside a
 * naive JS loop and the memory floor (reading the same bytes once) measured in the same page.
 * Then filtered search at 100k (bench/search-filter.ts): rows with a "selectivity" field (1 =
 * unfiltered, 0.5, 0.05, 0.001), the mask computed per query, ratios to the unfiltered row.
 * --json writes bench/results/search.json (--only-filter: bench/results/search-filter.json).
 * Chromium: $CHROMIUM_PATH or /usr/bin/chromium.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import type { BenchRow } from './search-core.js';

const args = new Set(process.argv.slice(2));
const root = new URL('..', import.meta.url).pathname;

const server = await createServer({
  root,
  configFile: false,
  logLevel: 'error',
  server: { host: '127.0.0.1', port: 0 },
  optimizeDeps: { noDiscovery: true, include: [] },
});
await server.listen();
const addr = server.httpServer?.address();
const port = typeof addr === 'object' && addr ? addr.port : 0;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-background-networking', '--js-flags=--max-old-space-size=8192'],
});
const rows: BenchRow[] = [];
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.log('[page]', m.text()));
  await page.goto(`http://127.0.0.1:${port}/bench/pages/search.html`);
  await page.waitForFunction(() => (window as unknown as { benchReady?: boolean }).benchReady === true, null, {
    timeout: 120_000,
  });
  type B = {
    bench: {
      float(n: number): Promise<BenchRow>;
      int8(n: number): Promise<BenchRow>;
      filtered(n: number): Promise<BenchRow[]>;
    };
  };
  const plan: [number, 'float32' | 'int8'][] = args.has('--quick')
    ? [[10_000, 'float32']]
    : [
        [10_000, 'float32'],
        [100_000, 'float32'],
      ];
  if (!args.has('--quick') && !args.has('--no-1m')) plan.push([1_000_000, 'int8']);
  if (args.has('--only-1m')) plan.splice(0, plan.length, [1_000_000, 'int8']);
  if (args.has('--only-filter')) plan.splice(0, plan.length);
  for (const [n, dtype] of plan) {
    const r = await page.evaluate(
      ([n, dtype]) =>
        dtype === 'int8' ? (window as unknown as B).bench.int8(n) : (window as unknown as B).bench.float(n),
      [n, dtype] as const,
      { timeout: 0 } as never,
    );
    rows.push(r);
    console.log(
      `N=${String(n).padStart(9)} ${dtype.padEnd(7)} ${(r.backend + (r.kernel ? `/${r.kernel}` : '')).padEnd(17)} ${r.ms_per_query.toFixed(2).padStart(8)} ms/q | naive ${r.naive_ms_per_query.toFixed(2).padStart(8)} (${(r.naive_ms_per_query / r.ms_per_query).toFixed(1)}x) | floor ${r.floor_ms.toFixed(2).padStart(7)} (${(r.ms_per_query / r.floor_ms).toFixed(2)}x floor) | recall@10 ${r.recall_at_10.toFixed(3)}` +
        (r.best_ms_per_query === undefined
          ? ''
          : ` | best query ${r.best_ms_per_query.toFixed(2)} (${(r.best_ms_per_query / r.floor_ms).toFixed(2)}x floor)`) +
        (r.plain_kernel_ms_per_query === undefined
          ? ''
          : ` | plain-SIMD kernel ${r.plain_kernel_ms_per_query.toFixed(2)} ms/q (${(r.plain_kernel_ms_per_query / r.floor_ms).toFixed(2)}x floor)`),
    );
  }
  if (!args.has('--quick') && !args.has('--only-1m')) {
    const filtered = await page.evaluate((n) => (window as unknown as B).bench.filtered(n), 100_000, {
      timeout: 0,
    } as never);
    console.log('\nfiltered dense search, N=100,000 float32, filter { bucket: { lt } } (mask computed per query)');
    console.log('selectivity  matched   ms/query  mask ms  vs unfiltered  exact');
    for (const r of filtered) {
      rows.push(r);
      console.log(
        `${`${(r.selectivity! * 100).toFixed(1)} %`.padStart(11)} ${String(r.matched_rows).padStart(8)} ${r.ms_per_query.toFixed(2).padStart(10)} ${r.mask_ms!.toFixed(2).padStart(8)} ${`${r.vs_unfiltered!.toFixed(2)}x`.padStart(14)}  ${r.exact}`,
      );
    }
  }
} finally {
  await browser.close();
  await server.close();
}
console.log(`(${rows[0]?.runtime}; ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)})`);
if (args.has('--json')) {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const file = args.has('--only-filter') ? 'search-filter.json' : 'search.json';
  writeFileSync(new URL(`./results/${file}`, import.meta.url), `${JSON.stringify(rows, null, 2)}\n`);
  console.log(`wrote bench/results/${file}`);
}
