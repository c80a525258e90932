/**
 * Time to the first search on the playground, the way a new visitor meets it: a fresh browser
 * context (empty HTTP cache, Cache API and IndexedDB), WASM, the bundled contriever-mini model.
 *
 *   npm run bench:first-search -- [--json] [--samples tiny,small,full] [--variants before,after]
 *
 * 'before': the sample is embedded in the browser (?prebuilt=0, what the page did before prebuilt
 * collections); 'after': the page imports the sample's prebuilt collection (built by
 * `npm run demo:prebuilt`). Per run: seconds from navigation to the model and collection being
 * ready (the search box enabled) and to the first query's results on the page. 'before' on the full
 * sample takes about 7 minutes on 2 cores and is left out unless asked for. --json writes
 * bench/results/first-search.json (--out NAME: another file there).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseCli, listOf } from '../src/cli/args.js';
import { launchChromium } from './lib/chromium.js';
import { formatTable } from './lib/table.js';
import { startVite } from './lib/vite-server.js';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseCli(
  process.argv.slice(2),
  {
    json: { type: 'boolean' },
    out: { type: 'string' },
    samples: { type: 'string' },
    variants: { type: 'string' },
    query: { type: 'string' },
  },
  'bench/first-search.ts',
);
const samples = listOf(values.samples ?? 'tiny,small,full');
const variants = listOf(values.variants ?? 'before,after');
const QUERY = values.query ?? 'does vitamin D prevent bone fractures';

interface Row {
  sample: string;
  variant: string;
  documents: number;
  /** Navigation to the search box enabled (model loaded, collection indexed or imported). */
  ready_s: number;
  /** Navigation to the first query's results shown. */
  first_answer_s: number;
  /** The page's own line about the model and the collection. */
  status: string;
}

for (const s of samples)
  if (
    variants.includes('after') &&
    !existsSync(join(ROOT, 'public', 'demo-data', 'prebuilt', `contriever-mini-${s}.rrc`))
  )
    throw new Error(`public/demo-data/prebuilt/contriever-mini-${s}.rrc is missing: run npm run demo:prebuilt first`);

const vite = await startVite();
const browser = await launchChromium();
const rows: Row[] = [];
try {
  for (const sample of samples) {
    for (const variant of variants) {
      if (variant === 'before' && sample === 'full' && !values.samples) continue;
      const context = await browser.newContext();
      const page = await context.newPage();
      const coll = `bench-${variant}-${sample}-${Date.now()}`;
      const flag = variant === 'before' ? '&prebuilt=0' : '';
      await page.goto(`${vite.origin}/demo/?device=wasm&sample=${sample}${flag}&collection=${coll}`);
      await page.waitForFunction(() => document.body.dataset.state === 'ready', null, {
        timeout: 900_000,
        polling: 50,
      });
      const ready = await page.evaluate(() => performance.now());
      await page.fill('#q', QUERY);
      await page.press('#q', 'Enter');
      await page.waitForSelector('#columns .hit', { timeout: 120_000 });
      const first = await page.evaluate(() => performance.now());
      const documents = Number(await page.getAttribute('#coll-stats', 'data-documents'));
      const status = (await page.textContent('#model-status')) ?? '';
      rows.push({ sample, variant, documents, ready_s: ready / 1000, first_answer_s: first / 1000, status });
      console.error(
        `${sample} ${variant}: ready ${(ready / 1000).toFixed(1)} s, first answer ${(first / 1000).toFixed(1)} s (${status})`,
      );
      await context.close();
    }
  }
} finally {
  await browser.close();
  await vite.close();
}

console.log(
  formatTable(rows, [
    { header: 'sample', value: (r) => r.sample },
    { header: 'variant', value: (r) => r.variant },
    { header: 'documents', value: (r) => r.documents, digits: 0 },
    { header: 'ready (s)', value: (r) => r.ready_s, digits: 1 },
    { header: 'first answer (s)', value: (r) => r.first_answer_s, digits: 1 },
  ]),
);
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, loadavg: loadavg().map((x) => +x.toFixed(2)) };
console.log(
  `machine: ${machine.cpus} cores (${machine.cpu}), load ${machine.loadavg.join(' ')}; Chromium headless, WASM, cold cache`,
);
if (values.json) {
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const out = join(ROOT, 'bench', 'results', values.out ?? 'first-search.json');
  writeFileSync(out, `${JSON.stringify({ query: QUERY, machine, rows }, null, 2)}\n`);
  console.log(`wrote ${out}`);
}
