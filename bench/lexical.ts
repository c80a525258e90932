/**
 * The lexical (BM25) index in headless Chromium, on real corpora:
 *
 *   npm run bench:lexical -- [--json] [--sizes 10000,100000] [--queries 300] [--dense-docs 2000] [--rounds 4]
 *
 * Documents: every ../shared/data/beir corpus concatenated (about 58k), filled up to the largest
 * size with paragraphs of ../shared/data/pretrain/*.jsonl.gz; queries: a fixed sample of the
 * BEIR collections' queries. Per size: the in-memory index's build rate (analysis + incremental
 * rows), query latency p50 / p95 (top 100, the fusion depth), memory; the store's write rate
 * (documents, 1-d vectors and term vectors, 1,024 a transaction), the terms and lexicon bytes
 * in IndexedDB, and a reopen (no document analyzed). Then dense indexing with the tiny fixture
 * model, with the lexical side (RouterRetriever.add) and without (same slices, dense write
 * only), alternating, same documents and worker. --json writes bench/results/lexical.json.
 */
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createGunzip } from 'node:zlib';
import type { LexBench } from './pages/lexical-bench.js';
import { launchChromium } from './lib/chromium.js';
import { formatTable, median } from './lib/table.js';
import { startVite } from './lib/vite-server.js';

const { values: opts } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    sizes: { type: 'string', default: '10000,100000' },
    queries: { type: 'string', default: '300' },
    'dense-docs': { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '4' },
  },
});
const sizes = opts.sizes.split(',').map(Number);
const nQueries = Number(opts.queries);
const denseDocs = Number(opts['dense-docs']);
const rounds = Number(opts.rounds);
const root = resolve(import.meta.dirname, '..');
const dataDir = resolve(root, '..', 'shared', 'data');

type Doc = { id: string; title?: string; text: string };

function readJsonl<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

async function corpus(max: number): Promise<{ docs: Doc[]; queries: string[] }> {
  const docs: Doc[] = [];
  const queries: string[] = [];
  const beir = resolve(dataDir, 'beir');
  for (const c of readdirSync(beir).sort()) {
    for (const d of readJsonl<{ _id: string; title?: string; text: string }>(resolve(beir, c, 'corpus.jsonl')))
      docs.push({ id: `${c}:${d._id}`, title: d.title || undefined, text: d.text });
    const qs = readJsonl<{ text: string }>(resolve(beir, c, 'queries.jsonl'));
    // every k-th query of each collection: a fixed sample spread over the domains
    const step = Math.max(1, Math.floor(qs.length / Math.ceil(nQueries / 10)));
    for (let i = 0; i < qs.length && queries.length < nQueries; i += step) queries.push(qs[i].text);
  }
  const beirDocs = docs.length;
  for (const f of ['reuters21578.jsonl.gz', '20news.jsonl.gz', 'gutenberg.jsonl.gz']) {
    if (docs.length >= max) break;
    const lines = createInterface({ input: createReadStream(resolve(dataDir, 'pretrain', f)).pipe(createGunzip()) });
    for await (const line of lines) {
      if (docs.length >= max) break;
      const d = JSON.parse(line) as { id: string; title?: string; text: string };
      d.text.split(/\n\s*\n/).forEach((p, i) => {
        const t = p.replace(/\s+/g, ' ').trim();
        if (t.length >= 200 && docs.length < max)
          docs.push({ id: `${f.split('.')[0]}:${d.id}:${i}`, text: t.slice(0, 4000) });
      });
    }
    lines.close();
  }
  console.log(`corpus: ${docs.length} documents (${beirDocs} from BEIR), ${queries.length} queries`);
  return { docs, queries };
}

const cacheDir = resolve(root, '.cache', 'lexical-bench');
mkdirSync(cacheDir, { recursive: true });
const max = Math.max(...sizes, denseDocs);
const cacheFile = resolve(cacheDir, 'corpus.json');
const stamp = `${max}-${nQueries}`;
if (!existsSync(cacheFile) || !existsSync(`${cacheFile}.${stamp}`)) {
  writeFileSync(cacheFile, JSON.stringify(await corpus(max)));
  writeFileSync(`${cacheFile}.${stamp}`, '');
}

