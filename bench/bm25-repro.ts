/**
 * BM25 reproduction check on the test qrels, both BM25 profiles (k1 0.9, b 0.4):
 *   plain    lower-case alphanumeric tokens, no stopwords/stemming, distinct query terms
 *   anserini Lucene English stop set + Porter, query term counts (the SDK default)
 * The quoted numbers in ../shared/data/README.md (SciFact 0.662, Cranfield 0.322,
 * +-0.005) are checked against `plain`, the configuration that reproduces them;
 * `anserini` lands near Anserini's published BEIR-flat SciFact BM25 (0.679).
 * This checks loading, BM25 and the trec_eval-style metric together.
 *
 *   npx tsx bench/bm25-repro.ts [--all]     (--all: every folder under ../shared/data/beir)
 */
import { readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BM25_PROFILES, Bm25Index, type Bm25Profile } from '../src/eval/bm25.js';
import { evaluateRun, type Ranking } from '../src/eval/metrics.js';
import { qrelsWithQueries } from '../src/eval/beir.js';
import { loadBeirDir } from '../tools/eval/beir-node.js';
import { parseCli } from '../tools/lib/args.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const beirRoot = resolve(repo, '../shared/data/beir');
const targets: Record<string, number> = { scifact: 0.662, cranfield: 0.322 };
const checked: Bm25Profile = 'plain';
const all = Boolean(
  parseCli(process.argv.slice(2), { all: { type: 'boolean' } }, 'the header of bench/bm25-repro.ts').values.all,
);
const names = all ? (await readdir(beirRoot)).sort() : Object.keys(targets);

let failed = false;
for (const name of names) {
  const t0 = performance.now();
  const ds = await loadBeirDir(join(beirRoot, name));
  const load = performance.now() - t0;
  const { qrels } = qrelsWithQueries(ds.qrels.get('test')!, ds.queries);
  for (const profile of Object.keys(BM25_PROFILES) as Bm25Profile[]) {
    const t1 = performance.now();
    const index = Bm25Index.build(ds.corpus, BM25_PROFILES[profile]);
    const t2 = performance.now();
    const run = new Map<string, Ranking>();
    for (const qid of qrels.keys()) run.set(qid, index.search(ds.queries.get(qid)!.text, 1000));
    const t3 = performance.now();
    const { mean, perQuery } = evaluateRun(run, qrels);
    const target = profile === checked ? targets[name] : undefined;
    const ok = target === undefined || Math.abs(mean.ndcg_at_10 - target) <= 0.005;
    if (!ok) failed = true;
    console.log(
      `${name.padEnd(20)} ${profile.padEnd(8)} docs ${String(ds.corpus.length).padStart(6)}  queries ${String(perQuery.size).padStart(5)}  ` +
        `nDCG@10 ${mean.ndcg_at_10.toFixed(4)}  R@100 ${mean.recall_at_100.toFixed(4)}  MRR@10 ${mean.mrr_at_10.toFixed(4)}` +
        (target !== undefined ? `  target ${target.toFixed(3)} ${ok ? 'OK' : 'FAIL'}` : '') +
        `  (load ${load.toFixed(0)} ms, index ${(t2 - t1).toFixed(0)} ms, search ${(t3 - t2).toFixed(0)} ms)`,
    );
  }
}
if (failed) process.exitCode = 1;
