import { mkdtemp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DenseBackend } from '../src/eval/dense.js';
import { exactTopK } from '../src/eval/dense.js';
import { evaluateQuery } from '../src/eval/metrics.js';
import { EmbeddingCache, cacheKey } from '../tools/eval/embedding-cache.js';
import { loadBeirDir } from '../tools/eval/beir-node.js';
import { parseBeirTexts } from '../src/eval/beir.js';
import { expandExperts, main, parseArgs, resolveMethods, runEval } from '../tools/eval/cli.js';

const DIM = 8;
function bagOfWords(text: string): Float32Array {
  const v = new Float32Array(DIM);
  for (const w of text.toLowerCase().split(/\W+/).filter(Boolean)) {
    let h = 0;
    for (const c of w) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    v[h % DIM] += 1;
  }
  return v;
}

/** A deterministic fake encoder: bag of hashed words; expert "beta" reverses the vector. */
/** Every row with a model and the experts alpha and beta, in the table's order. */
const ALL_ROWS = [
  'bm25',
  'base',
  'hybrid-base',
  'expert:alpha',
  'expert:beta',
  'dataset-router',
  'router-mean',
  'router-max',
  'router',
  'hybrid-router',
  'dataset-oracle',
  'instance-oracle',
];

function fakeBackend(fingerprint = 'fake-v1'): DenseBackend & { docCalls: number } {
  const b = {
    fingerprint,
    dim: DIM,
    docCalls: 0,
    async embedDocuments(texts: string[]) {
      b.docCalls++;
      const out = new Float32Array(texts.length * DIM);
      texts.forEach((t, i) => out.set(bagOfWords(t), i * DIM));
      return out;
    },
    async embedQueries(texts: string[], expert: string | null) {
      const out = new Float32Array(texts.length * DIM);
      texts.forEach((t, i) => {
        const v = bagOfWords(t);
        out.set(expert === 'beta' ? v.reverse() : v, i * DIM);
      });
      return out;
    },
  };
  return b;
}

async function fixture(): Promise<{ root: string; alpha: string; beta: string }> {
  const root = await mkdtemp(join(tmpdir(), 'evalcli-'));
  const words = ['apple', 'banana', 'cherry', 'delta', 'echo', 'fox', 'golf', 'hotel', 'india', 'juliet'];
  const make = async (name: string, withTrain: boolean) => {
    const dir = join(root, name);
    await mkdir(join(dir, 'qrels'), { recursive: true });
    const docs = Array.from({ length: 30 }, (_, i) =>
      JSON.stringify({
        _id: `${name}-d${i}`,
        title: words[i % 10],
        text: `${words[(i * 3) % 10]} ${words[(i * 7) % 10]} ${name}`,
      }),
    );
    await writeFile(join(dir, 'corpus.jsonl'), `${docs.join('\n')}\n`);
    const queries = Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({ _id: `q${i}`, text: `${words[i % 10]} ${name}` }),
    );
    await writeFile(join(dir, 'queries.jsonl'), `${queries.join('\n')}\n`);
    const rows = (from: number, to: number) =>
      `${[
        'query-id\tcorpus-id\tscore',
        ...Array.from({ length: to - from }, (_, k) => `q${from + k}\t${name}-d${(from + k) % 10}\t${1 + (k % 2)}`),
      ].join('\n')}\n`;
    await writeFile(join(dir, 'qrels', 'test.tsv'), rows(0, 10));
    if (withTrain) await writeFile(join(dir, 'qrels', 'train.tsv'), rows(10, 20));
    return dir;
  };
  return { root, alpha: await make('alpha', true), beta: await make('beta', false) };
}

