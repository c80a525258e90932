/**
 * The same evaluation in the browser and in Node, compared (issue: "must give the same
 * numbers as Node, to 1e-4").
 *
 *   npx tsx bench/eval-browser.ts [--docs 500] [--dataset scifact] [--timeout 600]
 *
 * Subset: the first N documents of ../shared/data/beir/<dataset> and the test and train
 * queries that have a relevant document among them (full judgements kept). Model: the tiny
 * fixture (test/fixtures/tiny-bert) with experts expert-a and expert-b. The page
 * (bench/pages/eval-bench.html) runs runEvaluation with the worker EncoderClient under
 * Vite + headless Chromium; this script then runs runEvaluation on the same texts with the
 * in-process EncoderEngine, prints both tables and the max abs difference over every
 * row x dataset x metric, and writes bench/results/eval-browser.json.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer as netServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright';
import { createServer, type Plugin } from 'vite';
import { parseBeirTexts, type BeirTexts } from '../src/eval/beir.js';
import { encoderBackend } from '../src/eval/dense.js';
import { runEvaluation, resolveMethodList, type RunEvalConfig } from '../src/eval/run-eval.js';
import { METRIC_KEYS } from '../src/eval/metrics.js';
import type { ResultJson } from '../src/eval/table.js';
import { EncoderEngine } from '../workers/engine/encoder-engine.js';
import { modelSpecFrom } from '../src/cli/model-dir.js';
import { parseCli, positiveInt } from '../tools/lib/args.js';
import type { EvalBenchConfig, EvalBenchResult } from './pages/eval-bench.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseCli(
  process.argv.slice(2),
  { docs: { type: 'string' }, dataset: { type: 'string', default: 'scifact' }, timeout: { type: 'string' } },
  'the header of bench/eval-browser.ts',
);
const DOCS = positiveInt('--docs', opts.docs, 500);
const DATASET = opts.dataset;
const TIMEOUT_S = positiveInt('--timeout', opts.timeout, 600);
const THREADS = 1;

/** The subset as BEIR texts: first DOCS documents, queries with a relevant document among them. */
async function subset(): Promise<{ texts: BeirTexts; splits: string[] }> {
  const dir = resolve(repo, '../shared/data/beir', DATASET);
  const corpusLines = (await readFile(join(dir, 'corpus.jsonl'), 'utf8'))
    .split('\n')
    .filter((l) => l.trim())
    .slice(0, DOCS);
  const docIds = new Set(corpusLines.map((l) => String((JSON.parse(l) as { _id: string })._id)));
  const qrels: Record<string, string> = {};
  const keep = new Set<string>();
  for (const split of ['test', 'train']) {
    let raw: string;
    try {
      raw = await readFile(join(dir, 'qrels', `${split}.tsv`), 'utf8');
    } catch {
      continue;
    }
    const [header, ...rows] = raw.split('\n').filter((l) => l.trim());
    const parsed = rows.map((r) => r.split('\t'));
    const qids = new Set(parsed.filter(([, d, s]) => docIds.has(d) && Number(s) > 0).map(([q]) => q));
    qids.forEach((q) => keep.add(q));
    qrels[split] = `${[header, ...rows.filter((_, i) => qids.has(parsed[i][0]))].join('\n')}\n`;
  }
  const queries = (await readFile(join(dir, 'queries.jsonl'), 'utf8'))
    .split('\n')
    .filter((l) => l.trim() && keep.has(String((JSON.parse(l) as { _id: string })._id)));
  return {
    texts: { corpus: `${corpusLines.join('\n')}\n`, queries: `${queries.join('\n')}\n`, qrels },
    splits: Object.keys(qrels),
  };
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = netServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

function dataPlugin(routes: Map<string, string>): Plugin {
  return {
    name: 'eval-data',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0];
        const body = routes.get(path);
        if (body === undefined)
          return path.startsWith('/__eval-data/') ? ((res.statusCode = 404), res.end('not found')) : next();
        res.setHeader('Content-Type', path.endsWith('.json') ? 'application/json' : 'text/plain; charset=utf-8');
        res.end(body);
      });
    },
  };
}

function maxAbsDiff(a: ResultJson, b: ResultJson): { max: number; where: string } {
  let max = 0;
  let where = '';
  if (JSON.stringify(a.rows.map((r) => r.method)) !== JSON.stringify(b.rows.map((r) => r.method)))
    return { max: Infinity, where: 'different rows' };
  a.rows.forEach((ra, i) => {
    const rb = b.rows[i];
    for (const k of METRIC_KEYS) {
      for (const d of [...a.datasets, 'avg']) {
        const x = ra[k][d];
        const y = rb[k][d];
        const diff = x == null || y == null ? (x === y ? 0 : Infinity) : Math.abs(x - y);
        if (diff > max || where === '') [max, where] = [Math.max(max, diff), `${ra.method} ${k} ${d}`];
      }
      if (JSON.stringify(ra.num_queries) !== JSON.stringify(rb.num_queries))
        [max, where] = [Infinity, `${ra.method} num_queries`];
    }
  });
  return { max, where };
}

