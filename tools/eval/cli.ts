/**
 * Evaluation CLI: the paper's table on BEIR folders, computed by the SDK itself
 * (EncoderEngine on onnxruntime-web WASM, src/search, src/router) through
 * src/eval/run-eval.ts - the same function the browser bench page calls.
 *
 *   npx tsx tools/eval/cli.ts --data ../shared/data/beir/scifact --methods bm25
 *   npx tsx tools/eval/cli.ts --model <dir|url> --expert a=<dir> --expert b=<dir> --data <beir dir> ... [--json] [--out FILE]
 *   npx tsx tools/eval/cli.ts --model public/models/contriever-mini --experts-dir public/models/contriever-mini/experts --data ...
 *
 * Options:
 *   --model <dir|url>        base model folder (HF layout) or URL (dense methods)
 *   --expert name=<dir|url>  a LoRA expert (repeatable; order = tie-break order)
 *   --experts-dir DIR        every subfolder of DIR with an adapter_config.json is an expert (name = folder, sorted)
 *   --route-experts a,b      experts the routers and oracles choose among (default: all); others are rows only
 *   --data <dir>             a BEIR folder (repeatable); the folder name is the dataset name
 *   --split test             qrels split scored (default test)
 *   --pilot-split train      split the pilot library / DatasetRouter use (default train; hash half where absent)
 *   --pilot-library FILE     use this pilot library JSON ({ "expert": [[...], ...] }) for router-mean/max
 *   --pilot-k N              centroids per (expert, domain) group when building the library (default 1)
 *   --pilot-uninformative M  first (default, the paper's argmax) | skip: training queries on which every expert
 *                            scores the same are left out of the pilot groups
 *   --pilot-weighting W      gain (default): one pilot per expert, its group centroids weighted by the nDCG@10
 *                            their queries gain with it over the mean expert (zero-gain queries join no group);
 *                            size: weighted by group size; none: the paper's library (every group centroid a pilot)
 *   --methods a,b,...        bm25, base, expert:<name> (or "experts"), dataset-router, router-mean,
 *                            router-max, hybrid-base, hybrid-router, dataset-oracle, instance-oracle
 *                            (default: all that apply)
 *   --fusion-method M        convex (default: min-max normalised, weighted) | rrf, for the hybrid rows
 *   --fusion-weight W        lexical weight in [0, 1] of the hybrid rows (default: learned per row on the
 *                            pilot queries, the grid 0, 0.05, ..., 1; see src/eval/hybrid-rows.ts)
 *   --json                   write the JSON result (to --out, else bench/results/eval-<time>.json)
 *   --out FILE               JSON result file (implies --json)
 *   --routing-out FILE       per-query routing decisions, JSONL (default: next to the JSON, .routing.jsonl)
 *   --run-out DIR            TREC run files, DIR/<dataset>/<method>.run (qid Q0 docid rank score tag), for
 *                            every row with a ranking (not the oracles)
 *   --max-docs N             keep the first N documents of each corpus
 *   --max-length N           tokens per text (documents are truncated to N; default the model's)
 *   --doc-max-length N       documents only are truncated to N tokens (queries keep --max-length)
 *   --runtime wasm|node      onnxruntime-web WASM (default, as in the browser) or onnxruntime-node (native, faster;
 *                            same graph, tokenizer and merged weights)
 *   --dtype fp32|q8          encoder precision (default fp32; q8: int8 linear layers; cached apart)
 *   --threads N              ORT WASM threads (default 1; the eval shares the machine)
 *   --batch-size N           texts per encoder batch (default 32)
 *   --k N                    documents kept per query (default 100: Recall@100 needs no more)
 *   --bm25-profile P         plain (default) | anserini, see src/eval/bm25.ts BM25_PROFILES
 *   --hash-split MODE        auto (default: only when a dense method runs) | always | never;
 *                            domains without qrels/train.tsv are split by src/eval/splits.ts
 *   --keep-identical-ids     do not drop a retrieved doc whose id equals the query id (BEIR drops it)
 *   --cache-dir DIR          corpus embedding cache (default <repo>/.cache/embeddings)
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRouterRetrieverError } from '../../src/boundary/errors.js';
import { BM25_PROFILES, type Bm25Profile } from '../../src/eval/bm25.js';
import type { DenseBackend } from '../../src/eval/dense.js';
import { resolveMethodList, runEvaluation, type RoutingRecord, type RunEvalOutput } from '../../src/eval/run-eval.js';
import type { ResultJson } from '../../src/eval/table.js';
import { splitFusion } from '../../src/hybrid/fusion-json.js';
import { formatTrecRun } from '../../src/eval/runs.js';
import { exportPilotLibrary, parsePilotLibrary } from '../../src/router/pilot-json.js';
import type { PilotLibraryJson } from '../../src/types.js';
import { badArg, listOf, oneOf, parseCli, positiveInt } from '../lib/args.js';
import { loadBeirDir } from './beir-node.js';
import { EmbeddingCache } from './embedding-cache.js';
import { createNodeEncoder, expertsInDir } from './encoder-node.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface EvalArgs {
  model: string | null;
  experts: { name: string; dir: string }[];
  expertsDir: string | null;
  routeExperts: string[] | null;
  data: string[];
  split: string;
  pilotSplit: string;
  pilotLibrary: string | null;
  pilotK: number;
  pilotUninformative: 'first' | 'skip';
  pilotWeighting: 'none' | 'gain' | 'size';
  fusionMethod: 'convex' | 'rrf';
  /** null: learned on the pilot queries. */
  fusionWeight: number | null;
  methods: string[] | null;
  json: boolean;
  out: string | null;
  routingOut: string | null;
  /** A folder for TREC run files, one per row and dataset. */
  runOut: string | null;
  maxDocs: number | null;
  maxLength: number | null;
  docMaxLength: number | null;
  runtime: 'wasm' | 'node';
  dtype: 'fp32' | 'q8';
  threads: number;
  batchSize: number;
  k: number;
  bm25Profile: Bm25Profile;
  hashSplit: 'auto' | 'always' | 'never';
  ignoreIdenticalIds: boolean;
  cacheDir: string;
}

