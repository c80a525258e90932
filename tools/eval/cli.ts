/**
 * Evaluation CLI: the paper's table on BEIR folders.
 *
 *   npx tsx tools/eval/cli.ts --data ../shared/data/beir/scifact --data ../shared/data/beir/cranfield --methods bm25
 *   npx tsx tools/eval/cli.ts --model <dir|url> --expert scifact=<dir> ... --data <beir dir> ... [--json] [--out FILE]
 *
 * Options:
 *   --model <dir|url>        base model (dense methods)
 *   --expert name=<dir>      a LoRA expert (repeatable; order = tie-break order)
 *   --data <dir>             a BEIR folder (repeatable); the folder name is the dataset name
 *   --split test             qrels split scored (default test)
 *   --pilot-split train      split the pilot library / DatasetRouter use (default train)
 *   --methods a,b,...        bm25, base, expert:<name> (or "experts"), dataset-router, router-mean,
 *                            router-max, dataset-oracle, instance-oracle (default: all that apply)
 *   --json                   write the JSON result (to --out, else bench/results/eval-<time>.json)
 *   --out FILE               JSON result file (implies --json)
 *   --routing-out FILE       per-query routing decisions, JSONL (default <out>.routing.jsonl)
 *   --max-docs N             keep the first N documents of each corpus
 *   --k N                    documents retrieved per query (default 1000)
 *   --bm25-profile P         anserini (default) | plain, see src/eval/bm25.ts BM25_PROFILES
 *   --hash-split MODE        auto (default: only when a dense method runs) | always | never;
 *                            domains without qrels/train.tsv are split by src/eval/splits.ts
 *   --keep-identical-ids     do not drop a retrieved doc whose id equals the query id (BEIR drops it)
 *   --cache-dir DIR          embedding cache (default <repo>/.cache/embeddings)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RouterRetrieverError, isRouterRetrieverError } from '../../src/errors.js';
import { docText, qrelsWithQueries, type BeirDataset } from '../../src/eval/beir.js';
import { BM25_PROFILES, Bm25Index, type Bm25Profile } from '../../src/eval/bm25.js';
import { exactTopK, type DenseBackend, type PilotDomain, type RouterBuilder, type RouterKind } from '../../src/eval/dense.js';
import { evaluateQuery, evaluateRun, type QueryMetrics, type Qrels, type Ranking } from '../../src/eval/metrics.js';
import { resolveSplit } from '../../src/eval/splits.js';
import {
  buildResultJson,
  datasetOracle,
  expertOf,
  formatMarkdownTable,
  formatRoutingTable,
  instanceOracle,
  routingAccuracy,
  type MethodScores,
  type PerQueryScores,
  type ResultJson,
  type RoutingAccuracy,
} from '../../src/eval/table.js';
import { loadBeirDir } from './beir-node.js';
import { EmbeddingCache } from './embedding-cache.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ROUTERS: readonly RouterKind[] = ['dataset-router', 'router-mean', 'router-max'];
const ORACLES = ['dataset-oracle', 'instance-oracle'] as const;

export interface EvalArgs {
  model: string | null;
  experts: { name: string; dir: string }[];
  data: string[];
  split: string;
  pilotSplit: string;
  methods: string[] | null;
  json: boolean;
  out: string | null;
  routingOut: string | null;
  maxDocs: number | null;
  k: number;
  bm25Profile: Bm25Profile;
  hashSplit: 'auto' | 'always' | 'never';
  ignoreIdenticalIds: boolean;
  cacheDir: string;
}

function bad(msg: string): never {
  throw new RouterRetrieverError('INVALID_INPUT', msg);
}

export function parseArgs(argv: readonly string[]): EvalArgs {
  const a: EvalArgs = {
    model: null,
    experts: [],
    data: [],
    split: 'test',
    pilotSplit: 'train',
    methods: null,
    json: false,
    out: null,
    routingOut: null,
    maxDocs: null,
    k: 1000,
    bm25Profile: 'anserini',
    hashSplit: 'auto',
    ignoreIdenticalIds: true,
    cacheDir: join(REPO, '.cache/embeddings'),
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) bad(`${flag} needs a value`);
      return v;
    };
    const int = (): number => {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) <= 0) bad(`${flag} needs a positive integer, got "${v}"`);
      return Number(v);
    };
    switch (flag) {
      case '--model': a.model = value(); break;
      case '--expert': {
        const v = value();
        const eq = v.indexOf('=');
        if (eq <= 0 || eq === v.length - 1) bad(`--expert must be name=<dir>, got "${v}"`);
        const name = v.slice(0, eq);
        if (a.experts.some((e) => e.name === name)) bad(`--expert ${name} given twice`);
        a.experts.push({ name, dir: v.slice(eq + 1) });
        break;
      }
      case '--data': a.data.push(value()); break;
      case '--split': a.split = value(); break;
      case '--pilot-split': a.pilotSplit = value(); break;
      case '--methods': a.methods = value().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--json': a.json = true; break;
      case '--out': a.out = value(); a.json = true; break;
      case '--routing-out': a.routingOut = value(); break;
      case '--max-docs': a.maxDocs = int(); break;
      case '--k': a.k = int(); break;
      case '--bm25-profile': {
        const v = value();
        if (!(v in BM25_PROFILES)) bad(`--bm25-profile must be one of ${Object.keys(BM25_PROFILES).join(', ')}`);
        a.bm25Profile = v as Bm25Profile;
        break;
      }
      case '--hash-split': {
        const v = value();
        if (v !== 'auto' && v !== 'always' && v !== 'never') bad('--hash-split must be auto, always or never');
        a.hashSplit = v;
        break;
      }
      case '--keep-identical-ids': a.ignoreIdenticalIds = false; break;
      case '--cache-dir': a.cacheDir = value(); break;
      default: bad(`unknown option "${flag}" (see the header of tools/eval/cli.ts)`);
    }
  }
  if (a.data.length === 0) bad('give at least one --data <beir dir>');
  return a;
}

/** The methods to run, expanded ("experts" -> every expert:<name>) and validated. */
export function resolveMethods(args: EvalArgs): string[] {
  const experts = args.experts.map((e) => `expert:${e.name}`);
  if (args.methods === null) {
    const dense = args.model ? ['base'] : [];
    const withExperts = args.model && experts.length > 0 ? [...experts, ...ROUTERS, ...ORACLES] : [];
    return ['bm25', ...dense, ...withExperts];
  }
  const out: string[] = [];
  for (const m of args.methods) {
    if (m === 'experts') out.push(...experts);
    else if (m.startsWith('expert:')) {
      if (!experts.includes(m)) bad(`method ${m}: no --expert ${m.slice(7)}=<dir>`);
      out.push(m);
    } else if (m === 'bm25' || m === 'base' || (ROUTERS as readonly string[]).includes(m) || (ORACLES as readonly string[]).includes(m)) out.push(m);
    else bad(`unknown method "${m}"`);
  }
  const dense = out.filter((m) => m !== 'bm25');
  if (dense.length > 0 && !args.model) bad(`methods ${dense.join(', ')} need --model`);
  if (out.some((m) => (ROUTERS as readonly string[]).includes(m) || (ORACLES as readonly string[]).includes(m)) && experts.length === 0) {
    bad('routers and oracles need at least one --expert');
  }
  return [...new Set(out)];
}

