/**
 * A collection built by the CLI, searched in the browser, against the eval harness on the same
 * BEIR folder: `router-retriever index` writes the file, headless Chromium imports it with
 * open({ prebuilt }) into real IndexedDB and runs every test query dense with the base encoder
 * (WASM), and the eval harness (tools/eval/cli.ts, onnxruntime-node, the 'base' row) writes its
 * TREC run. Per query the top 10 are compared: same ids in the same order, and the largest score
 * difference.
 *
 *   npx tsx bench/prebuilt-vs-eval.ts [--data ../shared/data/beir/scifact] [--dtype fp32|q8]
 *                                    [--runtime node|wasm] [--json]
 *
 * --dtype is given to all three (CLI, eval, browser): fp32 by default. --runtime is the CLI's and
 * the eval's: node (onnxruntime-node, default) or wasm (onnxruntime-web's WASM build, the
 * browser's kernels, 5-7x slower). --json writes bench/results/prebuilt-vs-eval[-q8][-wasm].json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { parseCli } from '../src/cli/args.js';
import { runIndex } from '../src/cli/index-command.js';
import { parseQrelsTsv, parseQueriesJsonl } from '../src/eval/beir.js';
import { launchChromium } from './lib/chromium.js';
import { startVite } from './lib/vite-server.js';

const ROOT = resolve(import.meta.dirname, '..');
const MODEL = join(ROOT, 'public', 'models', 'contriever-mini');
const K = 10;
const { values } = parseCli(
  process.argv.slice(2),
  { data: { type: 'string' }, dtype: { type: 'string' }, runtime: { type: 'string' }, json: { type: 'boolean' } },
  'bench/prebuilt-vs-eval.ts',
);
const data = resolve(values.data ?? join(ROOT, '..', 'shared', 'data', 'beir', 'scifact'));
const dtype = values.dtype ?? 'fp32';
if (dtype !== 'fp32' && dtype !== 'q8') throw new Error(`--dtype must be fp32 or q8, got ${dtype}`);
const runtime = values.runtime ?? 'node';
if (runtime !== 'node' && runtime !== 'wasm') throw new Error(`--runtime must be node or wasm, got ${runtime}`);
const tag = `${dtype === 'q8' ? '-q8' : ''}${runtime === 'wasm' ? '-wasm' : ''}`;
const name = basename(data);
// Not under test-results/: Playwright empties that folder when a test run starts.
const work = join(ROOT, '.cache', `prebuilt-vs-eval${tag}`);
mkdirSync(work, { recursive: true });
const file = join(work, `${name}.rrc`);

// One thread for the CLI and the eval, as the page gets here (onnxruntime's default: half the cores,
// 1 on 2). At q8 expect about 1e-3 between the sides, not 1e-6 as at fp32: an activation level that
// fp32 rounding tips over (another batch shape or kernel) moves a score by that much (med, WASM
// on all sides: 1.2e-3 at 1 thread and at 2).
await runIndex([data, '--model', MODEL, '--out', file, '--dtype', dtype, '--runtime', runtime, '--threads', '1'], {
  err: process.stderr,
});
execFileSync(
  'npx',
  [
    'tsx',
    'tools/eval/cli.ts',
    '--model',
    MODEL,
    '--data',
    data,
    '--methods',
    'base',
    '--runtime',
    runtime,
    '--threads',
    '1',
    '--keep-identical-ids',
    '--dtype',
    dtype,
    '--run-out',
    work,
    '--out',
    join(work, 'eval.json'),
  ],
  { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
);
const evalRun = new Map<string, { id: string; score: number }[]>();
for (const line of readFileSync(join(work, name, 'base.run'), 'utf8').split('\n')) {
  const [qid, , doc, , score] = line.split(' ');
  if (!doc) continue;
  if (!evalRun.has(qid)) evalRun.set(qid, []);
  evalRun.get(qid)!.push({ id: doc, score: Number(score) });
}
const queries = parseQueriesJsonl(readFileSync(join(data, 'queries.jsonl'), 'utf8'));
const testIds = [...parseQrelsTsv(readFileSync(join(data, 'qrels', 'test.tsv'), 'utf8')).keys()].filter((q) =>
  queries.has(q),
);

const vite = await startVite();
const browser = await launchChromium();
let browserOut: { prebuilt: unknown; hits: [string, number][][] };
try {
  const page = await browser.newPage();
  // A page of the repo that stays put (the root index.html redirects to the demo).
  await page.goto(`${vite.origin}/e2e/pages/index.html`);
  await page.waitForFunction(() => (window as unknown as { rrReady?: boolean }).rrReady === true);
  browserOut = await page.evaluate(
    async ({ sdk, url, texts, k, dtype }) => {
      const { RouterRetriever } = (await import(/* @vite-ignore */ sdk)) as typeof import('../src/index.js');
      const rr = await RouterRetriever.open({
        name: 'prebuilt-vs-eval',
        model: '/models/contriever-mini/',
        device: 'wasm',
        dtype,
        prebuilt: url,
      });
      const hits: [string, number][][] = [];
      for (const t of texts) {
        const r = await rr.search(t, { k, mode: 'dense', expert: 'none' });
        hits.push(r.hits.map((h) => [h.id, h.score]));
      }
      return { prebuilt: rr.prebuilt, hits };
    },
    {
      sdk: '/src/index.ts',
      url: `/${relative(ROOT, file)}`,
      texts: testIds.map((q) => queries.get(q)!.text),
      k: K,
      dtype: dtype as 'fp32' | 'q8',
    },
  );
} finally {
  await browser.close();
  await vite.close();
}

let same = 0;
let maxDiff = 0;
const differing: string[] = [];
testIds.forEach((qid, i) => {
  const a = browserOut.hits[i];
  const b = (evalRun.get(qid) ?? []).slice(0, K);
  const ok = a.length === b.length && a.every(([id], j) => id === b[j].id);
  if (ok) same++;
  else differing.push(qid);
  a.forEach(([id, s], j) => {
    if (b[j]?.id === id) maxDiff = Math.max(maxDiff, Math.abs(s - b[j].score));
  });
});
const summary = {
  dataset: name,
  dtype,
  runtime,
  documents: (browserOut.prebuilt as { documents: number }).documents,
  queries: testIds.length,
  k: K,
  same_top10: same,
  max_abs_score_diff: maxDiff,
  differing_queries: differing,
  eval: `tools/eval/cli.ts --methods base --runtime ${runtime} --dtype ${dtype} (TREC run scores at 6 decimals)`,
  cli: `router-retriever index --dtype ${dtype} --runtime ${runtime}`,
  browser: `headless Chromium, WASM, open({ prebuilt, dtype: '${dtype}' }) of the CLI file, search mode dense, expert none`,
};
console.log(
  `${name} at ${dtype}, CLI and eval on ${runtime}: ${summary.documents} documents, ${same} of ${testIds.length} test queries with the same top ${K} ids in the same order; largest score difference ${maxDiff.toExponential(2)}`,
);
if (values.json) {
  const out = join(ROOT, 'bench', 'results', `prebuilt-vs-eval${tag}.json`);
  writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`wrote ${out}`);
}