const bad = badArg;

function unitInterval(flag: string, value: string | undefined): number | null {
  if (value === undefined) return null;
  const w = Number(value);
  if (value.trim() === '' || !(w >= 0 && w <= 1)) bad(`${flag} needs a number from 0 to 1, got "${value}"`);
  return w;
}
const USAGE = 'the header of tools/eval/cli.ts';
export function parseArgs(argv: readonly string[]): EvalArgs {
  return parseEvalArgs(argv, {}).args;
}

const str = { type: 'string' } as const;
const EVAL_OPTIONS = {
  model: str,
  expert: { type: 'string', multiple: true },
  'experts-dir': str,
  'route-experts': str,
  data: { type: 'string', multiple: true },
  split: str,
  'pilot-split': str,
  'pilot-library': str,
  'pilot-k': str,
  'pilot-uninformative': str,
  'pilot-weighting': str,
  'fusion-method': str,
  'fusion-weight': str,
  methods: str,
  json: { type: 'boolean' },
  out: str,
  'routing-out': str,
  'run-out': str,
  'max-docs': str,
  'max-length': str,
  'doc-max-length': str,
  runtime: str,
  dtype: str,
  threads: str,
  'batch-size': str,
  k: str,
  'bm25-profile': str,
  'hash-split': str,
  'keep-identical-ids': { type: 'boolean' },
  'cache-dir': str,
  help: { type: 'boolean', short: 'h' },
} as const;

