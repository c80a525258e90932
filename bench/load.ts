/**
 * Load cost in headless Chromium (WASM): our encoder worker on a first visit, a second visit
 * (the built graph from the Cache API) and a repeat visit without a cached graph (files cached,
 * graph rebuilt: what every repeat visit cost before graphs were cached), beside transformers.js
 * loading its ready q8 .onnx, first and second visit (its own browser cache on).
 *
 *   npx tsx bench/load.ts [--models contriever|tiny] [--dtypes q8,fp32] [--rounds 3] [--threads 1] [--json]
 *
 * Every round runs all of them in turn in one page, so that the load of a shared machine hits
 * each side alike; the table gives medians over rounds, and ratios taken round by round. A
 * first visit starts with every Cache API cache of the origin emptied; files come from the
 * local vite server, so the download itself costs little here. Chromium runs with a profile on
 * disk: an incognito-like context cannot cache the 436 MB weights file at all. load_ms is load() alone;
 * first_expert_ms is the first addExpert after it (on a cache hit it also reads the base
 * target matrices from the cached weights). --json writes bench/results/load.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBenchModel } from '../tools/make-random-bert.js';
import { launchPersistentChromium } from './lib/chromium.js';
import { formatTable, median } from './lib/table.js';
import { tjsOrtDist } from './lib/tjs-paths.js';
import { startVite } from './lib/vite-server.js';
import type { LoadBenchApi } from './pages/load-bench.js';

type BenchWindow = { bench: LoadBenchApi };
type Ours = Awaited<ReturnType<LoadBenchApi['ours']>>;
type Visit = 'first' | 'second' | 'repeat, no graph';

const ROOT = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    models: { type: 'string', default: 'contriever' },
    dtypes: { type: 'string', default: 'q8,fp32' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '1' },
  },
});
const dtypes = args.dtypes.split(',') as ('q8' | 'fp32')[];
const rounds = Number(args.rounds);
const threads = Number(args.threads);
const QUERY = 'what is the effect of vitamin D on bone density?';
const served = (p: string) => `/${relative(ROOT, p).split('\\').join('/')}/`;

interface Row {
  model: string;
  side: string;
  dtype: string;
  visit: Visit;
  load_ms: number;
  load_min_ms: number;
  load_max_ms: number;
  /** Median over rounds of this load / transformers.js' q8 load of the same visit (first or second). */
  ratio_vs_tjs_q8: number | null;
  /** Median over rounds of this load / our first visit at this dtype. */
  ratio_vs_first: number | null;
  first_expert_ms: number | null;
  /** Medians of the time the load reached each phase (ms from its start). */
  build_at_ms: number | null;
  session_at_ms: number | null;
  graph_source: string | null;
  rounds: number;
  threads: number;
}

const maxAbsDiff = (a: number[], b: number[]) =>
  a.length === b.length ? a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0) : Infinity;

