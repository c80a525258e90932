/**
 * Search kernel benchmark (Node version; the headless-Chromium runner is still to come):
 *   npx tsx bench/search.ts [--json] [--quick] [--no-1m]
 * Prints ms per query (median) for exact top-10 over N = 10k and 100k 768-d float32
 * vectors (WASM SIMD SearchIndex and the unrolled JS kernel) and 1M int8 (Int8Index,
 * int8 scan + exact float rescoring of 100 candidates), each beside a naive JS loop
 * over the same data and a memory-read floor (touching every 64-byte line of the
 * same bytes once, which reads them all from memory). recall_at_10 is against exact
 * float64 search. --json writes bench/results/search-node.json (the Chromium runner will
 * write bench/results/search.json).
 * Data: 64 Gaussian clusters (center + noise), row i generated from a seed derived
 * from i, so any row can be regenerated for rescoring without keeping 3 GB of floats.
 * Data and measurements live in bench/search-core.ts (shared with the Chromium runner).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { DIM, runFloat, runInt8, type BenchRow } from './search-core.js';

const args = new Set(process.argv.slice(2));
const results: BenchRow[] = [];
const runtime = `node ${process.version}`;

for (const n of args.has('--quick') ? [10_000] : [10_000, 100_000]) {
  const r = await runFloat(n, runtime, { jsUnrolled: true });
  results.push(r);
  console.log(
    `N=${n} float32 ${DIM}-d: ${r.backend} ${r.ms_per_query.toFixed(2)} ms/q | JS unrolled ${r.js_unrolled_ms_per_query!.toFixed(2)} | naive ${r.naive_ms_per_query.toFixed(2)} | floor ${r.floor_ms.toFixed(2)} | recall@10 ${r.recall_at_10}`,
  );
}

if (!args.has('--no-1m') && !args.has('--quick')) {
  const n = 1_000_000;
  const r = await runInt8(n, runtime);
  results.push(r);
  console.log(
    `N=${n} int8 ${DIM}-d: ${r.backend} ${r.ms_per_query.toFixed(2)} ms/q (incl. rescoring 100) | naive ${r.naive_ms_per_query.toFixed(2)} | floor ${r.floor_ms.toFixed(2)} | recall@10 ${r.recall_at_10}`,
  );
}

if (args.has('--json')) {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/search-node.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
  console.log('wrote bench/results/search-node.json');
}
