/** The eval CLI's options (documented in the header of ./cli.ts), parsed and checked. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BM25_PROFILES, type Bm25Profile } from '../../src/eval/bm25.js';
import { resolveMethodList } from '../../src/eval/run-eval.js';
import { DEFAULT_ABSTAIN_K, DEFAULT_MIN_GAIN } from '../../src/router/abstain.js';
import { badArg, listOf, oneOf, parseCli, positiveInt } from '../lib/args.js';
import { adapterDirs } from '../../src/cli/model-dir.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

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
  /** k and minGain of an abstention rule built from the pilot queries. */
  abstainK: number;
  abstainMinGain: number;
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
  'abstain-k': str,
  'abstain-min-gain': str,
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
    abstainK: positiveInt('--abstain-k', v['abstain-k'], DEFAULT_ABSTAIN_K),
    abstainMinGain: unitInterval('--abstain-min-gain', v['abstain-min-gain']) ?? DEFAULT_MIN_GAIN,
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
  for (const e of await adapterDirs(args.expertsDir)) {
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