/** The eval CLI's options plus a script's own `extra` ones (tools/eval/dump-routing-data.ts). */
export function parseEvalArgs(
  argv: readonly string[],
  extra: Record<string, { type: 'string' | 'boolean' }>,
): { args: EvalArgs; extra: Record<string, string | boolean | undefined> } {
  // Typed as the eval's options; the extra ones are read back by name below.
  const { values: v } = parseCli(argv, { ...EVAL_OPTIONS, ...extra } as typeof EVAL_OPTIONS, USAGE);
  if (v.help) bad(`usage: see ${USAGE}`);
  const experts: EvalArgs['experts'] = [];
  for (const e of v.expert ?? []) {
    const eq = e.indexOf('=');
    if (eq <= 0 || eq === e.length - 1) bad(`--expert must be name=<dir>, got "${e}"`);
    const name = e.slice(0, eq);
    if (experts.some((x) => x.name === name)) bad(`--expert ${name} given twice`);
    experts.push({ name, dir: e.slice(eq + 1) });
  }
  const profiles = Object.keys(BM25_PROFILES) as Bm25Profile[];
  const a: EvalArgs = {
    model: v.model ?? null,
    experts,
    expertsDir: v['experts-dir'] ?? null,
    routeExperts: v['route-experts'] === undefined ? null : listOf(v['route-experts']),
    data: v.data ?? [],
    split: v.split ?? 'test',
    pilotSplit: v['pilot-split'] ?? 'train',
    pilotLibrary: v['pilot-library'] ?? null,
    pilotK: positiveInt('--pilot-k', v['pilot-k'], 1),
    pilotUninformative: oneOf('--pilot-uninformative', v['pilot-uninformative'], ['first', 'skip'], 'first'),
    pilotWeighting: oneOf('--pilot-weighting', v['pilot-weighting'], ['gain', 'size', 'none'], 'gain'),
    fusionMethod: oneOf('--fusion-method', v['fusion-method'], ['convex', 'rrf'], 'convex'),
    fusionWeight: unitInterval('--fusion-weight', v['fusion-weight']),
    methods: v.methods === undefined ? null : listOf(v.methods),
    json: Boolean(v.json) || v.out !== undefined,
    out: v.out ?? null,
    routingOut: v['routing-out'] ?? null,
    runOut: v['run-out'] ?? null,
    maxDocs: positiveInt('--max-docs', v['max-docs'], null),
    maxLength: positiveInt('--max-length', v['max-length'], null),
    docMaxLength: positiveInt('--doc-max-length', v['doc-max-length'], null),
    runtime: oneOf('--runtime', v.runtime, ['wasm', 'node'], 'wasm'),
    dtype: oneOf('--dtype', v.dtype, ['fp32', 'q8'], 'fp32'),
    threads: positiveInt('--threads', v.threads, 1),
    batchSize: positiveInt('--batch-size', v['batch-size'], 32),
    k: positiveInt('--k', v.k, 100),
    bm25Profile: oneOf('--bm25-profile', v['bm25-profile'], profiles, 'plain'),
    hashSplit: oneOf('--hash-split', v['hash-split'], ['auto', 'always', 'never'], 'auto'),
    ignoreIdenticalIds: !v['keep-identical-ids'],
    cacheDir: v['cache-dir'] ?? join(REPO, '.cache/embeddings'),
  };
  if (a.data.length === 0) bad('give at least one --data <beir dir>');
  const own = Object.fromEntries(
    Object.keys(extra).map((k) => [k, (v as Record<string, string | boolean | undefined>)[k]]),
  );
  return { args: a, extra: own };
}

/** --expert entries plus the --experts-dir subfolders (explicit ones first; a name twice is an error). */
export async function expandExperts(args: EvalArgs): Promise<EvalArgs> {
  if (!args.expertsDir) return args;
  const experts = [...args.experts];
  for (const e of await expertsInDir(args.expertsDir)) {
    if (experts.some((x) => x.name === e.name)) bad(`expert ${e.name} given by --expert and found in --experts-dir`);
    experts.push(e);
  }
  return { ...args, experts, expertsDir: null };
}

/** The methods to run, expanded ("experts" -> every expert:<name>) and validated. */
export function resolveMethods(args: EvalArgs): string[] {
  return resolveMethodList(
    args.methods,
    args.experts.map((e) => e.name),
    args.model !== null,
  );
}

export interface EvalDeps {
  /** Builds the encoder for --model / --expert (default: EncoderEngine on WASM, tools/eval/encoder-node.ts). */
  createBackend?: (
    args: EvalArgs,
    log: (line: string) => void,
  ) => Promise<DenseBackend & { dispose?: () => Promise<void> }>;
  log?: (line: string) => void;
}

export type { RoutingRecord };
export type EvalOutput = RunEvalOutput;

/** The in-process encoder the CLI options describe (model, experts, lengths, runtime, threads). */
export function encoderFor(args: EvalArgs, log: (line: string) => void): ReturnType<typeof createNodeEncoder> {
  return createNodeEncoder({
    model: args.model!,
    experts: args.experts,
    maxLength: args.maxLength ?? undefined,
    docMaxLength: args.docMaxLength ?? undefined,
    runtime: args.runtime,
    dtype: args.dtype,
    threads: args.threads,
    batchSize: args.batchSize,
    log,
  });
}

async function defaultCreateBackend(
  args: EvalArgs,
  log: (line: string) => void,
): Promise<DenseBackend & { dispose: () => Promise<void> }> {
  const enc = await encoderFor(args, log);
  return { ...enc.backend, dispose: enc.dispose };
}