async function main() {
  const outRoot = join(ROOT, '.cache', 'bench-models');
  const vite = await startVite({ optimizeDeps: { exclude: ['@huggingface/transformers', 'onnxruntime-web/webgpu'] } });
  const profile = mkdtempSync(join(tmpdir(), 'rr-load-bench-'));
  const browser = await launchPersistentChromium(profile);
  const rows: Row[] = [];
  const raw: Record<string, unknown>[] = [];
  try {
    for (const name of args.models.split(',') as ('tiny' | 'contriever')[]) {
      const m = ensureBenchModel(name, outRoot);
      const page = await browser.newPage();
      page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
      page.on('console', (msg) => {
        if (msg.type() === 'error') console.error(`[page error] ${msg.text()}`);
      });
      await page.goto(`${vite.origin}/bench/pages/load-bench.html`);
      await page.waitForFunction(() => (window as unknown as { benchReady?: boolean }).benchReady === true, null, {
        timeout: 120_000,
      });
      const call = <K extends keyof LoadBenchApi>(
        k: K,
        ...a: Parameters<LoadBenchApi[K]>
      ): Promise<Awaited<ReturnType<LoadBenchApi[K]>>> =>
        page.evaluate(
          ([k2, a2]) =>
            ((window as unknown as BenchWindow).bench[k2 as K] as unknown as (...x: unknown[]) => Promise<unknown>)(
              ...(a2 as unknown[]),
            ),
          [k, a] as const,
        ) as Promise<Awaited<ReturnType<LoadBenchApi[K]>>>;
      const ours = (dtype: 'q8' | 'fp32') =>
        call('ours', {
          modelUrl: served(m.dir),
          expertUrl: served(m.experts[0]),
          dtype,
          numThreads: threads,
          query: QUERY,
        }) as Promise<Ours>;
      const tjs = () =>
        call('tjs', {
          tjsRoot: served(outRoot),
          tjsModel: name,
          tjsOrtDist: tjsOrtDist(),
          numThreads: threads,
          device: 'wasm',
          dtype: 'q8',
          browserCache: true,
          query: QUERY,
        });
      const runs: Record<string, Ours[]> = {};
      const tjsRuns: Record<'first' | 'second', number[]> = { first: [], second: [] };
      const push = (k: string, r: Ours) => {
        (runs[k] ??= []).push(r);
        console.error(`[bench] ${name} ${k}: load ${r.loadMs.toFixed(0)} ms (${r.graphReason})`);
      };
      for (let round = 0; round < rounds; round++) {
        console.error(`[bench] ${name}: round ${round + 1} of ${rounds}`);
        await call('clearAll');
        tjsRuns.first.push((await tjs()).loadMs);
        tjsRuns.second.push((await tjs()).loadMs);
        console.error(
          `[bench] ${name} tjs q8: first ${tjsRuns.first.at(-1)?.toFixed(0)} ms, second ${tjsRuns.second.at(-1)?.toFixed(0)} ms`,
        );
        for (const dtype of dtypes) {
          await call('clearAll');
          push(`${dtype} first`, await ours(dtype));
          push(`${dtype} second`, await ours(dtype));
          await call('dropGraphs');
          push(`${dtype} repeat, no graph`, await ours(dtype));
        }
      }
      await page.close();
      for (const dtype of dtypes) {
        const first = runs[`${dtype} first`];
        const second = runs[`${dtype} second`];
        // A cache hit must give the same vectors as the build it came from.
        const diff = Math.max(...first.map((r, i) => maxAbsDiff(r.query, second[i].query)));
        console.error(`[bench] ${name} ${dtype}: max abs diff first vs second visit query: ${diff}`);
        for (const visit of ['first', 'second', 'repeat, no graph'] as Visit[]) {
          const rs = runs[`${dtype} ${visit}`];
          const ms = rs.map((r) => r.loadMs);
          const tjsSame = visit === 'repeat, no graph' ? null : tjsRuns[visit];
          const phase = (p: 'build' | 'session') => {
            const xs = rs.map((r) => r.phases[p]).filter((x): x is number => x !== undefined);
            return xs.length ? median(xs) : null;
          };
          rows.push({
            model: name,
            side: 'ours',
            dtype,
            visit,
            load_ms: median(ms),
            load_min_ms: Math.min(...ms),
            load_max_ms: Math.max(...ms),
            ratio_vs_tjs_q8: tjsSame ? median(ms.map((x, i) => x / tjsSame[i])) : null,
            ratio_vs_first: median(ms.map((x, i) => x / first[i].loadMs)),
            first_expert_ms: median(rs.map((r) => r.addExpertMs)),
            build_at_ms: phase('build'),
            session_at_ms: phase('session'),
            graph_source: [...new Set(rs.map((r) => r.graphSource))].join('/'),
            rounds,
            threads,
          });
        }
      }
      for (const visit of ['first', 'second'] as const) {
        const ms = tjsRuns[visit];
        rows.push({
          model: name,
          side: 'transformers.js',
          dtype: 'q8',
          visit,
          load_ms: median(ms),
          load_min_ms: Math.min(...ms),
          load_max_ms: Math.max(...ms),
          ratio_vs_tjs_q8: 1,
          ratio_vs_first: median(ms.map((x, i) => x / tjsRuns.first[i])),
          first_expert_ms: null,
          build_at_ms: null,
          session_at_ms: null,
          graph_source: null,
          rounds,
          threads,
        });
      }
      raw.push({
        model: name,
        runs: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v.map(({ query: _q, ...r }) => r)])),
        tjsRuns,
      });
    }
  } finally {
    await browser.close();
    await vite.close();
    rmSync(profile, { recursive: true, force: true });
  }
  console.log(
    formatTable(rows, [
      { header: 'model', value: (r) => r.model },
      { header: 'side', value: (r) => r.side },
      { header: 'dtype', value: (r) => r.dtype },
      { header: 'visit', value: (r) => r.visit },
      { header: 'load ms', value: (r) => r.load_ms, digits: 0 },
      { header: 'min', value: (r) => r.load_min_ms, digits: 0 },
      { header: 'max', value: (r) => r.load_max_ms, digits: 0 },
      { header: 'x tjs q8', value: (r) => r.ratio_vs_tjs_q8 },
      { header: 'x first', value: (r) => r.ratio_vs_first },
      { header: 'build at', value: (r) => r.build_at_ms, digits: 0 },
      { header: 'session at', value: (r) => r.session_at_ms, digits: 0 },
      { header: '1st expert ms', value: (r) => r.first_expert_ms, digits: 0 },
      { header: 'graph', value: (r) => r.graph_source },
    ]),
  );
  if (args.json) {
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const command = `npx tsx bench/load.ts ${process.argv.slice(2).join(' ')}`.trim();
    writeFileSync(
      join(dir, 'load.json'),
      `${JSON.stringify({ command, date: new Date().toISOString(), rows, raw }, null, 2)}\n`,
    );
    console.error('[bench] wrote bench/results/load.json');
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
