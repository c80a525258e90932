/**
 * Tokenisation throughput on SciFact abstracts (title + " " + text, as the SDK indexes them), in
 * Node, one thread: the encoder's tokenizer (@huggingface/tokenizers + word cache) against
 * @huggingface/tokenizers' encode() alone and, when git can show it, the hand-written WordPiece
 * it replaced (read from commit 37a06e9 into a temporary file: the baseline, in the same run).
 * "cold" is a fresh tokenizer's first pass (what indexing a collection costs), "warm" the best
 * of the next passes. Ids are compared with the baseline's at the model's 512 tokens.
 *
 *   npx tsx bench/tokenizer.ts [--docs 5183] [--passes 3] [--json]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Tokenizer } from '@huggingface/tokenizers';
import { buildBertBaseUncasedVocab } from '../tools/build-vocab.js';
import { bertTokenizerFromVocab } from '../workers/tokenizer/from-vocab.js';
import { HfTokenizer } from '../workers/tokenizer/tokenizer.js';
import { formatTable } from './lib/table.js';
import { SCIFACT_CORPUS, scifactTexts } from './lib/scifact.js';

const ROOT = resolve(import.meta.dirname, '..');
const BASELINE_COMMIT = '37a06e9';
const { values: args } = parseArgs({
  options: {
    docs: { type: 'string', default: '5183' },
    passes: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const passes = Math.max(2, Number(args.passes));

function loadDocs(n: number): string[] {
  const docs = scifactTexts(n);
  if (!docs) throw new Error(`${SCIFACT_CORPUS} is missing: this bench reads SciFact's corpus.`);
  return docs;
}

type Encode = (text: string) => number[];

/** The hand-written tokenizer of the baseline commit, or null where git cannot show it. */
async function baseline(vocab: string): Promise<Encode | null> {
  let src: string;
  try {
    src = execFileSync('git', ['show', `${BASELINE_COMMIT}:workers/model/tokenizer.ts`], {
      cwd: ROOT,
      encoding: 'utf8',
    });
  } catch {
    return null;
  }
  const dir = join(ROOT, 'workers', 'model', '.bench-baseline');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'tokenizer.ts');
  writeFileSync(file, src.replaceAll("'../../src/", "'../../../src/"));
  try {
    const mod = (await import(pathToFileURL(file).href)) as {
      BertTokenizer: { fromVocabTxt(v: string): { encode(t: string, m: number): { inputIds: number[] } } };
    };
    const tok = mod.BertTokenizer.fromVocabTxt(vocab);
    return (t) => tok.encode(t, 512).inputIds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Row {
  tokenizer: string;
  cold_docs_per_s: number;
  warm_docs_per_s: number;
  cold_ratio: number | null;
  warm_ratio: number | null;
  differing_docs: number | null;
}

const docs = loadDocs(Number(args.docs));
const vocab = buildBertBaseUncasedVocab();
const files = bertTokenizerFromVocab(vocab);
const makers: [string, () => Promise<Encode | null>][] = [
  [`hand-written WordPiece (${BASELINE_COMMIT}, baseline)`, () => baseline(vocab)],
  [
    '@huggingface/tokenizers encode() alone',
    async () => {
      const lib = new Tokenizer(files.tokenizerJson, files.tokenizerConfig);
      return (t) => [101, ...lib.encode(t, { add_special_tokens: false }).ids.slice(0, 510), 102];
    },
  ],
  [
    'ours (library + word cache)',
    async () => {
      const tok = HfTokenizer.fromJson(files.tokenizerJson, files.tokenizerConfig);
      return (t) => tok.encode(t, 512).inputIds;
    },
  ],
];

function timePass(encode: Encode): { ms: number; ids: number[][] } {
  const t0 = performance.now();
  const ids = docs.map(encode);
  return { ms: performance.now() - t0, ids };
}

const rows: Row[] = [];
let reference: number[][] | null = null;
for (const [name, make] of makers) {
  const encode = await make();
  if (!encode) {
    console.log(`(${name}: git cannot show ${BASELINE_COMMIT}, no baseline row)`);
    continue;
  }
  const cold = timePass(encode);
  let warm = Infinity;
  for (let i = 1; i < passes; i++) warm = Math.min(warm, timePass(encode).ms);
  const ref = reference;
  const differing = ref ? cold.ids.filter((ids, i) => JSON.stringify(ids) !== JSON.stringify(ref[i])).length : null;
  reference ??= cold.ids;
  const base = rows[0];
  const row: Row = {
    tokenizer: name,
    cold_docs_per_s: (docs.length / cold.ms) * 1000,
    warm_docs_per_s: (docs.length / warm) * 1000,
    cold_ratio: null,
    warm_ratio: null,
    differing_docs: differing,
  };
  if (base) {
    row.cold_ratio = row.cold_docs_per_s / base.cold_docs_per_s;
    row.warm_ratio = row.warm_docs_per_s / base.warm_docs_per_s;
  }
  rows.push(row);
}

const chars = docs.reduce((n, d) => n + d.length, 0);
console.log(
  `Tokenisation, Node ${process.version}, ${docs.length} SciFact abstracts (${(chars / 1e6).toFixed(1)} M chars), max length 512, ${passes} passes`,
);
console.log(
  formatTable(rows, [
    { header: 'tokenizer', value: (r) => r.tokenizer },
    { header: 'cold docs/s', value: (r) => r.cold_docs_per_s, digits: 0 },
    { header: 'warm docs/s', value: (r) => r.warm_docs_per_s, digits: 0 },
    { header: 'cold ratio', value: (r) => r.cold_ratio },
    { header: 'warm ratio', value: (r) => r.warm_ratio },
    { header: 'docs with other ids', value: (r) => r.differing_docs, digits: 0 },
  ]),
);
if (args.json) {
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'tokenizer.json'), `${JSON.stringify(rows, null, 2)}\n`);
}
