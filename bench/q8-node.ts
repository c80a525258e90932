/**
 * q8 against fp32, our encoder only, in Node on onnxruntime-web's WASM backend (no browser):
 * the same EncoderEngine at dtype 'fp32' and 'q8', taking turns query by query and batch by batch.
 *
 *   npx tsx bench/q8-node.ts [--json] [--models mini,contriever] [--threads 1] [--docs 64]
 *                            [--queries 50] [--batch 16] [--max-length 256]
 *
 * Models: 'mini' = public/models/contriever-mini (trained, 6 x 256) with its scifact and nfcorpus
 * experts; 'contriever' = the bench's Contriever-shaped random model (12 x 768, tools/make-random-bert.ts)
 * with its two random experts. Texts: SciFact abstracts and queries (../shared/data), else synthetic.
 * Per model: load ms, query p50 (base, expert) and docs/s per dtype, paired ratios (median over
 * turns of fp32 ms / q8 ms: the speed-up), resident bytes and add ms per expert, and the cosine of
 * each q8 embedding to its fp32 one (min and mean) for the base on documents and queries and for
 * each expert on queries. --json writes bench/results/q8-node.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EncoderEngine } from '../workers/engine/encoder-engine.js';
import { ensureBenchModel } from '../tools/make-random-bert.js';
import { folderSpec } from '../tools/node-folder.js';
import { formatTable, median } from './lib/table.js';
import { rowCosines } from './lib/vectors.js';
import { SCIFACT_CORPUS, scifactTexts } from './lib/scifact.js';

const ROOT = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    models: { type: 'string', default: 'mini,contriever' },
    threads: { type: 'string', default: '1' },
    docs: { type: 'string', default: '64' },
    queries: { type: 'string', default: '50' },
    batch: { type: 'string', default: '16' },
    'max-length': { type: 'string', default: '256' },
  },
});
const threads = Number(args.threads);
const nDocs = Number(args.docs);
const nQueries = Number(args.queries);
const batchSize = Number(args.batch);
const maxLength = Number(args['max-length']);

function scifactQueries(n: number): string[] | null {
  const file = join(SCIFACT_CORPUS, '..', 'queries.jsonl');
  if (!existsSync(file)) return null;
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  return lines.slice(0, n).map((l) => (JSON.parse(l) as { text: string }).text);
}

function synthetic(n: number, words: number): string[] {
  const vocab = 'protein cell gene expression patients trial risk reduced mice tumor receptor pathway levels'.split(
    ' ',
  );
  let s = 11;
  const r = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: n }, () =>
    Array.from({ length: words }, () => vocab[Math.floor(r() * vocab.length)]).join(' '),
  );
}

const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;

interface Row {
  model: string;
  threads: number;
  fp32_load_ms: number;
  q8_load_ms: number;
  fp32_query_p50_ms: number;
  q8_query_p50_ms: number;
  fp32_query_expert_p50_ms: number;
  q8_query_expert_p50_ms: number;
  /** Median over turns of fp32 ms / q8 ms. */
  paired_query_speedup: number;
  paired_query_expert_speedup: number;
  fp32_index_docs_per_s: number;
  q8_index_docs_per_s: number;
  paired_index_speedup: number;
  fp32_expert_resident_bytes: number;
  q8_expert_resident_bytes: number;
  fp32_add_expert_ms: number;
  q8_add_expert_ms: number;
  cos_docs_min: number;
  cos_docs_mean: number;
  cos_queries_min: number;
  /** Per expert: min cosine over the queries. */
  cos_expert_min: Record<string, number>;
  docs: number;
  queries: number;
  max_length: number;
  batch_size: number;
  texts_source: string;
}

