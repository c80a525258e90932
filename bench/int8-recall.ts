/**
 * int8 recall on real embeddings: the SDK's Int8Index (scan + exact rescoring) against exact
 * float32 top-10, per BEIR collection, with the default model's base-encoder document
 * embeddings and test-query embeddings.
 *
 *   npx tsx bench/int8-recall.ts [--json]
 *
 * Inputs (git-ignored, written by the eval tools; the bench says how to make them if missing):
 * - .cache/embeddings/*.{json,f32}: document embeddings (tools/eval/cli.ts, --doc-max-length 256);
 * - .cache/routing-dump/<dataset>.{json,test.f32}: test-query embeddings (tools/eval/dump-routing-data.ts).
 * --json writes bench/results/int8-recall.json.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { exactTopK } from '../src/eval/dense.js';
import { Int8Index } from '../src/search/int8-index.js';
import { formatTable } from './lib/table.js';

const ROOT = resolve(import.meta.dirname, '..');
const EMB = join(ROOT, '.cache', 'embeddings');
const DUMP = join(ROOT, '.cache', 'routing-dump');
const K = 10;

interface Row {
  dataset: string;
  docs: number;
  queries: number;
  dim: number;
  backend: string;
  recall_at_10: number;
  recall_at_10_no_rescore: number;
  min_query_recall: number;
}

function f32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function main(): void {
  if (!existsSync(EMB) || !existsSync(DUMP)) {
    console.error(
      'Missing .cache/embeddings or .cache/routing-dump: run the eval (README "Evaluation") and tools/eval/dump-routing-data.ts first.',
    );
    process.exit(1);
  }
  const docSets = readdirSync(EMB)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({
      meta: JSON.parse(readFileSync(join(EMB, f), 'utf8')) as { dataset: string; docCount: number; dim: number },
      file: join(EMB, f.replace(/\.json$/, '.f32')),
    }));
  const rows: Row[] = [];
  for (const { meta, file } of docSets.sort((a, b) => a.meta.dataset.localeCompare(b.meta.dataset))) {
    const dumpMeta = join(DUMP, `${meta.dataset}.json`);
    if (!existsSync(dumpMeta) || !existsSync(file)) continue;
    const dim = meta.dim;
    const docs = f32(file);
    const queries = f32(join(DUMP, `${meta.dataset}.test.f32`));
    const ids = Array.from({ length: meta.docCount }, (_, i) => `d${i}`);
    const index = new Int8Index(dim);
    for (let i = 0; i < meta.docCount; i++) index.setRow(i, ids[i], docs.subarray(i * dim, (i + 1) * dim));
    const nq = queries.length / dim;
    let sum = 0;
    let sumRaw = 0;
    let worst = 1;
    for (let q = 0; q < nq; q++) {
      const query = queries.slice(q * dim, (q + 1) * dim);
      const exact = new Set(exactTopK(docs, dim, ids, query, K).ids);
      const rescored = index.search(query, K, { rescore: (row) => docs.subarray(row * dim, (row + 1) * dim) });
      const raw = index.search(query, K);
      const r = rescored.filter((h) => exact.has(h.id)).length / K;
      sum += r;
      sumRaw += raw.filter((h) => exact.has(h.id)).length / K;
      worst = Math.min(worst, r);
    }
    rows.push({
      dataset: meta.dataset,
      docs: meta.docCount,
      queries: nq,
      dim,
      backend: index.backend,
      recall_at_10: sum / nq,
      recall_at_10_no_rescore: sumRaw / nq,
      min_query_recall: worst,
    });
  }
  console.log('int8 recall@10 vs exact float32 top-10 (contriever-mini base embeddings, test queries)');
  console.log(
    formatTable(rows, [
      { header: 'dataset', value: (r) => r.dataset },
      { header: 'docs', value: (r) => r.docs, digits: 0 },
      { header: 'queries', value: (r) => r.queries, digits: 0 },
      { header: 'backend', value: (r) => r.backend },
      { header: 'recall@10 (>=0.99)', value: (r) => r.recall_at_10, digits: 4 },
      { header: 'without rescoring', value: (r) => r.recall_at_10_no_rescore, digits: 4 },
      { header: 'worst query', value: (r) => r.min_query_recall, digits: 2 },
    ]),
  );
  if (process.argv.includes('--json')) {
    writeFileSync(join(ROOT, 'bench', 'results', 'int8-recall.json'), `${JSON.stringify(rows, null, 2)}\n`);
    console.log('wrote bench/results/int8-recall.json');
  }
}

main();
