/**
 * Adds the abstention rule ("_abstain", src/router/abstain.ts) to a pilot library file, from
 * what tools/eval/dump-routing-data.ts dumped: each training domain's pilot (training) queries,
 * their base-encoder embeddings and every encoder's nDCG@10 on them.
 *
 *   npx tsx tools/build-abstention.ts --dump .cache/routing-dump \
 *     --pilot-library public/models/contriever-mini/pilot-library.json [--domains a,b,...] [--k 50] [--min-gain 0.02]
 *
 * --domains (default: the library's experts, each the domain of the same name) are the domains
 * whose training queries become the rule's instances. The file is rewritten with its pilots and
 * "_fusion" unchanged. k and min-gain default to the values bench/abstain-study.py selected on
 * training queries.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAbstainRule, DEFAULT_ABSTAIN_K, DEFAULT_MIN_GAIN, type AbstainDomain } from '../src/router/abstain.js';
import { libraryExperts, readLibraryFile, writeLibraryFile } from '../src/router/library-file.js';
import { rowsOf } from '../src/vectors.js';
import { listOf, parseCli, positiveInt } from './lib/args.js';

interface DumpMeta {
  dim: number;
  pilotIds: string[];
  metrics: Record<string, { pilot: { ndcg10: number[] } }>;
}

const { values: v } = parseCli(
  process.argv.slice(2),
  {
    dump: { type: 'string', default: '.cache/routing-dump' },
    'pilot-library': { type: 'string' },
    domains: { type: 'string' },
    k: { type: 'string' },
    'min-gain': { type: 'string' },
  },
  'the header of tools/build-abstention.ts',
);
if (!v['pilot-library']) throw new Error('give --pilot-library FILE');
const path = v['pilot-library'];
const text = readFileSync(path, 'utf8');
const file = readLibraryFile(text);
const experts = libraryExperts(text);
const domains = v.domains ? listOf(v.domains) : experts;
const k = positiveInt('--k', v.k, DEFAULT_ABSTAIN_K);
const minGain = v['min-gain'] === undefined ? DEFAULT_MIN_GAIN : Number(v['min-gain']);

const inputs: AbstainDomain[] = domains.map((d) => {
  const meta = JSON.parse(readFileSync(join(v.dump, `${d}.json`), 'utf8')) as DumpMeta;
  const buf = readFileSync(join(v.dump, `${d}.pilot.f32`));
  const emb = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  if (emb.length !== meta.pilotIds.length * meta.dim) throw new Error(`${d}: the dump's embeddings and ids disagree`);
  const scores: Record<string, number[]> = {};
  for (const e of experts) {
    const m = meta.metrics[e];
    if (!m) throw new Error(`${d}: the dump has no scores for expert ${e}`);
    scores[e] = m.pilot.ndcg10;
  }
  console.error(`${d}: ${meta.pilotIds.length} training queries`);
  return { queryEmbeddings: rowsOf(emb, meta.dim), baseScores: meta.metrics.base.pilot.ndcg10, scores };
});
const rule = buildAbstainRule(experts, inputs, { k, minGain });
const out = writeLibraryFile(file.pilots as Record<string, unknown>, { fusion: file.fusion, abstain: rule });
writeFileSync(path, `${JSON.stringify(out)}\n`);
console.error(
  `wrote ${path}: "_abstain" with ${rule.scales.length} training queries x ${rule.dim} (k ${k}, minGain ${minGain})`,
);
