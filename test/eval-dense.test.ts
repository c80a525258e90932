/**
 * The eval CLI's dense path end to end on the tiny fixture model and its two experts
 * (the SDK's EncoderEngine on ORT WASM, src/search, src/router), over a hand-made BEIR
 * folder pair: "alpha" has train and test qrels, "beta" has test qrels only (hash split).
 */
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WEIGHT_GRID } from '../src/eval/hybrid-rows.js';
import { describe, expect, it } from 'vitest';
import { hashHalf } from '../src/eval/splits.js';
import { main, parseArgs, runEval, type EvalDeps } from '../tools/eval/cli.js';
import { createNodeEncoder } from '../tools/eval/encoder-node.js';
import { FIXTURES } from './helpers/fixtures.js';

const MODEL = join(FIXTURES, 'tiny-bert');
const EXPERTS = [
  '--expert',
  `expert-a=${join(FIXTURES, 'adapters', 'expert-a')}`,
  '--expert',
  `expert-b=${join(FIXTURES, 'adapters', 'expert-b')}`,
];
const TOPICS = [
  'protein folding in yeast cells',
  'solar panel efficiency at high temperature',
  'vitamin d and bone density',
  'neural networks for image recognition',
  'coral reef bleaching and ocean heat',
  'antibiotic resistance in hospitals',
  'electric cars and battery recycling',
  'sleep deprivation and memory',
  'volcanic ash and air travel',
  'gene editing of crops',
  'dark matter in spiral galaxies',
  'urban heat islands and trees',
];

async function beirFolder(root: string, name: string, withTrain: boolean): Promise<string> {
  const dir = join(root, name);
  await mkdir(join(dir, 'qrels'), { recursive: true });
  const docs = TOPICS.flatMap((t, i) => [
    { _id: `${name}-d${i}`, title: t, text: `A study of ${t}. Results are reported for ${name}.` },
    { _id: `${name}-x${i}`, title: '', text: `Unrelated note number ${i} about ${TOPICS[(i + 5) % TOPICS.length]}.` },
  ]);
  await writeFile(join(dir, 'corpus.jsonl'), `${docs.map((d) => JSON.stringify(d)).join('\n')}\n`);
  const queries = TOPICS.map((t, i) => ({ _id: `${name}-q${i}`, text: `what is known about ${t}?` }));
  await writeFile(join(dir, 'queries.jsonl'), `${queries.map((q) => JSON.stringify(q)).join('\n')}\n`);
  const qrels = (ids: number[]) =>
    `${[
      'query-id\tcorpus-id\tscore',
      ...ids.flatMap((i) => [`${name}-q${i}\t${name}-d${i}\t2`, `${name}-q${i}\t${name}-x${(i + 7) % 12}\t1`]),
    ].join('\n')}\n`;
  const all = TOPICS.map((_, i) => i);
  await writeFile(join(dir, 'qrels', 'test.tsv'), qrels(withTrain ? all.slice(0, 6) : all));
  if (withTrain) await writeFile(join(dir, 'qrels', 'train.tsv'), qrels(all.slice(6)));
  return dir;
}

