/**
 * The demo's samples as prebuilt collections (run by `npm run demo` before vite, as `predemo`):
 * public/demo-data/prebuilt/contriever-mini-<sample>.rrc, built by the package's CLI
 * (`router-retriever index`) from public/demo-data/sample*.jsonl with the bundled model. A file
 * newer than its sample and the model is left alone; otherwise the CLI runs, and re-embeds only
 * the documents that changed. The files are build outputs (git-ignored): demo/main.ts indexes in
 * the browser, as before, when one is missing.
 *
 *   npx tsx tools/build-demo-collections.ts [--force] [--threads N] [--samples tiny,small,full]
 */
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { badArg, listOf, parseCli, positiveInt } from '../src/cli/args.js';
import { runIndex } from '../src/cli/index-command.js';

const ROOT = resolve(import.meta.dirname, '..');
const MODEL = join(ROOT, 'public', 'models', 'contriever-mini');
const DATA = join(ROOT, 'public', 'demo-data');
const OUT = join(DATA, 'prebuilt');
/** Sample name -> its JSONL (demo/config.ts SAMPLE; the smallest first, so a short run is useful). */
const SAMPLES: Record<string, string> = {
  tiny: 'sample-tiny.jsonl',
  small: 'sample-small.jsonl',
  full: 'sample.jsonl',
};

const mtime = (p: string) => statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? 0;

async function main(): Promise<void> {
  const { values } = parseCli(
    process.argv.slice(2),
    { force: { type: 'boolean' }, threads: { type: 'string' }, samples: { type: 'string' } },
    'tools/build-demo-collections.ts',
  );
  const threads = positiveInt('--threads', values.threads, null);
  const wanted = values.samples ? listOf(values.samples) : Object.keys(SAMPLES);
  for (const w of wanted)
    if (!(w in SAMPLES)) badArg(`--samples: no sample "${w}" (${Object.keys(SAMPLES).join(', ')})`);
  mkdirSync(OUT, { recursive: true });
  const modelTime = Math.max(mtime(join(MODEL, 'model.safetensors')), mtime(join(MODEL, 'config.json')));
  for (const [sample, file] of Object.entries(SAMPLES).filter(([s]) => wanted.includes(s))) {
    const input = join(DATA, file);
    const out = join(OUT, `contriever-mini-${sample}.rrc`);
    if (!values.force && mtime(out) > Math.max(mtime(input), modelTime)) {
      console.error(`${out}: up to date`);
      continue;
    }
    const argv = [input, '--model', MODEL, '--out', out, '--name', `demo-contriever-mini-${sample}`];
    if (threads) argv.push('--threads', String(threads));
    await runIndex(argv, { err: process.stderr });
  }
}

await main();