type W = { lexBench: LexBench };
// node_modules may be a link to another checkout: let the server read where it points.
const vite = await startVite({ server: { fs: { allow: [root, realpathSync(resolve(root, 'node_modules'))] } } });
const browser = await launchChromium({ extraArgs: ['--js-flags=--max-old-space-size=8192'] });
const rows: Record<string, number>[] = [];
let dense: Awaited<ReturnType<LexBench['dense']>> | undefined;
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('[page]', e.message));
  await page.goto(`${vite.origin}/bench/pages/lexical-bench.html`);
  await page.waitForFunction(() => (window as unknown as { lexBenchReady?: boolean }).lexBenchReady === true, null, {
    timeout: 120_000,
  });
  console.log(await page.evaluate(() => (window as unknown as W).lexBench.info()));
  for (const n of sizes) {
    rows.push(await page.evaluate((n) => (window as unknown as W).lexBench.lexical(n, true), n));
    console.log(`${n} documents done`);
  }
  dense = await page.evaluate(([n, r]) => (window as unknown as W).lexBench.dense(n, r), [denseDocs, rounds] as const);
} finally {
  await browser.close();
  await vite.close();
}

const mb = (x: number) => x / 1e6;
console.log(
  formatTable(rows, [
    { header: 'docs', value: (r) => r.docs, digits: 0 },
    { header: 'terms', value: (r) => r.terms, digits: 0 },
    { header: 'query p50 ms', value: (r) => r.query_p50_ms, digits: 2 },
    { header: 'query p95 ms', value: (r) => r.query_p95_ms, digits: 2 },
    { header: 'memory MB', value: (r) => mb(r.memory_bytes), digits: 1 },
    { header: 'IDB terms MB', value: (r) => mb(r.idb_terms_bytes), digits: 1 },
    { header: 'IDB lexicon MB', value: (r) => mb(r.idb_lexicon_bytes), digits: 1 },
    { header: 'build docs/s', value: (r) => r.build_docs_per_s, digits: 0 },
    { header: 'analyze docs/s', value: (r) => r.analyze_docs_per_s, digits: 0 },
    { header: 'store docs/s', value: (r) => r.store_docs_per_s, digits: 0 },
    { header: 'reopen ms', value: (r) => r.reopen_ms, digits: 0 },
    { header: 'reopen analyzed', value: (r) => r.reopen_analyzed, digits: 0 },
    { header: 'reopen same hits', value: (r) => (r.reopen_same === 1 ? 'yes' : 'NO') },
  ]),
);
const denseRow = dense && {
  docs: denseDocs,
  rounds,
  with_lexical_docs_per_s: median(dense.withLexical),
  dense_only_docs_per_s: median(dense.denseOnly),
  ratio: median(dense.withLexical) / median(dense.denseOnly),
  with_lexical_rounds: dense.withLexical,
  dense_only_rounds: dense.denseOnly,
};
if (denseRow) {
  console.log(
    `\ndense indexing, tiny fixture model (dim ${dense!.dim}), ${denseDocs} docs, median of ${rounds}: with the lexical side ${denseRow.with_lexical_docs_per_s.toFixed(0)} docs/s, ` +
      `dense only ${denseRow.dense_only_docs_per_s.toFixed(0)} docs/s (ratio ${denseRow.ratio.toFixed(2)}); rounds ${dense!.withLexical.map((x) => x.toFixed(0)).join('/')} vs ${dense!.denseOnly.map((x) => x.toFixed(0)).join('/')}`,
  );
}
console.log(`(${cpus().length} cores, load average ${loadavg()[0].toFixed(1)})`);
if (opts.json) {
  const out = resolve(import.meta.dirname, 'results', 'lexical.json');
  writeFileSync(
    out,
    `${JSON.stringify({ lexical: rows, dense: denseRow, cores: cpus().length, load: loadavg()[0] }, null, 2)}\n`,
  );
  console.log(`wrote ${out}`);
}
