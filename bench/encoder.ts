/**
 * Encoder bench in headless Chromium (WASM by default): our encoder worker vs transformers.js'
 * feature-extraction pipeline on the SAME weights, same texts, same threads, same max length (512).
 *
 *   npx tsx bench/encoder.ts [--json] [--models tiny,contriever] [--webgpu] [--threads 1]
 *                            [--docs 1000] [--contriever-docs 1000] [--runs 50] [--batch 32]
 *                            [--index-runs 3] [--ort-build default|jsep|asyncify] [--no-paired]
 *                            [--compare-plain-inputs] [--no-inthread-index]
 *                            [--index-in both|sequential|paired|none] [--index-slice 256]
 *                            [--dtype fp32|q8]
 *
 * Per model, in one page: (a) query latency p50/p95, base and with an expert (worker round trip
 * included); (b) indexing throughput on SciFact abstracts (title + " " + text); (c) the same for
 * transformers.js and the ratios; (d) expert switch cost = (query with B right after one with A)
 * minus (query with A right after one with A), median over pairs; resident bytes per expert; time
 * to add one.
 * (e) paired: ours (worker), ours (page thread) and transformers.js take turns, query by query and
 * indexing pass by indexing pass, and ratios are taken pair by pair (median), which is what to
 * trust on a loaded machine; the sequential figures above are each side's own block of runs.
 * Paired queries also time expert A (ours) against transformers.js' base query, and with
 * --compare-plain-inputs an in-thread engine that feeds the base weights as inputs instead of
 * keeping them in If branches (the engine before base branches), in the same turns.
 * --index-in picks where indexing is timed (default both); --index-slice N makes the paired
 * indexing take turns every N documents (the SDK indexes in slices of 256), so that a long
 * Contriever-scale pass is still paired; without sequential indexing, the docs/s columns come
 * from the paired pass 1.
 * 'tjs diff' is the largest difference between the two sides' document embeddings. It is not 0
 * on SciFact: 80 of the first 1,000 abstracts exceed 512 tokens, and transformers.js truncates
 * them without the final [SEP] that Hugging Face's BertTokenizer (and ours) keeps.
 * --dtype q8 runs both sides at int8: ours with dtype 'q8', transformers.js with dtype 'q8' on
 * onnx/model_quantized.onnx, which our graph builder writes from the same weights by the same rule
 * (tools/make-random-bert.ts), so both compute the same thing (its default dtype on WASM).
 * --json writes bench/results/encoder.json (rows of the models, dtype and threads run replace those
 * of the same model, dtype and threads).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBenchModel } from '../tools/make-random-bert.js';
import { launchChromium } from './lib/chromium.js';
import { formatTable, median, quantile } from './lib/table.js';
import { scifactTexts } from './lib/scifact.js';
import { tjsOrtDist } from './lib/tjs-paths.js';
import { startVite } from './lib/vite-server.js';
import type { EncoderBenchApi } from './pages/encoder-bench.js';

type BenchWindow = { bench: EncoderBenchApi };

const ROOT = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    models: { type: 'string', default: 'tiny,contriever' },
    webgpu: { type: 'boolean', default: false },
    threads: { type: 'string', default: '1' },
    docs: { type: 'string', default: '1000' },
    'contriever-docs': { type: 'string' },
    'index-runs': { type: 'string', default: '3' },
    'index-in': { type: 'string', default: 'both' },
    'index-slice': { type: 'string' },
    'ort-build': { type: 'string', default: 'default' },
    runs: { type: 'string', default: '50' },
    batch: { type: 'string', default: '32' },
    'no-paired': { type: 'boolean', default: false },
    'compare-plain-inputs': { type: 'boolean', default: false },
    'no-inthread-index': { type: 'boolean', default: false },
    dtype: { type: 'string', default: 'fp32' },
  },
});
const dtype = args.dtype as 'fp32' | 'q8';
if (dtype !== 'fp32' && dtype !== 'q8') throw new Error(`--dtype ${dtype}: use fp32 or q8`);
const models = args.models.split(',') as ('tiny' | 'contriever')[];
const webgpu = args.webgpu;
const threads = Number(args.threads);
const nDocs = Number(args.docs);
const nDocsContriever = Number(args['contriever-docs'] ?? nDocs);
const indexRuns = Number(args['index-runs']);
const indexIn = args['index-in'] as 'both' | 'sequential' | 'paired' | 'none';
const indexSlice = args['index-slice'] !== undefined ? Number(args['index-slice']) : undefined;
const sequentialIndex = indexIn === 'both' || indexIn === 'sequential';
const pairedIndex = indexIn === 'both' || indexIn === 'paired';
const ortBuild = args['ort-build'] as 'default' | 'jsep' | 'asyncify';
const runs = Number(args.runs);
const batchSize = Number(args.batch);
const QUERY = 'Does vitamin D supplementation reduce the risk of respiratory infections in young children?';

function loadDocs(n: number): { docs: string[]; source: string } {
  const real = scifactTexts(n);
  if (real) return { docs: real, source: `SciFact corpus.jsonl, first ${real.length}` };
  const words =
    'protein cell gene expression patients clinical trial risk increased reduced mice tumor receptor signaling pathway levels associated'.split(
      ' ',
    );
  let s = 7;
  const r = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const docs = Array.from({ length: n }, () =>
    Array.from({ length: 50 + Math.floor(r() * 250) }, () => words[Math.floor(r() * words.length)]).join(' '),
  );
  return { docs, source: `SYNTHETIC (no ../shared/data/beir/scifact): ${n} docs of 50-300 words` };
}

interface Row {
  model: string;
  backend: string;
  /** Our dtype and transformers.js' (the same in one run; rows from before q8 have neither: fp32). */
  dtype: string;
  tjs_dtype: string;
  query_p50_ms: number;
  query_p95_ms: number;
  query_expert_p50_ms: number;
  query_expert_p95_ms: number;
  tjs_query_p50_ms: number;
  tjs_query_p95_ms: number;
  query_ratio_vs_tjs: number;
  query_inthread_p50_ms: number;
  query_expert_inthread_p50_ms: number;
  query_inthread_ratio_vs_tjs: number;
  worker_roundtrip_ms: number;
  index_inthread_docs_per_s: number;
  index_inthread_ratio_vs_tjs: number;
  /** Median over pairs of (query with B right after one with A) - (query with A right after one with A), in the page's thread. */
  expert_switch_inthread_ms: number;
  /** Cold: the first indexing pass in a fresh worker. */
  index_docs_per_s: number;
  tjs_index_docs_per_s: number;
  index_ratio_vs_tjs: number;
  /** Warm: the median of passes 2..index_runs. */
  index_warm_docs_per_s: number | null;
  tjs_index_warm_docs_per_s: number | null;
  index_warm_ratio_vs_tjs: number | null;
  index_runs: number;
  ort_build: string;
  /** Paired runs: median over pairs of ours / transformers.js query time (worker, and this thread). */
  paired_query_ratio: number | null;
  paired_query_inthread_ratio: number | null;
  /** Paired: ours with expert A / transformers.js (base; it has no experts), worker and this thread. */
  paired_query_expert_ratio: number | null;
  paired_query_expert_inthread_ratio: number | null;
  /** --compare-plain-inputs: an in-thread engine feeding the base weights as inputs, base and expert, / transformers.js. */
  paired_query_plain_inputs_ratio: number | null;
  paired_query_expert_plain_inputs_ratio: number | null;
  /** Paired base queries: median time inside onnxruntime (EncoderStats.inferenceMs), in the worker and on this thread. */
  paired_worker_inference_p50_ms: number | null;
  paired_inthread_inference_p50_ms: number | null;
  /** Paired base queries: median of (call time - onnxruntime time), in the worker (round trip + tokenising) and on this thread. */
  paired_worker_overhead_p50_ms: number | null;
  paired_inthread_overhead_p50_ms: number | null;
  /** The same for queries with expert A. */
  paired_worker_expert_inference_p50_ms: number | null;
  paired_inthread_expert_inference_p50_ms: number | null;
  /** Paired indexing passes: ours docs/s / transformers.js docs/s, pass 1 (cold) and the median of the rest (warm). */
  paired_index_ratio_cold: number | null;
  /** --index-slice: median over slices of ours docs/s / transformers.js docs/s, and the slice size. */
  paired_index_slice_ratio: number | null;
  index_slice: number | null;
  /** Where indexing was timed (--index-in); docs/s columns come from the paired pass 1 when only there. */
  index_in: string;
  paired_index_ratio_warm: number | null;
  /** The same paired switch cost through the worker. */
  expert_switch_ms: number;
  /** The older estimate: median of A,B,A,B... minus median of A,A,A... (separate blocks; noisy on big models). */
  expert_switch_blocks_ms: number;
  expert_resident_bytes: number;
  add_expert_ms: number;
  add_expert_wall_ms: number;
  load_ms: number;
  tjs_load_ms: number;
  tjs_query_max_abs_diff: number | null;
  tjs_docs_max_abs_diff: number | null;
  docs: number;
  docs_source: string;
  runs: number;
  batch_size: number;
  threads: number;
  cross_origin_isolated: boolean;
}

