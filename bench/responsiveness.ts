/**
 * Main-thread responsiveness in headless Chromium (WASM), the SDK's sliced work beside the same
 * work done in one piece, in the same page and run:
 *
 *   npm run bench:responsiveness -- [--json] [--docs 2000] [--vectors 100000] [--rounds 3]
 *
 * Scenarios (each round runs both sides of a pair back to back; the figures are medians over
 * rounds):
 *   indexing        RouterRetriever.add() of generated documents on the tiny fixture model,
 *                   slices of 256 (the default) vs one slice of all documents;
 *   search-100k     10 exact top-10 queries over 100k x 768 float32 vectors, searchAsync() (the
 *                   SDK's sliced scan) vs search() (one task per query).
 * Per scenario: the longest main-thread task (wall and thread CPU, from a Chromium trace), the
 * 95th percentile of task wall time, and the number of tasks. On a loaded machine wall time is
 * stretched by descheduling and thread CPU is not: compare the ratios, not the absolute numbers.
 * --json writes bench/results/responsiveness.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Harness } from '../e2e/pages/index-harness.js';
import { launchChromium } from './lib/chromium.js';
import { formatTable, median, quantile } from './lib/table.js';
import { type TaskTime, traceMainThreadTasks } from './lib/trace.js';
import { startVite } from './lib/vite-server.js';

const { values: opts } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    docs: { type: 'string', default: '2000' },
    vectors: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
  },
});
const nDocs = Number(opts.docs);
const nVectors = Number(opts.vectors);
const rounds = Number(opts.rounds);

interface Row {
  scenario: string;
  variant: 'sliced' | 'one-shot';
  max_task_ms: number;
  max_task_cpu_ms: number;
  p95_task_ms: number;
  tasks: number;
  /** Wall time of the whole scenario (ms). */
  total_ms: number;
}

type W = { rr: Harness };

function summarise(tasks: TaskTime[]): Omit<Row, 'scenario' | 'variant' | 'total_ms'> {
  return {
    max_task_ms: Math.max(0, ...tasks.map((t) => t.wallMs)),
    max_task_cpu_ms: Math.max(0, ...tasks.map((t) => t.cpuMs)),
    p95_task_ms: quantile(
      tasks.map((t) => t.wallMs),
      0.95,
    ),
    tasks: tasks.length,
  };
}

function medianRow(scenario: string, variant: Row['variant'], runs: Omit<Row, 'scenario' | 'variant'>[]): Row {
  const m = (f: (r: Omit<Row, 'scenario' | 'variant'>) => number) => median(runs.map(f));
  return {
    scenario,
    variant,
    max_task_ms: m((r) => r.max_task_ms),
    max_task_cpu_ms: m((r) => r.max_task_cpu_ms),
    p95_task_ms: m((r) => r.p95_task_ms),
    tasks: m((r) => r.tasks),
    total_ms: m((r) => r.total_ms),
  };
}

const vite = await startVite();
const browser = await launchChromium();
const rows: Row[] = [];
try {
  const page = await browser.newPage();
  await page.goto(`${vite.origin}/e2e/pages/index.html?device=wasm`);
  await page.waitForFunction(() => (window as unknown as { rrReady?: boolean }).rrReady === true, null, {
    timeout: 120_000,
  });
  const runs: Record<string, Omit<Row, 'scenario' | 'variant'>[]> = {};
  const push = (key: string, r: Omit<Row, 'scenario' | 'variant'>) => {
    runs[key] ??= [];
    runs[key].push(r);
  };

  for (let round = 0; round < rounds; round++) {
    for (const variant of ['sliced', 'one-shot'] as const) {
      const name = `bench-resp-${round}-${variant}`;
      await page.evaluate((n) => (window as unknown as W).rr.open(n), name);
      const sliceSize = variant === 'sliced' ? undefined : nDocs;
      const traced = await traceMainThreadTasks(page, () =>
        page.evaluate(([n, s]) => (window as unknown as W).rr.index(n, 0, { sliceSize: s, probe: false }), [
          nDocs,
          sliceSize,
        ] as const),
      );
      if (!traced.result.ok) throw new Error(`indexing failed: ${JSON.stringify(traced.result.error)}`);
      push(`indexing/${variant}`, { ...summarise(traced.tasks), total_ms: traced.result.ms });
      await page.evaluate(() => (window as unknown as W).rr.close());
      await page.evaluate((n) => indexedDB.deleteDatabase(n), name);
    }
    console.log(`round ${round + 1}/${rounds}: indexing done`);
  }

  await page.evaluate((n) => (window as unknown as W).rr.buildBig(n, 768, 10), nVectors);
  for (let round = 0; round < rounds; round++) {
    for (const variant of ['sliced', 'one-shot'] as const) {
      const traced = await traceMainThreadTasks(page, () =>
        page.evaluate((m) => (window as unknown as W).rr.searchBig(m, false), variant),
      );
      push(`search-${nVectors / 1000}k/${variant}`, { ...summarise(traced.tasks), total_ms: traced.result.totalMs });
    }
    console.log(`round ${round + 1}/${rounds}: search done`);
  }
  for (const [key, list] of Object.entries(runs)) {
    const [scenario, variant] = key.split('/') as [string, Row['variant']];
    rows.push(medianRow(scenario, variant, list));
  }
} finally {
  await browser.close();
  await vite.close();
}

const ratio = (scenario: string, f: (r: Row) => number) => {
  const a = rows.find((r) => r.scenario === scenario && r.variant === 'sliced');
  const b = rows.find((r) => r.scenario === scenario && r.variant === 'one-shot');
  return a && b && f(b) > 0 ? f(a) / f(b) : NaN;
};
console.log(
  formatTable(rows, [
    { header: 'scenario', value: (r) => r.scenario },
    { header: 'variant', value: (r) => r.variant },
    { header: 'max task ms', value: (r) => r.max_task_ms, digits: 1 },
    { header: 'max task CPU ms', value: (r) => r.max_task_cpu_ms, digits: 1 },
    { header: 'p95 task ms', value: (r) => r.p95_task_ms, digits: 1 },
    { header: 'tasks', value: (r) => r.tasks, digits: 0 },
    { header: 'total ms', value: (r) => r.total_ms, digits: 0 },
    {
      header: 'max task vs one-shot',
      value: (r) => (r.variant === 'sliced' ? ratio(r.scenario, (x) => x.max_task_ms) : null),
    },
    {
      header: 'total vs one-shot',
      value: (r) => (r.variant === 'sliced' ? ratio(r.scenario, (x) => x.total_ms) : null),
    },
  ]),
);
console.log(
  `(${nDocs} docs, ${nVectors} vectors, median of ${rounds} rounds; ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)})`,
);
if (opts.json) {
  const out = resolve(import.meta.dirname, 'results', 'responsiveness.json');
  mkdirSync(resolve(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(out, `${JSON.stringify(rows, null, 2)}\n`);
  console.log(`wrote ${out}`);
}