const { texts, splits } = await subset();
const modelDir = 'test/fixtures/tiny-bert';
const experts = [
  { name: 'expert-a', dir: 'test/fixtures/adapters/expert-a' },
  { name: 'expert-b', dir: 'test/fixtures/adapters/expert-b' },
];
const filesOf = async (dir: string) =>
  Object.keys(((await modelSpecFrom(join(repo, dir))) as { files: Record<string, unknown> }).files);
const run: Omit<RunEvalConfig, 'experts'> = {
  methods: resolveMethodList(
    null,
    experts.map((e) => e.name),
    true,
  ),
  k: 100,
  bm25Profile: 'plain',
};
const cfg: EvalBenchConfig = {
  model: { base: `/${modelDir}/`, files: await filesOf(modelDir) },
  experts: await Promise.all(
    experts.map(async (e) => ({ name: e.name, base: `/${e.dir}/`, files: await filesOf(e.dir) })),
  ),
  datasets: [{ name: DATASET, splits }],
  run,
  numThreads: THREADS,
};
const routes = new Map<string, string>([['/__eval-data/config.json', JSON.stringify(cfg)]]);
routes.set(`/__eval-data/${DATASET}/corpus.jsonl`, texts.corpus);
routes.set(`/__eval-data/${DATASET}/queries.jsonl`, texts.queries);
for (const s of splits) routes.set(`/__eval-data/${DATASET}/qrels/${s}.tsv`, texts.qrels[s]);

// Browser.
const port = await freePort();
const server = await createServer({
  configFile: join(repo, 'vite.config.ts'),
  root: repo,
  logLevel: 'warn',
  server: { port, strictPort: true, host: '127.0.0.1' },
  plugins: [dataPlugin(routes)],
});
await server.listen();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-background-networking'],
});
let web: EvalBenchResult;
const tb = performance.now();
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  await page.goto(`http://127.0.0.1:${port}/bench/pages/eval-bench.html`);
  await page.waitForFunction(() => window.__eval !== undefined, undefined, { timeout: TIMEOUT_S * 1000, polling: 500 });
  web = (await page.evaluate(() => window.__eval))!;
} finally {
  await browser.close();
  await server.close();
}
const browserWall = (performance.now() - tb) / 1000;
if (!web.ok) {
  console.error(`browser run failed: ${web.error}`);
  process.exit(1);
}

// Node, same texts, same function.
const engine = new EncoderEngine();
const info = await engine.load(await modelSpecFrom(join(repo, modelDir)), {
  device: 'wasm',
  numThreads: THREADS,
  cache: false,
});
for (const e of experts) await engine.addExpert(e.name, await modelSpecFrom(join(repo, e.dir)));
const tn = performance.now();
const node = await runEvaluation([parseBeirTexts(DATASET, texts)], encoderBackend(engine, info), {
  ...run,
  experts: experts.map((e) => e.name),
});
const nodeMs = performance.now() - tn;
await engine.dispose();

const diff = maxAbsDiff(web.result!, node.result);
const nodeRouting = node.routing.map((r) => `${r.method} ${r.dataset} ${r.query_id} ${r.expert}`);
const sameRouting = nodeRouting.filter((r, i) => web.routing![i] === r).length;
const routingOk = sameRouting === nodeRouting.length && web.routing!.length === nodeRouting.length;
const ds = node.result.datasets[0];
console.log(
  `subset: ${DATASET}, first ${DOCS} documents, ${node.result.rows[0].num_queries[ds]} test queries (${splits.join(', ')} qrels); tiny-bert + expert-a, expert-b`,
);
console.log(
  `\n## Browser (Chromium, worker EncoderClient, ${web.backend}): evaluation ${(web.ms! / 1000).toFixed(1)} s, whole page run ${browserWall.toFixed(1)} s\n`,
);
console.log(web.markdown);
console.log(`\n## Node (EncoderEngine in-process, ${info.backend}): evaluation ${(nodeMs / 1000).toFixed(1)} s\n`);
console.log(node.markdown);
const ok = diff.max <= 1e-4 && routingOk;
console.log(
  `\nper-query routing decisions identical: ${sameRouting} of ${nodeRouting.length} (browser had ${web.routing!.length})`,
);
console.log(
  `\nmax abs difference browser vs Node over every row x dataset x metric: ${diff.max.toExponential(3)} (at ${diff.where}) -> ${ok ? 'OK (<= 1e-4)' : 'FAIL (> 1e-4)'}`,
);
const out = join(repo, 'bench/results/eval-browser.json');
await mkdir(dirname(out), { recursive: true });
const strip = (r: ResultJson) => ({ ...r, meta: { ...r.meta, timings_ms: undefined } });
await writeFile(
  out,
  `${JSON.stringify(
    {
      created: new Date().toISOString(),
      dataset: DATASET,
      docs: DOCS,
      max_abs_diff: diff.max,
      where: diff.where,
      routing_identical: `${sameRouting}/${nodeRouting.length}`,
      ok,
      browser: { eval_ms: Math.round(web.ms!), ...strip(web.result!) },
      node: { eval_ms: Math.round(nodeMs), ...strip(node.result) },
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${out}`);
process.exitCode = ok ? 0 : 1;