async function main() {
  const all = loadDocs(Math.max(nDocs, nDocsContriever));
  const outRoot = join(ROOT, '.cache', 'bench-models');
  const prepared = models.map((m) => {
    const t0 = performance.now();
    const r = ensureBenchModel(m, outRoot);
    console.error(`[bench] model ${m} ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (${r.dir})`);
    return r;
  });
  const vite = await startVite({ optimizeDeps: { exclude: ['@huggingface/transformers', 'onnxruntime-web/webgpu'] } });
  const browser = await launchChromium({ webgpu });
  const rows: Row[] = [];
  try {
    for (const m of prepared) {
      const page = await browser.newPage();
      page.on('console', (msg) => {
        if (msg.type() === 'error' || msg.type() === 'warning') console.error(`[page ${msg.type()}] ${msg.text()}`);
        else if (msg.text().startsWith('[bench]')) console.error(msg.text());
      });
      page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
      await page.goto(`${vite.origin}/bench/pages/encoder-bench.html`);
      await page.waitForFunction(() => (window as unknown as { benchReady?: boolean }).benchReady === true, null, {
        timeout: 120_000,
      });
      const env = await page.evaluate(() =>
        (window as unknown as { bench: { env(): { isolated: boolean; cores: number } } }).bench.env(),
      );
      const docs = all.docs.slice(0, m.name === 'contriever' ? nDocsContriever : nDocs);
      const source = all.source.replace(/first \d+/, `first ${docs.length}`);
      const rel = `/${relative(ROOT, m.dir).split('\\').join('/')}/`;
      const cfg = {
        modelUrl: rel,
        tjsRoot: `/${relative(ROOT, outRoot).split('\\').join('/')}/`,
        tjsModel: m.name,
        tjsOrtDist: tjsOrtDist(),
        experts: m.experts.map((e) => `/${relative(ROOT, e).split('\\').join('/')}/`) as [string, string],
        query: QUERY,
        docs,
        runs,
        warmup: 5,
        batchSize,
        numThreads: threads,
        device: (webgpu ? 'webgpu' : 'wasm') as 'webgpu' | 'wasm',
        dtype,
        // With paired runs the repeated passes happen there; each side's own block indexes once.
        indexRuns: args['no-paired'] ? indexRuns : 1,
        skipIndex: !sequentialIndex,
        ortBuild,
      };
      const pairedCfg = {
        ...cfg,
        indexRuns,
        indexSlice,
        pairedSkipIndex: !pairedIndex,
        comparePlainInputs: args['compare-plain-inputs'],
      };
      console.error(
        `[bench] ${m.name}: ours (${docs.length} docs, ${runs} runs, ${threads} thread(s), isolated=${env.isolated})`,
      );
      const ours = await page.evaluate((c) => (window as unknown as BenchWindow).bench.runOurs(c), cfg);
      console.error(`[bench] ${m.name}: ours in the page's thread (like transformers.js)`);
      const inThread = await page.evaluate((c) => (window as unknown as BenchWindow).bench.runOurs(c), {
        ...cfg,
        inThread: true,
        indexRuns: 1,
        skipIndex: !sequentialIndex || args['no-inthread-index'],
      });
      console.error(`[bench] ${m.name}: transformers.js`);
      const tjs = await page.evaluate((c) => (window as unknown as BenchWindow).bench.runTjs(c), cfg);
      let paired: {
        query: Record<
          | 'worker'
          | 'inThread'
          | 'tjs'
          | 'workerExpert'
          | 'inThreadExpert'
          | 'plain'
          | 'plainExpert'
          | 'workerInference'
          | 'inThreadInference'
          | 'workerExpertInference'
          | 'inThreadExpertInference',
          number[]
        >;
        index: Record<'worker' | 'tjs' | 'sliceWorker' | 'sliceTjs', number[]>;
      } | null = null;
      if (!args['no-paired']) {
        console.error(`[bench] ${m.name}: paired (ours worker, ours in-thread, transformers.js taking turns)`);
        paired = await page.evaluate((c) => (window as unknown as BenchWindow).bench.runPaired(c), pairedCfg);
      }
      await page.close();
      const pairRatios = (a: number[], b: number[]) => (a.length ? median(a.map((x, i) => x / b[i])) : null);
      const expertA = ours.experts.find((e: { name: string }) => e.name === 'A');
      if (!expertA) throw new Error('the bench page reported no expert A');
      const q50 = median(ours.base);
      const t50 = median(tjs.base);
      const fromPaired = !sequentialIndex && paired && paired.index.worker.length > 0;
      const idx = (docs.length * 1000) / (fromPaired ? paired!.index.worker[0] : ours.indexMs);
      const tidx = (docs.length * 1000) / (fromPaired ? paired!.index.tjs[0] : tjs.indexMs);
      const warm = (ms: number[]) => (ms.length > 1 ? (docs.length * 1000) / median(ms.slice(1)) : null);
      const widx = warm(ours.indexMsAll);
      const twidx = warm(tjs.indexMsAll);
      rows.push({
        model: m.name,
        backend: ours.info.backend,
        dtype: ours.info.dtype,
        tjs_dtype: dtype,
        query_p50_ms: q50,
        query_p95_ms: quantile(ours.base, 0.95),
        query_expert_p50_ms: median(ours.expertFixed),
        query_expert_p95_ms: quantile(ours.expertFixed, 0.95),
        tjs_query_p50_ms: t50,
        tjs_query_p95_ms: quantile(tjs.base, 0.95),
        query_ratio_vs_tjs: q50 / t50,
        query_inthread_p50_ms: median(inThread.base),
        query_expert_inthread_p50_ms: median(inThread.expertFixed),
        query_inthread_ratio_vs_tjs: median(inThread.base) / t50,
        worker_roundtrip_ms: q50 - median(inThread.base),
        index_inthread_docs_per_s: (docs.length * 1000) / inThread.indexMs,
        index_inthread_ratio_vs_tjs: (docs.length * 1000) / inThread.indexMs / tidx,
        expert_switch_inthread_ms: median(inThread.switchPairs),
        index_docs_per_s: idx,
        tjs_index_docs_per_s: tidx,
        index_ratio_vs_tjs: idx / tidx,
        index_warm_docs_per_s: widx,
        tjs_index_warm_docs_per_s: twidx,
        index_warm_ratio_vs_tjs: widx !== null && twidx !== null ? widx / twidx : null,
        index_runs: indexRuns,
        ort_build: ortBuild,
        paired_query_ratio: paired ? pairRatios(paired.query.worker, paired.query.tjs) : null,
        paired_query_inthread_ratio: paired ? pairRatios(paired.query.inThread, paired.query.tjs) : null,
        paired_query_expert_ratio: paired ? pairRatios(paired.query.workerExpert, paired.query.tjs) : null,
        paired_query_expert_inthread_ratio: paired ? pairRatios(paired.query.inThreadExpert, paired.query.tjs) : null,
        paired_worker_inference_p50_ms: paired ? median(paired.query.workerInference) : null,
        paired_inthread_inference_p50_ms: paired ? median(paired.query.inThreadInference) : null,
        paired_worker_overhead_p50_ms: paired
          ? median(paired.query.worker.map((x, i) => x - paired!.query.workerInference[i]))
          : null,
        paired_inthread_overhead_p50_ms: paired
          ? median(paired.query.inThread.map((x, i) => x - paired!.query.inThreadInference[i]))
          : null,
        paired_worker_expert_inference_p50_ms: paired ? median(paired.query.workerExpertInference) : null,
        paired_inthread_expert_inference_p50_ms: paired ? median(paired.query.inThreadExpertInference) : null,
        paired_query_plain_inputs_ratio: paired?.query.plain.length
          ? pairRatios(paired.query.plain, paired.query.tjs)
          : null,
        paired_query_expert_plain_inputs_ratio: paired?.query.plainExpert.length
          ? pairRatios(paired.query.plainExpert, paired.query.tjs)
          : null,
        // docs/s ratio = tjs ms / ours ms
        paired_index_ratio_cold: paired?.index.worker.length ? paired.index.tjs[0] / paired.index.worker[0] : null,
        paired_index_slice_ratio:
          paired && indexSlice && paired.index.sliceWorker.length
            ? pairRatios(paired.index.sliceTjs, paired.index.sliceWorker)
            : null,
        index_slice: indexSlice ?? null,
        index_in: indexIn,
        paired_index_ratio_warm:
          paired && paired.index.worker.length > 1
            ? pairRatios(paired.index.tjs.slice(1), paired.index.worker.slice(1))
            : null,
        expert_switch_ms: median(ours.switchPairs),
        expert_switch_blocks_ms: median(ours.expertAlternating) - median(ours.expertFixed),
        expert_resident_bytes: expertA.residentBytes,
        add_expert_ms: expertA.addMs,
        add_expert_wall_ms: ours.addWallMs[0],
        load_ms: ours.info.loadMs,
        tjs_load_ms: tjs.loadWallMs,
        tjs_query_max_abs_diff: tjs.queryMaxAbsDiff,
        tjs_docs_max_abs_diff: tjs.docsMaxAbsDiff,
        docs: docs.length,
        docs_source: source,
        runs,
        batch_size: batchSize,
        threads,
        cross_origin_isolated: env.isolated,
      });
      console.error(`[bench] ${m.name}: ${JSON.stringify(rows.at(-1))}`);
    }
  } finally {
    await browser.close();
    await vite.close();
  }

  console.log(
    `Encoder bench, headless Chromium, ${webgpu ? 'WebGPU' : 'WASM'}, dtype ${dtype} (both sides), ${threads} thread(s), docs: ${rows.map((r) => `${r.model} ${r.docs_source}`).join('; ')}, query runs: ${runs}, batch ${batchSize}, ${indexRuns} indexing pass(es), ORT build ${ortBuild}`,
  );
  console.log(
    formatTable(rows, [
      { header: 'model', value: (r) => r.model },
      { header: 'backend', value: (r) => r.backend },
      { header: 'dtype', value: (r) => r.dtype },
      { header: 'q p50 ms', value: (r) => r.query_p50_ms },
      { header: 'q p95 ms', value: (r) => r.query_p95_ms },
      { header: 'q+expert p50', value: (r) => r.query_expert_p50_ms },
      { header: 'tjs q p50', value: (r) => r.tjs_query_p50_ms },
      { header: 'q ratio (<=1)', value: (r) => r.query_ratio_vs_tjs },
      { header: 'in-thread q p50', value: (r) => r.query_inthread_p50_ms },
      { header: 'in-thread ratio', value: (r) => r.query_inthread_ratio_vs_tjs },
      { header: 'docs/s', value: (r) => r.index_docs_per_s, digits: 1 },
      { header: 'tjs docs/s', value: (r) => r.tjs_index_docs_per_s, digits: 1 },
      { header: 'idx ratio (>=1.3)', value: (r) => r.index_ratio_vs_tjs },
      { header: 'warm docs/s', value: (r) => r.index_warm_docs_per_s ?? NaN, digits: 1 },
      { header: 'tjs warm docs/s', value: (r) => r.tjs_index_warm_docs_per_s ?? NaN, digits: 1 },
      { header: 'warm ratio (>=1.3)', value: (r) => r.index_warm_ratio_vs_tjs ?? NaN },
      { header: 'in-thread docs/s', value: (r) => r.index_inthread_docs_per_s, digits: 1 },
      { header: 'paired q ratio', value: (r) => r.paired_query_ratio ?? NaN },
      { header: 'paired in-thread q ratio', value: (r) => r.paired_query_inthread_ratio ?? NaN },
      { header: 'paired q+expert ratio', value: (r) => r.paired_query_expert_ratio ?? NaN },
      { header: 'paired in-thread q+expert ratio', value: (r) => r.paired_query_expert_inthread_ratio ?? NaN },
      {
        header: 'paired ort ms worker / in-thread',
        value: (r) => `${fmt(r.paired_worker_inference_p50_ms, 1)} / ${fmt(r.paired_inthread_inference_p50_ms, 1)}`,
      },
      {
        header: 'paired expert ort ms worker / in-thread',
        value: (r) =>
          `${fmt(r.paired_worker_expert_inference_p50_ms, 1)} / ${fmt(r.paired_inthread_expert_inference_p50_ms, 1)}`,
      },
      {
        header: 'paired overhead ms worker / in-thread',
        value: (r) => `${fmt(r.paired_worker_overhead_p50_ms, 1)} / ${fmt(r.paired_inthread_overhead_p50_ms, 1)}`,
      },
      {
        header: 'paired plain-inputs q / q+expert',
        value: (r) => `${fmt(r.paired_query_plain_inputs_ratio)} / ${fmt(r.paired_query_expert_plain_inputs_ratio)}`,
      },
      { header: 'paired idx ratio cold', value: (r) => r.paired_index_ratio_cold ?? NaN },
      { header: 'per-slice idx ratio', value: (r) => r.paired_index_slice_ratio ?? NaN },
      { header: 'paired idx ratio warm', value: (r) => r.paired_index_ratio_warm ?? NaN },
      { header: 'switch ms (<5)', value: (r) => r.expert_switch_ms },
      { header: 'switch in-thread', value: (r) => r.expert_switch_inthread_ms },
      { header: 'expert MB', value: (r) => r.expert_resident_bytes / 2 ** 20 },
      { header: 'add expert ms', value: (r) => r.add_expert_ms, digits: 0 },
      { header: 'tjs diff', value: (r) => (r.tjs_docs_max_abs_diff ?? NaN).toExponential(1) },
    ]),
  );
  if (args.json) {
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    // Rows of the models run now replace rows of the same model, dtype and threads; others are kept.
    const file = join(dir, 'encoder.json');
    let kept: Row[] = [];
    try {
      const same = (a: Row, b: Row) =>
        a.model === b.model && (a.dtype ?? 'fp32') === (b.dtype ?? 'fp32') && (a.threads ?? 1) === (b.threads ?? 1);
      kept = (JSON.parse(readFileSync(file, 'utf8')) as Row[]).filter((r) => !rows.some((n) => same(n, r)));
    } catch {
      kept = [];
    }
    const order = ['tiny', 'contriever'];
    const all = [...kept, ...rows].sort(
      (x, y) => order.indexOf(x.model) - order.indexOf(y.model) || (x.dtype ?? 'fp32').localeCompare(y.dtype ?? 'fp32'),
    );
    writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
    console.log(`wrote bench/results/encoder.json (${all.map((r) => r.model).join(', ')})`);
  }
}

const fmt = (x: number | null, digits = 3) => (x === null ? '-' : x.toFixed(digits));

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
