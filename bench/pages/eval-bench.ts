/**
 * Browser side of the eval bench: fetches the config and BEIR texts that
 * bench/eval-browser.ts serves under /__eval-data/, loads the model and experts into
 * the worker encoder (src/encoder-client.ts) from fetched files, and runs the very
 * runEvaluation the Node CLI runs. The result lands in window.__eval.
 */
import { EncoderClient } from '../../src/encoder-client.js';
import { parseBeirTexts, type BeirDataset } from '../../src/eval/beir.js';
import { encoderBackend } from '../../src/eval/dense.js';
import { runEvaluation, type RunEvalConfig } from '../../src/eval/run-eval.js';
import type { ResultJson } from '../../src/eval/table.js';

export interface EvalBenchConfig {
  model: { base: string; files: string[] };
  experts: { name: string; base: string; files: string[] }[];
  datasets: { name: string; splits: string[] }[];
  run: Omit<RunEvalConfig, 'experts'>;
  numThreads: number;
}

export interface EvalBenchResult {
  ok: boolean;
  error?: string;
  result?: ResultJson;
  markdown?: string;
  /** Per-query routing decisions, "method dataset query expert". */
  routing?: string[];
  ms?: number;
  backend?: string;
}

declare global {
  interface Window {
    __eval?: EvalBenchResult;
  }
}

const status = document.getElementById('status')!;
const logEl = document.getElementById('log')!;
const log = (line: string) => {
  logEl.textContent += `${line}\n`;
};

async function text(url: string): Promise<string> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`GET ${url}: HTTP ${r.status}`);
  return r.text();
}

async function files(base: string, names: string[]): Promise<Record<string, ArrayBuffer>> {
  const out: Record<string, ArrayBuffer> = {};
  for (const n of names) {
    const r = await fetch(base + n);
    if (!r.ok) throw new Error(`GET ${base + n}: HTTP ${r.status}`);
    out[n] = await r.arrayBuffer();
  }
  return out;
}

async function run(): Promise<EvalBenchResult> {
  const cfg = JSON.parse(await text('/__eval-data/config.json')) as EvalBenchConfig;
  const datasets: BeirDataset[] = [];
  for (const d of cfg.datasets) {
    const qrels: Record<string, string> = {};
    for (const s of d.splits) qrels[s] = await text(`/__eval-data/${d.name}/qrels/${s}.tsv`);
    datasets.push(
      parseBeirTexts(d.name, {
        corpus: await text(`/__eval-data/${d.name}/corpus.jsonl`),
        queries: await text(`/__eval-data/${d.name}/queries.jsonl`),
        qrels,
      }),
    );
  }
  const client = new EncoderClient();
  try {
    status.textContent = 'loading the model…';
    const info = await client.load(
      { id: cfg.model.base, files: await files(cfg.model.base, cfg.model.files) },
      { device: 'wasm', numThreads: cfg.numThreads, cache: false },
    );
    log(
      `model: dim ${info.dim}, ${info.backend} (${info.backendReason}), fingerprint ${info.fingerprint.slice(0, 12)}`,
    );
    for (const e of cfg.experts) await client.addExpert(e.name, { id: e.base, files: await files(e.base, e.files) });
    status.textContent = 'evaluating…';
    const t0 = performance.now();
    const out = await runEvaluation(
      datasets,
      encoderBackend(client, info),
      { ...cfg.run, experts: cfg.experts.map((e) => e.name) },
      { log },
    );
    const ms = performance.now() - t0;
    document.getElementById('table')!.textContent = out.markdown;
    status.textContent = `done in ${(ms / 1000).toFixed(1)} s`;
    return {
      ok: true,
      result: out.result,
      markdown: out.markdown,
      routing: out.routing.map((r) => `${r.method} ${r.dataset} ${r.query_id} ${r.expert}`),
      ms,
      backend: info.backend,
    };
  } finally {
    await client.dispose();
  }
}

run().then(
  (r) => (window.__eval = r),
  (e: unknown) => {
    status.textContent = `failed: ${(e as Error).message}`;
    window.__eval = { ok: false, error: `${(e as Error).name}: ${(e as Error).message}` };
  },
);