describe('eval CLI', () => {
  it('parses arguments and resolves methods', () => {
    const a = parseArgs([
      '--model',
      'm',
      '--expert',
      'alpha=/x',
      '--expert',
      'beta=/y',
      '--data',
      'd',
      '--max-docs',
      '5',
      '--out',
      'o.json',
    ]);
    expect(a.experts).toEqual([
      { name: 'alpha', dir: '/x' },
      { name: 'beta', dir: '/y' },
    ]);
    expect(a.json).toBe(true);
    expect(a.maxDocs).toBe(5);
    expect(a.bm25Profile).toBe('plain'); // reproduces the README's BM25 numbers; 'anserini' stays selectable
    expect(parseArgs(['--data', 'd', '--bm25-profile', 'anserini']).bm25Profile).toBe('anserini');
    expect(a.k).toBe(100);
    const b = parseArgs([
      '--model',
      'm',
      '--experts-dir',
      'E',
      '--pilot-library',
      'p.json',
      '--max-length',
      '256',
      '--route-experts',
      'x,y',
      '--data',
      'd',
    ]);
    expect([b.expertsDir, b.pilotLibrary, b.maxLength, b.routeExperts]).toEqual(['E', 'p.json', 256, ['x', 'y']]);
    expect(resolveMethods(a)).toEqual(ALL_ROWS);
    expect(resolveMethods({ ...a, methods: ['bm25', 'experts'] })).toEqual(['bm25', 'expert:alpha', 'expert:beta']);
    expect(a.pilotWeighting).toBe('gain'); // chosen on training queries (bench/results/routing-selection.md)
    expect(parseArgs(['--data', 'd', '--pilot-weighting', 'none']).pilotWeighting).toBe('none');
    expect(() => parseArgs(['--data', 'd', '--pilot-weighting', 'mean'])).toThrow(/gain, size or none/);
    expect(() => parseArgs(['--data'])).toThrow(/needs a value/);
    expect(() => parseArgs(['--bogus'])).toThrow(/unknown option/);
    expect(() => resolveMethods({ ...a, model: null, methods: ['base'] })).toThrow(/need --model/);
    expect(() => resolveMethods({ ...a, methods: ['expert:zeta'] })).toThrow(/no expert named "zeta"/);
  });

  it('runs every method end to end with a fake backend, caches corpus embeddings, writes JSON and routing decisions', async () => {
    const { root, alpha, beta } = await fixture();
    const cacheDir = join(root, 'cache');
    const args = parseArgs([
      '--model',
      'fake',
      '--expert',
      'alpha=/a',
      '--expert',
      'beta=/b',
      '--data',
      alpha,
      '--data',
      beta,
      '--cache-dir',
      cacheDir,
      '--k',
      '20',
    ]);
    const backend = fakeBackend();
    const logs: string[] = [];
    const out = await runEval(args, { createBackend: async () => backend, log: (s) => logs.push(s) });
    expect(out.result.datasets).toEqual(['alpha', 'beta']);
    expect(out.result.rows.map((r) => r.method)).toEqual(ALL_ROWS);
    // beta has no train qrels: scored on its hash "test" half, printed.
    expect(out.result.splits).toEqual({ alpha: 'qrels/test.tsv', beta: 'sha1-odd-half(qrels/test.tsv)' });
    expect(logs.some((l) => l.includes('beta: pilot queries') && l.includes('sha1-even-half'))).toBe(true);
    const row = (m: string) => out.result.rows.find((r) => r.method === m)!;
    for (const r of out.result.rows) for (const d of ['alpha', 'beta', 'avg']) expect(r.ndcg_at_10[d]).not.toBeNull();
    // Oracles bound the experts.
    for (const d of ['alpha', 'beta']) {
      const best = Math.max(row('expert:alpha').ndcg_at_10[d]!, row('expert:beta').ndcg_at_10[d]!);
      expect(row('dataset-oracle').ndcg_at_10[d]).toBeCloseTo(best, 12);
      expect(row('instance-oracle').ndcg_at_10[d]!).toBeGreaterThanOrEqual(best - 1e-12);
    }
    expect(out.result.routing_accuracy!.map((a) => a.method)).toEqual([
      'dataset-router',
      'router-mean',
      'router-max',
      'router',
    ]);
    expect(out.routing.length).toBe(4 * (row('base').num_queries.alpha + row('base').num_queries.beta));
    // The abstaining router sends each query to an expert or keeps it on the base, scoring as that row.
    const decided = out.routing.filter((x) => x.method === 'router' && x.dataset === 'alpha');
    for (const r of decided) expect(['base', 'alpha', 'beta']).toContain(r.expert);
    const mean = decided.reduce((t, r) => t + r.ndcg_at_10, 0) / decided.length;
    expect(row('router').ndcg_at_10.alpha).toBeCloseTo(mean, 12);
    expect(out.routing[0]).toMatchObject({ dataset: 'alpha', method: 'dataset-router' });
    expect(out.markdown).toContain('| nDCG@10 x100 | alpha | beta | avg |');
    expect(out.markdown).toContain('routing acc.');
    expect(backend.docCalls).toBeGreaterThan(0);
    // Default gain weighting: at most one pilot per expert, so mean and max route alike; recorded in meta.
    for (const l of out.pilotLibrary!.values()) expect(l.length).toBeLessThanOrEqual(1);
    expect(row('router-mean').ndcg_at_10).toEqual(row('router-max').ndcg_at_10);
    expect(out.result.meta?.pilot_build).toEqual({ k: 1, uninformative: 'first', weighting: 'gain' });

    // Second run: corpus embeddings come from the cache.
    const again = fakeBackend();
    const out2 = await runEval(args, { createBackend: async () => again, log: () => {} });
    expect(again.docCalls).toBe(0);
    expect(out2.result.rows).toEqual(out.result.rows);
    // Another model fingerprint or --max-docs misses.
    const other = fakeBackend('fake-v2');
    await runEval({ ...args, methods: ['base'] }, { createBackend: async () => other, log: () => {} });
    expect(other.docCalls).toBeGreaterThan(0);
    expect((await readdir(cacheDir)).filter((f) => f.endsWith('.f32'))).toHaveLength(4);

    // main(): JSON + routing file.
    const outFile = join(root, 'res.json');
    const code = await main(['--data', alpha, '--methods', 'bm25', '--out', outFile, '--cache-dir', cacheDir]);
    expect(code).toBe(0);
    const json = JSON.parse(await readFile(outFile, 'utf8'));
    expect(json.rows[0].method).toBe('bm25');
    expect(Object.keys(json.rows[0].ndcg_at_10)).toEqual(['alpha', 'avg']);
    expect(json.splits.alpha).toBe('qrels/test.tsv');

    // The browser's parser (texts in) gives the same dataset as the Node loader.
    const read = (f: string) => readFile(join(alpha, f), 'utf8');
    const fromTexts = parseBeirTexts('alpha', {
      corpus: await read('corpus.jsonl'),
      queries: await read('queries.jsonl'),
      qrels: { test: await read('qrels/test.tsv'), train: await read('qrels/train.tsv') },
    });
    expect(fromTexts).toEqual(await loadBeirDir(alpha));
  });

  it('--run-out writes a TREC run per row with a ranking; trec_eval over a run gives the row', async () => {
    const { root, alpha, beta } = await fixture();
    const runDir = join(root, 'runs');
    const outFile = join(root, 'runs.json');
    const argv = ['--model', 'fake', '--expert', 'alpha=/a', '--expert', 'beta=/b', '--data', alpha, '--data', beta];
    const code = await main(
      [...argv, '--cache-dir', join(root, 'cache'), '--k', '20', '--out', outFile, '--run-out', runDir],
      {
        createBackend: async () => fakeBackend(),
        log: () => {},
      },
    );
    expect(code).toBe(0);
    const json = JSON.parse(await readFile(outFile, 'utf8'));
    const files = (await readdir(join(runDir, 'alpha'))).sort();
    // Every row but the oracles (they choose per query by the qrels).
    expect(files).toEqual(
      [
        'base',
        'bm25',
        'dataset-router',
        'expert-alpha',
        'expert-beta',
        'hybrid-base',
        'hybrid-router',
        'router',
        'router-max',
        'router-mean',
      ]
        .map((m) => `${m}.run`)
        .sort(),
    );
    const qrels = (await loadBeirDir(alpha)).qrels.get('test')!;
    for (const m of ['bm25', 'hybrid-router', 'router-mean']) {
      const lines = (await readFile(join(runDir, 'alpha', `${m}.run`), 'utf8')).trim().split('\n');
      const byQuery = new Map<string, { ids: string[]; scores: number[] }>();
      for (const line of lines) {
        const [qid, q0, doc, rank, score, tag] = line.split(' ');
        expect([q0, tag]).toEqual(['Q0', m]);
        const r = byQuery.get(qid) ?? { ids: [], scores: [] };
        expect(Number(rank)).toBe(r.ids.length + 1);
        r.ids.push(doc);
        r.scores.push(Number(score));
        byQuery.set(qid, r);
      }
      let sum = 0;
      let n = 0;
      for (const [qid, judged] of qrels) {
        const metrics = evaluateQuery(qid, byQuery.get(qid), judged);
        if (metrics) {
          sum += metrics.ndcg_at_10;
          n++;
        }
      }
      expect(sum / n, m).toBeCloseTo(json.rows.find((r: { method: string }) => r.method === m).ndcg_at_10.alpha, 5);
    }
  });

  it('--experts-dir registers every subfolder with an adapter_config.json, sorted', async () => {
    const root = await mkdtemp(join(tmpdir(), 'expdir-'));
    for (const n of ['scifact', 'arguana', 'multitask', 'notes']) {
      await mkdir(join(root, n), { recursive: true });
      if (n !== 'notes') await writeFile(join(root, n, 'adapter_config.json'), '{}');
    }
    const a = await expandExperts(
      parseArgs(['--model', 'm', '--expert', 'nfcorpus=/n', '--experts-dir', root, '--data', 'd']),
    );
    expect(a.experts.map((e) => e.name)).toEqual(['nfcorpus', 'arguana', 'multitask', 'scifact']);
    expect(a.experts[1].dir).toBe(join(root, 'arguana'));
    await expect(
      expandExperts(parseArgs(['--model', 'm', '--expert', 'scifact=/s', '--experts-dir', root, '--data', 'd'])),
    ).rejects.toThrow(/given by --expert/);
  });

  it('a missing model folder fails with a typed error, not a crash', async () => {
    const { root, alpha } = await fixture();
    await expect(
      runEval(parseArgs(['--model', join(root, 'nope'), '--data', alpha, '--methods', 'base']), { log: () => {} }),
    ).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });
});