export interface EvalDeps {
  /** INTEGRATION POINT: build the SDK encoder for --model / --expert. */
  createBackend?: (args: EvalArgs) => Promise<DenseBackend>;
  /** INTEGRATION POINT: src/router's pilot library / DatasetRouter. */
  routerBuilder?: RouterBuilder;
  log?: (line: string) => void;
}

export interface RoutingRecord {
  dataset: string;
  query_id: string;
  method: string;
  expert: string;
  scores?: Record<string, number>;
  oracle_best: string[];
  ndcg_at_10: number;
}

export interface EvalOutput {
  result: ResultJson;
  markdown: string;
  routing: RoutingRecord[];
}

async function defaultCreateBackend(): Promise<DenseBackend> {
  // INTEGRATION POINT: wire workers/engine's EncoderEngine (onnxruntime-web WASM in Node) here.
  throw new RouterRetrieverError('NOT_READY', 'dense methods are not wired to the encoder yet (tools/eval/cli.ts createBackend); run with --methods bm25');
}

function toScores(run: Map<string, Ranking>, qrels: Qrels, ignoreIdenticalIds: boolean): Map<string, QueryMetrics> {
  return evaluateRun(run, qrels, { ignoreIdenticalIds }).perQuery;
}

export async function runEval(args: EvalArgs, deps: EvalDeps = {}): Promise<EvalOutput> {
  const log = deps.log ?? ((s: string) => console.error(s));
  const methods = resolveMethods(args);
  const denseMethods = methods.filter((m) => m !== 'bm25');
  const hashSplit = args.hashSplit === 'always' || (args.hashSplit === 'auto' && denseMethods.length > 0);
  const expertNames = args.experts.map((e) => e.name);
  const needExpertRuns = new Set<string>(methods.map(expertOf).filter((x): x is string => x !== null));
  if (methods.some((m) => (ORACLES as readonly string[]).includes(m))) expertNames.forEach((n) => needExpertRuns.add(n));
  const routerKinds = ROUTERS.filter((r) => methods.includes(r));

  const backend = denseMethods.length > 0 ? await (deps.createBackend ?? defaultCreateBackend)(args) : null;
  const cache = new EmbeddingCache(args.cacheDir);

  const datasets: string[] = [];
  const splits: Record<string, string> = {};
  const rows = new Map<string, PerQueryScores>(methods.map((m) => [m, new Map()]));
  const expertScores = new Map<string, PerQueryScores>(expertNames.map((n) => [n, new Map()]));
  const loaded: { ds: BeirDataset; qrels: Qrels; docEmb: Float32Array | null; ids: string[] }[] = [];

  for (const dir of args.data) {
    const ds = await loadBeirDir(dir, { maxDocs: args.maxDocs ?? undefined });
    if (datasets.includes(ds.name)) bad(`dataset ${ds.name} given twice`);
    datasets.push(ds.name);
    const split = resolveSplit(ds, args.split, hashSplit);
    const { qrels, missing } = qrelsWithQueries(split.qrels, ds.queries);
    splits[ds.name] = split.source;
    log(`${ds.name}: ${ds.corpus.length} docs, ${qrels.size} ${args.split} queries from ${split.source}` +
      (missing.length ? ` (${missing.length} qrels queries missing from queries.jsonl, skipped)` : ''));
    const ids = ds.corpus.map((d) => d.id);

    if (methods.includes('bm25')) {
      const t0 = performance.now();
      const index = Bm25Index.build(ds.corpus, BM25_PROFILES[args.bm25Profile]);
      const run = new Map<string, Ranking>();
      for (const qid of qrels.keys()) run.set(qid, index.search(ds.queries.get(qid)!.text, args.k));
      rows.get('bm25')!.set(ds.name, toScores(run, qrels, args.ignoreIdenticalIds));
      log(`  bm25 (${args.bm25Profile}): ${(performance.now() - t0).toFixed(0)} ms`);
    }

    let docEmb: Float32Array | null = null;
    if (backend) {
      docEmb = await cache.getOrEmbed(backend, ds.name, ids, ds.corpus.map(docText));
      const denseRun = async (expert: string | null): Promise<Map<string, QueryMetrics>> => {
        const run = new Map<string, Ranking>();
        for (const qid of qrels.keys()) {
          const q = await backend.embedQuery(ds.queries.get(qid)!.text, expert);
          run.set(qid, exactTopK(docEmb!, backend.dim, ids, q, args.k));
        }
        return toScores(run, qrels, args.ignoreIdenticalIds);
      };
      if (methods.includes('base')) rows.get('base')!.set(ds.name, await denseRun(null));
      for (const name of needExpertRuns) {
        const s = await denseRun(name);
        expertScores.get(name)!.set(ds.name, s);
        rows.get(`expert:${name}`)?.set(ds.name, s);
      }
    }
    loaded.push({ ds, qrels, docEmb, ids });
  }

  // Oracles from the expert rows.
  const inst = instanceOracle(expertScores);
  if (methods.includes('dataset-oracle')) rows.set('dataset-oracle', datasetOracle(expertScores).perQuery);
  if (methods.includes('instance-oracle')) rows.set('instance-oracle', inst.perQuery);

  // Routers: pilot library from --pilot-split queries, then route every scored query.
  const routing: RoutingRecord[] = [];
  const accuracies: RoutingAccuracy[] = [];
  if (routerKinds.length > 0 && backend) {
    if (!deps.routerBuilder) {
      // INTEGRATION POINT: pass src/router's RouterBuilder here once it exists.
      throw new RouterRetrieverError('NOT_READY', `methods ${routerKinds.join(', ')} need src/router (EvalDeps.routerBuilder), not wired yet`);
    }
    const pilots: PilotDomain[] = [];
    for (const { ds, docEmb, ids } of loaded) {
      const split = resolveSplit(ds, args.pilotSplit, true);
      const { qrels } = qrelsWithQueries(split.qrels, ds.queries);
      log(`${ds.name}: pilot library from ${qrels.size} ${args.pilotSplit} queries (${split.source})`);
      const queryIds = [...qrels.keys()];
      const baseEmbeddings = new Float32Array(queryIds.length * backend.dim);
      const expertNdcg = new Map<string, Float64Array>(expertNames.map((n) => [n, new Float64Array(queryIds.length)]));
      for (let i = 0; i < queryIds.length; i++) {
        const text = ds.queries.get(queryIds[i])!.text;
        baseEmbeddings.set(await backend.embedQuery(text, null), i * backend.dim);
        for (const n of expertNames) {
          const r = exactTopK(docEmb!, backend.dim, ids, await backend.embedQuery(text, n), args.k);
          const m = evaluateQuery(queryIds[i], r, qrels.get(queryIds[i])!, { ignoreIdenticalIds: args.ignoreIdenticalIds, noRelevant: 'zero' });
          expertNdcg.get(n)![i] = m?.ndcg_at_10 ?? 0;
        }
      }
      pilots.push({ domain: ds.name, queryIds, baseEmbeddings, expertNdcg });
    }
    for (const kind of routerKinds) {
      const router = deps.routerBuilder.build(kind, pilots, expertNames, backend.dim);
      const decisions = new Map<string, Map<string, string>>();
      for (const { ds, qrels } of loaded) {
        const byQuery = new Map<string, string>();
        const scores = new Map<string, QueryMetrics>();
        for (const qid of qrels.keys()) {
          const baseEmb = await backend.embedQuery(ds.queries.get(qid)!.text, null);
          const d = router.route(baseEmb);
          if (!expertNames.includes(d.expert)) throw new RouterRetrieverError('NOT_FOUND', `${kind} routed to unknown expert "${d.expert}"`);
          byQuery.set(qid, d.expert);
          // The routed query's metrics are those of its expert's own run.
          const m = expertScores.get(d.expert)!.get(ds.name)!.get(qid);
          if (m) scores.set(qid, m);
          routing.push({
            dataset: ds.name, query_id: qid, method: kind, expert: d.expert,
            ...(d.scores ? { scores: d.scores } : {}),
            oracle_best: inst.best.get(ds.name)?.get(qid) ?? [],
            ndcg_at_10: m?.ndcg_at_10 ?? 0,
          });
        }
        decisions.set(ds.name, byQuery);
        rows.get(kind)!.set(ds.name, scores);
      }
      accuracies.push(routingAccuracy(kind, decisions, inst.best));
    }
  }

  const methodRows: MethodScores[] = methods.map((m) => ({ method: m, perQuery: rows.get(m)! }));
  const result = buildResultJson(datasets, methodRows, {
    splits,
    ...(accuracies.length ? { routing_accuracy: accuracies } : {}),
    meta: {
      created: new Date().toISOString(),
      split: args.split,
      pilot_split: args.pilotSplit,
      bm25_profile: methods.includes('bm25') ? args.bm25Profile : undefined,
      model: args.model,
      model_fingerprint: backend?.fingerprint,
      experts: args.experts.map((e) => e.name),
      k: args.k,
      max_docs: args.maxDocs,
      ignore_identical_ids: args.ignoreIdenticalIds,
      embedding_cache: backend ? { hits: cache.hits, misses: cache.misses } : undefined,
    },
  });
  const parts = [formatMarkdownTable(result, 'ndcg_at_10'), formatMarkdownTable(result, 'recall_at_100'), formatMarkdownTable(result, 'mrr_at_10')];
  const rt = formatRoutingTable(result);
  if (rt) parts.push(rt);
  return { result, markdown: parts.join('\n\n'), routing };
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    const args = parseArgs(argv);
    const { result, markdown, routing } = await runEval(args);
    console.log(markdown);
    let out: string | null = null;
    if (args.json) {
      out = resolve(args.out ?? join(REPO, 'bench/results', `eval-${new Date().toISOString().replace(/[:.]/g, '-')}.json`));
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, JSON.stringify(result, null, 2) + '\n');
      console.error(`wrote ${out}`);
    }
    if (routing.length > 0 && (args.routingOut || out)) {
      const rout = resolve(args.routingOut ?? out!.replace(/\.json$/, '') + '.routing.jsonl');
      await mkdir(dirname(rout), { recursive: true });
      await writeFile(rout, routing.map((r) => JSON.stringify(r)).join('\n') + '\n');
      console.error(`wrote ${rout} (per-query routing decisions)`);
    }
    return 0;
  } catch (e) {
    if (isRouterRetrieverError(e)) {
      console.error(`error [${e.code}]: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
