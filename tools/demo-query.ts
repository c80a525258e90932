/**
 * The demo's search in Node, to see what a query returns on the bundled sample without a browser:
 * the bundled contriever-mini with its experts and pilot library, the sample indexed by the SDK
 * itself (RouterRetriever over fake-indexeddb, the encoder on onnxruntime-node), then the query in
 * each mode, the default hybrid first.
 *
 *   npx tsx tools/demo-query.ts "does vitamin D reduce fracture risk" [--k 5] [--sample full|small|tiny]
 */
import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { libraryExperts } from '../src/router/library-file.js';
import { RouterRetriever } from '../src/router-retriever.js';
import { EncoderEngine } from '../workers/engine/encoder-engine.js';
import { oneOf, parseCli, positiveInt } from './lib/args.js';
import { folderSpec } from './node-folder.js';

const ROOT = resolve(import.meta.dirname, '..');
const MODEL = join(ROOT, 'public', 'models', 'contriever-mini');
const SAMPLES = { full: 'sample.jsonl', small: 'sample-small.jsonl', tiny: 'sample-tiny.jsonl' } as const;

const argv = process.argv.slice(2);
const query = argv[0];
if (!query || query.startsWith('--')) {
  console.error('usage: npx tsx tools/demo-query.ts "<query>" [--k 5] [--sample full|small|tiny]');
  process.exit(2);
}
const { values: v } = parseCli(
  argv.slice(1),
  { k: { type: 'string' }, sample: { type: 'string' } },
  'tools/demo-query.ts',
);
const k = positiveInt('--k', v.k, 5);
const sample = oneOf('--sample', v.sample, ['full', 'small', 'tiny'], 'full');

const ort = await import('onnxruntime-node');
const encoder = new EncoderEngine({ ort: ort as never, cpuProvider: 'cpu' });
const library = readFileSync(join(MODEL, 'pilot-library.json'), 'utf8');
const experts = Object.fromEntries(libraryExperts(library).map((n) => [n, folderSpec(join(MODEL, 'experts', n))]));
const rr = await RouterRetriever.open({
  name: `demo-${sample}`,
  model: folderSpec(MODEL),
  encoder,
  experts,
  pilotLibrary: library,
});
const docs = readFileSync(join(ROOT, 'public', 'demo-data', SAMPLES[sample]), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l));
const t0 = performance.now();
await rr.add(docs, {
  onProgress: (p) => {
    if (p.phase === 'store') process.stderr.write(`\rindexed ${p.done}/${p.total}, ${p.docsPerSec.toFixed(0)} docs/s`);
  },
});
console.error(`\nindexed ${docs.length} documents in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
for (const [label, options] of [
  ['hybrid (default)', {}],
  ['dense', { mode: 'dense' }],
  ['lexical', { mode: 'lexical' }],
  ['hybrid, base encoder', { expert: 'none' }],
] as const) {
  const r = await rr.search(query, { k, ...options });
  console.log(`${label}: expert ${r.route.expert ?? 'none'}`);
  for (const h of r.hits) console.log(`  ${h.score.toFixed(3)}  ${h.id}  ${(h.doc.title || h.doc.text).slice(0, 70)}`);
}
await rr.close();
await encoder.dispose();