describe('embedding cache', () => {
  it('keys on fingerprint, dataset, count, dim and content; round-trips float32', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'embcache-'));
    const cache = new EmbeddingCache(dir);
    const b = fakeBackend();
    const e1 = await cache.getOrEmbed(b, 'ds', ['a', 'b'], ['apple', 'banana split'], 1);
    expect(b.docCalls).toBe(2);
    const e2 = await cache.getOrEmbed(b, 'ds', ['a', 'b'], ['apple', 'banana split']);
    expect(b.docCalls).toBe(2);
    expect(e2).toEqual(e1);
    await cache.getOrEmbed(b, 'ds', ['a', 'b'], ['apple', 'banana CHANGED']);
    expect(b.docCalls).toBe(3);
    const base = { fingerprint: 'f', dataset: 'd', docCount: 1, dim: 2, contentDigest: 'x' };
    expect(cacheKey(base)).not.toBe(cacheKey({ ...base, fingerprint: 'g' }));
    expect(cacheKey(base)).not.toBe(cacheKey({ ...base, dataset: 'e' }));
    expect(cacheKey(base)).not.toBe(cacheKey({ ...base, docCount: 2 }));
  });

  it('exactTopK ranks by dot product with trec_eval ties', () => {
    const docs = new Float32Array([1, 0, 0, 1, 1, 0]);
    const r = exactTopK(docs, 2, ['a', 'b', 'c'], new Float32Array([1, 0]), 3);
    expect(r.ids).toEqual(['c', 'a', 'b']);
  });
});
