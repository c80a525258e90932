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
 *   --pilot-library FILE     use this pilot library JSON ({ "expert": [[...], ...] }) for router-mean/max, with
 *                            its "_fusion" (hybrid rows) and "_abstain" (router, hybrid-router) when present
 *   --abstain-k N            neighbours of an abstention rule built here (default 50, src/router/abstain.ts)
 *   --abstain-min-gain G     gain over the base an expert needs on them (default 0.02)
 *   --pilot-k N              centroids per (expert, domain) group when building the library (default 1)
 *   --pilot-uninformative M  first (default, the paper's argmax) | skip: training queries on which every expert
 *                            scores the same are left out of the pilot groups
 *   --pilot-weighting W      gain (default): one pilot per expert, its group centroids weighted by the nDCG@10
 *                            their queries gain with it over the mean expert (zero-gain queries join no group);
 *                            size: weighted by group size; none: the paper's library (every group centroid a pilot)
 *   --methods a,b,...        bm25, base, expert:<name> (or "experts"), dataset-router, router-mean,
 *                            router-max, router (abstaining), hybrid-base, hybrid-router, dataset-oracle, instance-oracle
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
import type { DenseBackend } from '../../src/eval/dense.js';
import { runEvaluation, type RoutingRecord, type RunEvalOutput } from '../../src/eval/run-eval.js';
import type { ResultJson } from '../../src/eval/table.js';
import { formatTrecRun } from '../../src/eval/runs.js';
import { exportPilotLibrary, parsePilotLibrary } from '../../src/router/pilot-json.js';
import { readLibraryFile, writeLibraryFile } from '../../src/router/library-file.js';
import type { PilotLibraryJson } from '../../src/types.js';
import { loadBeirDir } from './beir-node.js';
import { EmbeddingCache } from './embedding-cache.js';
import { createNodeEncoder } from './encoder-node.js';
import { REPO, expandExperts, parseArgs, resolveMethods, type EvalArgs } from './eval-args.js';

export { expandExperts, parseArgs, parseEvalArgs, resolveMethods, type EvalArgs } from './eval-args.js';

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
  // A pilot library file may carry the fusion learned with it ("_fusion"): used unless --fusion-weight is
  // given; and its abstention rule ("_abstain"), used by the router and hybrid-router rows.
  const libraryFile = args.pilotLibrary ? readLibraryFile(await readFile(resolve(args.pilotLibrary), 'utf8')) : null;
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
        abstain: libraryFile?.abstain ?? null,
        abstainBuild: { k: args.abstainK, minGain: args.abstainMinGain },
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
    const json = JSON.parse(exportPilotLibrary(out.pilotLibrary)) as PilotLibraryJson;
    await writeFile(pilots, `${JSON.stringify(writeLibraryFile(json, { abstain: out.abstain ?? undefined }))}\n`);
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
