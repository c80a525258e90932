/**
 * Dumps what offline routing experiments need, computed by the SDK's own eval code
 * (EncoderEngine, src/search exact search, src/eval metrics with trec_eval semantics):
 * for every dataset, its pilot (training) queries and its scored (test) queries,
 *  - the BASE-encoder query embeddings (float32, row-major), and
 *  - per encoder (base and every expert) and per query: nDCG@10, nDCG@100, the rank of the
 *    first relevant document within the top 100 (0 = none) and Recall@100.
 * Queries without a relevant judged document are kept (scored 0) so rows stay aligned.
 *
 *   npx tsx tools/eval/dump-routing-data.ts --model public/models/contriever-mini \
 *     --experts-dir public/models/contriever-mini/experts --doc-max-length 256 --runtime node \
 *     --threads 2 --data ../shared/data/beir/scifact ... --dump-dir .cache/routing-dump
 *
 * Takes the same options as tools/eval/cli.ts (model, experts, data, splits, runtime, cache)
 * plus --dump-dir DIR (default .cache/routing-dump). Writes DIR/<dataset>.json (ids,
 * metrics) and DIR/<dataset>.{pilot,test}.f32 (base query embeddings).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { docText, qrelsWithQueries } from '../../src/eval/beir.js';
import { DenseCorpus } from '../../src/eval/dense.js';
import { ndcgAtK, recallAtK, trecOrder, type Qrels } from '../../src/eval/metrics.js';
import { resolveSplit } from '../../src/eval/splits.js';
import { loadBeirDir } from './beir-node.js';
import { encoderFor, expandExperts, parseEvalArgs } from './cli.js';
import { EmbeddingCache } from './embedding-cache.js';

interface QueryRows {
  ndcg10: number[];
  ndcg100: number[];
  firstRel: number[];
  recall100: number[];
}

function scoreAll(
  ids: readonly string[],
  emb: Float32Array,
  dim: number,
  corpus: DenseCorpus,
  qrels: Qrels,
  k: number,
  dropSelf: boolean,
): QueryRows {
  const out: QueryRows = { ndcg10: [], ndcg100: [], firstRel: [], recall100: [] };
  ids.forEach((qid, i) => {
    const r = corpus.search(emb.slice(i * dim, (i + 1) * dim), k + 1);
    const ranked = trecOrder(r, dropSelf ? qid : undefined)
      .slice(0, k)
      .map((j) => r.ids[j]);
    const j = qrels.get(qid)!;
    out.ndcg10.push(ndcgAtK(ranked, j, 10));
    out.ndcg100.push(ndcgAtK(ranked, j, 100));
    const first = ranked.findIndex((d) => (j.get(d) ?? 0) > 0);
    out.firstRel.push(first + 1);
    out.recall100.push(recallAtK(ranked, j, 100));
  });
  return out;
}

async function main(argv: string[]): Promise<void> {
  // --dump-dir is this script's own; every other flag is the eval CLI's (tools/eval/cli.ts).
  const parsed = parseEvalArgs(argv, { 'dump-dir': { type: 'string' } });
  const dumpDir = (parsed.extra['dump-dir'] as string | undefined) ?? '.cache/routing-dump';
  const args = await expandExperts(parsed.args);
  const log = (s: string) => console.error(s);
  const enc = await encoderFor(args, log);
  const b = enc.backend;
  const cache = new EmbeddingCache(args.cacheDir);
  await mkdir(resolve(dumpDir), { recursive: true });
  try {
    for (const dir of args.data) {
      const ds = await loadBeirDir(dir, { maxDocs: args.maxDocs ?? undefined });
      const test = qrelsWithQueries(resolveSplit(ds, args.split, true).qrels, ds.queries).qrels;
      const pilotSplit = resolveSplit(ds, args.pilotSplit, true);
      const pilot = qrelsWithQueries(pilotSplit.qrels, ds.queries).qrels;
      const testIds = [...test.keys()];
      const pilotIds = [...pilot.keys()];
      const ids = ds.corpus.map((d) => d.id);
      const docEmb = await cache.getOrEmbed(b, ds.name, ids, ds.corpus.map(docText), 512);
      const corpus = new DenseCorpus(ids, docEmb, b.dim);
      const metrics: Record<string, { pilot: QueryRows; test: QueryRows }> = {};
      const t0 = performance.now();
      for (const e of [null, ...args.experts.map((x) => x.name)]) {
        const name = e ?? 'base';
        // Same order (and so the same encoder batches) as src/eval/run-eval.ts: test, then pilot queries.
        const qTexts = [...testIds, ...pilotIds].map((q) => ds.queries.get(q)!.text);
        const emb = await b.embedQueries(qTexts, e);
        const tEmb = emb.slice(0, testIds.length * b.dim);
        const pEmb = emb.slice(testIds.length * b.dim);
        metrics[name] = {
          pilot: scoreAll(pilotIds, pEmb, b.dim, corpus, pilot, args.k, args.ignoreIdenticalIds),
          test: scoreAll(testIds, tEmb, b.dim, corpus, test, args.k, args.ignoreIdenticalIds),
        };
        if (e === null) {
          await writeFile(
            join(dumpDir, `${ds.name}.pilot.f32`),
            new Uint8Array(pEmb.buffer, pEmb.byteOffset, pEmb.byteLength),
          );
          await writeFile(
            join(dumpDir, `${ds.name}.test.f32`),
            new Uint8Array(tEmb.buffer, tEmb.byteOffset, tEmb.byteLength),
          );
        }
        log(`${ds.name}: ${name} done (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      }
      await writeFile(
        join(dumpDir, `${ds.name}.json`),
        JSON.stringify({ dataset: ds.name, dim: b.dim, pilotSource: pilotSplit.source, pilotIds, testIds, metrics }),
      );
      log(`${ds.name}: ${pilotIds.length} pilot, ${testIds.length} test queries dumped`);
    }
  } finally {
    await enc.dispose();
  }
}

await main(process.argv.slice(2));