export async function runEval(rawArgs: EvalArgs, deps: EvalDeps = {}): Promise<RunEvalOutput> {
  const log = deps.log ?? ((s: string) => console.error(s));
  const args = await expandExperts(rawArgs);
  const methods = resolveMethods(args);
  const expertNames = args.experts.map((e) => e.name);
  const dense = methods.some((m) => m !== 'bm25');
  // A pilot library file may carry the fusion learned with it ("_fusion"): used unless --fusion-weight is given.
  const libraryFile = args.pilotLibrary ? splitFusion(await readFile(resolve(args.pilotLibrary), 'utf8')) : null;
  const pilotLibrary = libraryFile ? parsePilotLibrary(libraryFile.pilots as PilotLibraryJson) : null;
  const fusion =
    args.fusionWeight === null && libraryFile?.fusion
      ? libraryFile.fusion
      : { method: args.fusionMethod, weight: args.fusionWeight };
  const t0 = performance.now();
  const backend = dense ? await (deps.createBackend ?? defaultCreateBackend)(args, log) : null;
  const cache = new EmbeddingCache(args.cacheDir);
  try {
    const datasets = [];
    for (const dir of args.data) datasets.push(await loadBeirDir(dir, { maxDocs: args.maxDocs ?? undefined }));
    const out = await runEvaluation(
      datasets,
      backend,
      {
        methods,
        experts: expertNames,
        routeExperts: args.routeExperts ?? undefined,
        split: args.split,
        pilotSplit: args.pilotSplit,
        hashSplit: args.hashSplit,
        k: args.k,
        bm25Profile: args.bm25Profile,
        ignoreIdenticalIds: args.ignoreIdenticalIds,
        pilotLibrary,
        pilotK: args.pilotK,
        pilotUninformative: args.pilotUninformative,
        pilotWeighting: args.pilotWeighting,
        fusion,
        keepRuns: args.runOut !== null,
        meta: {
          created: new Date().toISOString(),
          model: args.model,
          pilot_library_file: args.pilotLibrary ?? undefined,
          max_docs: args.maxDocs,
          max_length: args.maxLength,
        },
      },
      {
        log,
        embedCorpus: async (name, ids, texts, b) => {
          const t = performance.now();
          const hits = cache.hits;
          const emb = await cache.getOrEmbed(b, name, ids, texts, 512, (done, total) => {
            const s = (performance.now() - t) / 1000;
            log(`  ${name}: embedded ${done}/${total} documents (${(done / s).toFixed(0)} docs/s)`);
          });
          log(
            `  ${name}: corpus embeddings ${cache.hits > hits ? 'from the cache' : 'computed and cached'} (${((performance.now() - t) / 1000).toFixed(1)} s)`,
          );
          return emb;
        },
      },
    );
    out.result.meta = {
      ...out.result.meta,
      embedding_cache: backend ? { hits: cache.hits, misses: cache.misses, dir: args.cacheDir } : undefined,
      wall_s: Math.round((performance.now() - t0) / 100) / 10,
    };
    return out;
  } finally {
    await backend?.dispose?.();
  }
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

export async function writeOutputs(
  args: EvalArgs,
  out: RunEvalOutput,
  log: (l: string) => void,
): Promise<{ json: string | null; routing: string | null; pilots: string | null }> {
  let json: string | null = null;
  const base = args.out ? resolve(args.out).replace(/\.json$/, '') : join(REPO, 'bench/results', `eval-${stamp()}`);
  if (args.json) {
    json = resolve(args.out ?? `${base}.json`);
    await mkdir(dirname(json), { recursive: true });
    await writeFile(json, `${JSON.stringify(out.result satisfies ResultJson, null, 2)}\n`);
    log(`wrote ${json}`);
  }
  let routing: string | null = null;
  let pilots: string | null = null;
  if (out.routing.length > 0) {
    routing = resolve(args.routingOut ?? `${base}.routing.jsonl`);
    await mkdir(dirname(routing), { recursive: true });
    await writeFile(routing, `${out.routing.map((r) => JSON.stringify(r)).join('\n')}\n`);
    log(`wrote ${routing} (per-query routing decisions)`);
  }
  if (out.pilotLibrary && !args.pilotLibrary) {
    pilots = `${routing ? routing.replace(/\.routing\.jsonl$/, '') : base}.pilots.json`;
    await writeFile(pilots, `${exportPilotLibrary(out.pilotLibrary)}\n`);
    log(`wrote ${pilots} (the pilot library built, reusable with --pilot-library)`);
  }
  if (args.runOut && out.runs) {
    let files = 0;
    for (const [method, byDataset] of out.runs) {
      for (const [dataset, run] of byDataset) {
        const dir = join(resolve(args.runOut), dataset);
        await mkdir(dir, { recursive: true });
        await writeFile(
          join(dir, `${method.replace(/[^\w.-]/g, '-')}.run`),
          formatTrecRun(run, method, args.k, args.ignoreIdenticalIds),
        );
        files++;
      }
    }
    log(`wrote ${files} TREC run files under ${args.runOut} (<dataset>/<method>.run: qid Q0 docid rank score tag)`);
  }
  return { json, routing, pilots };
}

export async function main(argv: readonly string[], deps: EvalDeps = {}): Promise<number> {
  const log = deps.log ?? ((s: string) => console.error(s));
  try {
    const args = parseArgs(argv);
    const out = await runEval(args, { ...deps, log });
    console.log(out.markdown);
    await writeOutputs(args, out, log);
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
