/**
 * Does a document's vector depend on the batch it is embedded in? The same SciFact abstracts
 * embedded in batches of 32 and of 5 (other neighbours, other padding), per dtype, our engine in
 * Node on onnxruntime-web's WASM backend, 1 thread.
 *
 *   npx tsx bench/q8-batch-dependence.ts [--docs 300] [--model public/models/contriever-mini] [--json]
 *
 * Per dtype: 1 - cosine between the two vectors of each document (median, max), how many
 * documents differ beyond 1e-6, and the largest element difference. --json writes
 * bench/results/q8-batch-dependence.json.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EncoderEngine } from '../workers/engine/encoder-engine.js';
import { folderSpec } from '../tools/node-folder.js';
import { scifactTexts } from './lib/scifact.js';
import { formatTable, median } from './lib/table.js';
import { maxAbsDiff, rowCosines } from './lib/vectors.js';

const { values: args } = parseArgs({
  options: {
    docs: { type: 'string', default: '300' },
    model: { type: 'string', default: 'public/models/contriever-mini' },
    json: { type: 'boolean', default: false },
  },
});
const docs = scifactTexts(Number(args.docs));
if (!docs) throw new Error('needs ../shared/data/beir/scifact');

interface Row {
  dtype: string;
  docs: number;
  one_minus_cos_median: number;
  one_minus_cos_max: number;
  docs_over_1e6: number;
  max_abs_diff: number;
}

const rows: Row[] = [];
for (const dtype of ['fp32', 'q8'] as const) {
  const e = new EncoderEngine();
  const info = await e.load(folderSpec(args.model), { device: 'wasm', dtype, numThreads: 1 });
  const dim = info.dim;
  const a = await e.embedDocuments(docs, { batchSize: 32, maxLength: 256 });
  const b = await e.embedDocuments(docs, { batchSize: 5, maxLength: 256 });
  await e.dispose();
  const gaps = rowCosines(a, b, dim).map((c) => Math.max(0, 1 - c));
  const maxAbs = maxAbsDiff(a, b);
  rows.push({
    dtype,
    docs: docs.length,
    one_minus_cos_median: median(gaps),
    one_minus_cos_max: Math.max(...gaps),
    docs_over_1e6: gaps.filter((g) => g > 1e-6).length,
    max_abs_diff: maxAbs,
  });
}
console.log(
  `Batch 32 vs batch 5, ${args.model}, SciFact abstracts, Node + onnxruntime-web WASM, 1 thread, max length 256`,
);
const exp = (v: number) => v.toExponential(2);
console.log(
  formatTable(rows, [
    { header: 'dtype', value: (r) => r.dtype },
    { header: 'docs', value: (r) => r.docs, digits: 0 },
    { header: '1-cos median', value: (r) => exp(r.one_minus_cos_median) },
    { header: '1-cos max', value: (r) => exp(r.one_minus_cos_max) },
    { header: 'docs > 1e-6', value: (r) => r.docs_over_1e6, digits: 0 },
    { header: 'max abs diff', value: (r) => exp(r.max_abs_diff) },
  ]),
);
if (args.json) {
  writeFileSync('bench/results/q8-batch-dependence.json', `${JSON.stringify({ args, rows }, null, 2)}\n`);
  console.log('wrote bench/results/q8-batch-dependence.json');
}