async function benchModel(name: string, dir: string, experts: [string, string][]): Promise<Row> {
  const real = scifactTexts(nDocs);
  const docs = real ?? synthetic(nDocs, 200);
  const queries = scifactQueries(nQueries) ?? synthetic(nQueries, 12);
  const engines = { fp32: new EncoderEngine(), q8: new EncoderEngine() };
  const loadMs: Record<string, number> = {};
  const added: Record<string, { bytes: number; ms: number }> = {};
  let dim = 0;
  for (const [dtype, e] of Object.entries(engines)) {
    const t0 = performance.now();
    const info = await e.load(folderSpec(dir), { device: 'wasm', dtype: dtype as 'fp32' | 'q8', numThreads: threads });
    loadMs[dtype] = performance.now() - t0;
    dim = info.dim;
    for (const [ename, edir] of experts) {
      const x = await e.addExpert(ename, folderSpec(edir));
      if (ename === experts[0][0]) added[dtype] = { bytes: x.residentBytes, ms: x.addMs };
    }
    console.error(`[bench] ${name} ${dtype}: loaded in ${loadMs[dtype].toFixed(0)} ms (${info.dtypeReason})`);
  }
  const expertA = experts[0][0];
  // Quality: every text once per dtype.
  const emb = async (e: EncoderEngine, texts: string[], expert: string | null) =>
    expert === null && texts === docs
      ? e.embedDocuments(texts, { batchSize, maxLength })
      : e.embedQueries(texts, expert, { batchSize, maxLength });
  const cosDocs = rowCosines(await emb(engines.fp32, docs, null), await emb(engines.q8, docs, null), dim);
  const cosQueries = rowCosines(await emb(engines.fp32, queries, null), await emb(engines.q8, queries, null), dim);
  const cosExpert: Record<string, number> = {};
  for (const [ename] of experts) {
    cosExpert[ename] = Math.min(
      ...rowCosines(await emb(engines.fp32, queries, ename), await emb(engines.q8, queries, ename), dim),
    );
  }
  // Speed, taking turns: a query each, then a batch each.
  const times: Record<string, number[]> = { fp32: [], q8: [], fp32e: [], q8e: [], fp32i: [], q8i: [] };
  const timed = async (f: () => Promise<unknown>) => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  for (let i = 0; i < queries.length; i++) {
    for (const d of ['fp32', 'q8'] as const) {
      times[d].push(await timed(() => engines[d].embedQuery(queries[i], null)));
      times[`${d}e`].push(await timed(() => engines[d].embedQuery(queries[i], expertA)));
    }
  }
  for (let i = 0; i < docs.length; i += batchSize) {
    const slice = docs.slice(i, i + batchSize);
    for (const d of ['fp32', 'q8'] as const) {
      times[`${d}i`].push(await timed(() => engines[d].embedDocuments(slice, { batchSize, maxLength })));
    }
  }
  for (const e of Object.values(engines)) await e.dispose();
  const ratio = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]));
  const sum = (x: number[]) => x.reduce((s, v) => s + v, 0);
  return {
    model: name,
    threads,
    fp32_load_ms: loadMs.fp32,
    q8_load_ms: loadMs.q8,
    fp32_query_p50_ms: median(times.fp32),
    q8_query_p50_ms: median(times.q8),
    fp32_query_expert_p50_ms: median(times.fp32e),
    q8_query_expert_p50_ms: median(times.q8e),
    paired_query_speedup: ratio(times.fp32, times.q8),
    paired_query_expert_speedup: ratio(times.fp32e, times.q8e),
    fp32_index_docs_per_s: (docs.length * 1000) / sum(times.fp32i),
    q8_index_docs_per_s: (docs.length * 1000) / sum(times.q8i),
    paired_index_speedup: ratio(times.fp32i, times.q8i),
    fp32_expert_resident_bytes: added.fp32.bytes,
    q8_expert_resident_bytes: added.q8.bytes,
    fp32_add_expert_ms: added.fp32.ms,
    q8_add_expert_ms: added.q8.ms,
    cos_docs_min: Math.min(...cosDocs),
    cos_docs_mean: mean(cosDocs),
    cos_queries_min: Math.min(...cosQueries),
    cos_expert_min: cosExpert,
    docs: docs.length,
    queries: queries.length,
    max_length: maxLength,
    batch_size: batchSize,
    texts_source: real ? 'SciFact corpus + queries' : 'synthetic',
  };
}

async function main() {
  const rows: Row[] = [];
  for (const m of args.models.split(',')) {
    if (m === 'mini') {
      const dir = join(ROOT, 'public', 'models', 'contriever-mini');
      rows.push(
        await benchModel('contriever-mini', dir, [
          ['scifact', join(dir, 'experts', 'scifact')],
          ['nfcorpus', join(dir, 'experts', 'nfcorpus')],
        ]),
      );
    } else if (m === 'contriever') {
      const b = ensureBenchModel('contriever', join(ROOT, '.cache', 'bench-models'));
      rows.push(
        await benchModel('contriever', b.dir, [
          ['A', b.experts[0]],
          ['B', b.experts[1]],
        ]),
      );
    } else throw new Error(`unknown model ${m}: use mini or contriever`);
    console.error(`[bench] ${JSON.stringify(rows.at(-1))}`);
  }
  console.log(
    `q8 vs fp32, our encoder, Node + onnxruntime-web WASM, ${threads} thread(s), ${rows[0]?.texts_source}, max length ${maxLength}, batch ${batchSize}`,
  );
  console.log(
    formatTable(rows, [
      { header: 'model', value: (r) => r.model },
      { header: 'fp32 q p50 ms', value: (r) => r.fp32_query_p50_ms, digits: 1 },
      { header: 'q8 q p50 ms', value: (r) => r.q8_query_p50_ms, digits: 1 },
      { header: 'q speed-up', value: (r) => r.paired_query_speedup },
      { header: 'q+expert speed-up', value: (r) => r.paired_query_expert_speedup },
      { header: 'fp32 docs/s', value: (r) => r.fp32_index_docs_per_s, digits: 1 },
      { header: 'q8 docs/s', value: (r) => r.q8_index_docs_per_s, digits: 1 },
      { header: 'idx speed-up', value: (r) => r.paired_index_speedup },
      {
        header: 'expert MB fp32 / q8',
        value: (r) => `${mb(r.fp32_expert_resident_bytes)} / ${mb(r.q8_expert_resident_bytes)}`,
      },
      {
        header: 'add ms fp32 / q8',
        value: (r) => `${r.fp32_add_expert_ms.toFixed(0)} / ${r.q8_add_expert_ms.toFixed(0)}`,
      },
      { header: 'load ms fp32 / q8', value: (r) => `${r.fp32_load_ms.toFixed(0)} / ${r.q8_load_ms.toFixed(0)}` },
      { header: 'cos docs min', value: (r) => r.cos_docs_min, digits: 5 },
      { header: 'cos queries min', value: (r) => r.cos_queries_min, digits: 5 },
      {
        header: 'cos expert min',
        value: (r) =>
          Object.entries(r.cos_expert_min)
            .map(([k, v]) => `${k} ${v.toFixed(5)}`)
            .join(', '),
      },
    ]),
  );
  if (args.json) {
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'q8-node.json'), `${JSON.stringify(rows, null, 2)}\n`);
    console.log('wrote bench/results/q8-node.json');
  }
}

const mb = (b: number) => (b / 2 ** 20).toFixed(2);

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