describe('eval CLI dense path on the tiny fixture model', () => {
  it('computes every row, bounds by the oracles, caches the corpus, hash-splits a domain without train qrels', async () => {
    const root = await mkdtemp(join(tmpdir(), 'evaldense-'));
    const alpha = await beirFolder(root, 'alpha', true);
    const beta = await beirFolder(root, 'beta', false);
    const cacheDir = join(root, 'cache');
    let docCalls = 0;
    const deps = (logs: string[]): EvalDeps => ({
      log: (l) => logs.push(l),
      createBackend: async (args, log) => {
        const enc = await createNodeEncoder({ model: args.model!, experts: args.experts, threads: 1, log });
        const b = enc.backend;
        return {
          ...b,
          embedDocuments: (texts: string[]) => {
            docCalls++;
            return b.embedDocuments(texts);
          },
          dispose: enc.dispose,
        };
      },
    });
    const argv = ['--model', MODEL, ...EXPERTS, '--data', alpha, '--data', beta, '--cache-dir', cacheDir];
    const logs: string[] = [];
    const out = await runEval(parseArgs(argv), deps(logs));

    const methods = [
      'bm25',
      'base',
      'hybrid-base',
      'expert:expert-a',
      'expert:expert-b',
      'dataset-router',
      'router-mean',
      'router-max',
      'router',
      'hybrid-router',
      'dataset-oracle',
      'instance-oracle',
    ];
    expect(out.result.rows.map((r) => r.method)).toEqual(methods);
    expect(out.result.datasets).toEqual(['alpha', 'beta']);
    for (const r of out.result.rows) {
      for (const key of ['ndcg_at_10', 'recall_at_100', 'mrr_at_10'] as const) {
        for (const d of ['alpha', 'beta', 'avg']) expect(r[key][d]).toBeTypeOf('number');
      }
    }
    for (const m of methods) expect(out.markdown).toContain(`| ${m} |`);
    expect(out.markdown).toContain('| nDCG@10 x100 | alpha | beta | avg |');
    expect(out.markdown).toContain('routing acc.');

    // Oracles bound every single-expert row and every router, per dataset and metric nDCG@10.
    const v = (m: string, d: string) => out.result.rows.find((r) => r.method === m)!.ndcg_at_10[d]!;
    for (const d of ['alpha', 'beta']) {
      for (const m of ['expert:expert-a', 'expert:expert-b'])
        expect(v('dataset-oracle', d)).toBeGreaterThanOrEqual(v(m, d) - 1e-12);
      for (const m of [
        'expert:expert-a',
        'expert:expert-b',
        'dataset-router',
        'router-mean',
        'router-max',
        'dataset-oracle',
      ] as const) {
        expect(v('instance-oracle', d)).toBeGreaterThanOrEqual(v(m, d) - 1e-12);
      }
    }

    // Hybrid rows: a lexical weight learned on the pilot queries, one of the grid's.
    const fusion = out.result.meta?.fusion as Record<string, unknown>;
    for (const h of ['hybrid-base', 'hybrid-router']) expect(WEIGHT_GRID).toContain(fusion[`${h}_weight`]);
    // Weight 0 ranks as the dense side (base / the router's expert), weight 1 as BM25.
    const ends = async (weight: number) =>
      runEval(
        parseArgs([
          ...argv,
          '--methods',
          'bm25,base,router,hybrid-base,hybrid-router',
          '--fusion-weight',
          String(weight),
        ]),
        deps([]),
      );
    const [dense, lexical] = [await ends(0), await ends(1)];
    const row = (o: typeof out, m: string) => o.result.rows.find((r) => r.method === m)!.ndcg_at_10;
    expect(row(dense, 'hybrid-base')).toEqual(row(dense, 'base'));
    // hybrid-router routes as search() does by default: the abstaining router built with the library.
    expect(row(dense, 'hybrid-router')).toEqual(row(dense, 'router'));
    for (const d of ['alpha', 'beta']) expect(row(lexical, 'hybrid-base')[d]).toBeCloseTo(row(lexical, 'bm25')[d]!, 2);
    expect(row(lexical, 'hybrid-router')).toEqual(row(lexical, 'hybrid-base'));

    // beta has no qrels/train.tsv: pilots from the even sha1 half, scored on the odd half, both printed.
    const betaTest = TOPICS.map((_, i) => `beta-q${i}`).filter((q) => hashHalf(q) === 'test');
    expect(out.result.splits).toEqual({ alpha: 'qrels/test.tsv', beta: 'sha1-odd-half(qrels/test.tsv)' });
    expect(out.result.rows[0].num_queries.beta).toBe(betaTest.length);
    expect(logs.some((l) => l.startsWith('beta: pilot queries') && l.includes('sha1-even-half(qrels/test.tsv)'))).toBe(
      true,
    );
    expect(logs.some((l) => l.startsWith('beta:') && l.includes('from sha1-odd-half(qrels/test.tsv)'))).toBe(true);
    expect(
      out.routing
        .filter((r) => r.dataset === 'beta' && r.method === 'router-mean')
        .map((r) => r.query_id)
        .sort(),
    ).toEqual(betaTest.sort());
    expect(out.result.routing_accuracy!.map((a) => a.method)).toEqual([
      'dataset-router',
      'router-mean',
      'router-max',
      'router',
    ]);
    expect(docCalls).toBeGreaterThan(0);

    // Second run: no document is embedded again; same numbers.
    docCalls = 0;
    const outFile = join(root, 'res.json');
    const logs2: string[] = [];
    expect(await main([...argv, '--out', outFile], deps(logs2))).toBe(0);
    expect(docCalls).toBe(0);
    expect(logs2.filter((l) => l.includes('from the cache'))).toHaveLength(2);
    const json = JSON.parse(await readFile(outFile, 'utf8'));
    expect(json.rows).toEqual(out.result.rows);
    const routing = (await readFile(outFile.replace(/\.json$/, '.routing.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(routing).toHaveLength(out.routing.length);
    // The built pilot library is written and can be fed back with --pilot-library.
    const pilotsFile = outFile.replace(/\.json$/, '.pilots.json');
    const again = await runEval(
      parseArgs([...argv, '--pilot-library', pilotsFile, '--methods', 'router-mean,router-max,router']),
      deps([]),
    );
    // The file carries the abstention rule built with it ("_abstain"): the router row is the same too.
    expect(again.result.meta?.abstain).toMatchObject({ source: 'given', k: 50, min_gain: 0.02 });
    for (const m of ['router-mean', 'router-max', 'router']) {
      expect(again.result.rows.find((r) => r.method === m)!.ndcg_at_10.alpha).toEqual(
        out.result.rows.find((r) => r.method === m)!.ndcg_at_10.alpha,
      );
    }
    // With a given library nothing is built from beta's queries, so all of them are scored.
    expect(again.result.splits).toEqual({ alpha: 'qrels/test.tsv', beta: 'qrels/test.tsv' });
    expect(again.result.rows[0].num_queries.beta).toBeGreaterThan(out.result.rows[0].num_queries.beta);
  }, 180_000);
});
