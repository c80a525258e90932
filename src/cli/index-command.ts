/**
 * `router-retriever index <docs.jsonl | docs.csv | BEIR folder> --model <folder|URL|Hub id> --out FILE`:
 * embeds the documents in Node (onnxruntime-node, or onnxruntime-web's WASM with --runtime wasm),
 * and writes the collection file the browser imports (RouterRetriever.importCollection(), or
 * open({ prebuilt: url })). Run again on a changed corpus, it embeds only the documents that are
 * new or changed since the file at --out was written. The file is written to a temporary name
 * and renamed: an interrupted or failed run leaves the previous file as it was.
 */
import { availableParallelism } from 'node:os';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RouterRetrieverError } from '../boundary/errors.js';
import type { ModelInfo } from '../boundary/encoder-api.js';
import { LEXICAL_DEFAULTS, type LexicalOptions } from '../lexical/lexical-index.js';
import { EncoderEngine, type OrtRuntime } from '../node.js';
import { readLibraryFile, type PilotExtras } from '../router/library-file.js';
import { parsePilotLibrary } from '../router/pilot-json.js';
import type { ExpertRecord } from '../store/schema.js';
import { readCollectionFile, type CollectionFile } from '../store/transfer.js';
import type { PilotLibrary } from '../vectors.js';
import { badArg, oneOf, parseCli, positiveInt } from './args.js';
import { buildCollection } from './build.js';
import { adapterDirs, modelSpecFrom } from './model-dir.js';
import { duration, progressPrinter } from './progress.js';
import { readDocs } from './read-docs.js';

export const INDEX_USAGE = `router-retriever index <docs.jsonl | docs.csv | BEIR folder> --model <folder | URL | Hub id> --out <file>

  --out FILE            the collection file to write (read first: unchanged documents keep their rows)
  --name NAME           the collection name recorded in the file (default: the --out file name)
  --experts-dir DIR     LoRA adapter folders (one subfolder each), checked against the model and
                        recorded as the collection's experts
  --experts-url URL     where the browser loads those adapters from (URL + name + "/"); without it
                        the browser must pass them to open({ experts })
  --pilot-library FILE  the pilot library (with its "_fusion" and "_abstain") to ship in the file
  --analyzer NAME       english (default) or plain: the BM25 analyzer of the collection
  --runtime NAME        node (onnxruntime-node, default) or wasm (onnxruntime-web, as in the browser)
  --dtype NAME          fp32 (default) or q8 (int8 linear layers): the encoder precision, recorded in the file
  --threads N           encoder threads (default: the cores, at most 4)
  --batch-size N        texts per encoder batch (default 32)
  --full                embed every document again (ignore the file at --out)`;

const OPTIONS = {
  model: { type: 'string' },
  out: { type: 'string' },
  name: { type: 'string' },
  'experts-dir': { type: 'string' },
  'experts-url': { type: 'string' },
  'pilot-library': { type: 'string' },
  analyzer: { type: 'string' },
  runtime: { type: 'string' },
  dtype: { type: 'string' },
  threads: { type: 'string' },
  'batch-size': { type: 'string' },
  full: { type: 'boolean' },
} as const;

export interface IndexIo {
  /** Status lines and the progress line (stderr). */
  err: { write(s: string): unknown; isTTY?: boolean };
}

async function startEngine(runtime: 'node' | 'wasm', io: IndexIo): Promise<EncoderEngine> {
  if (runtime === 'wasm') return new EncoderEngine();
  try {
    const ort = (await import('onnxruntime-node')) as unknown as OrtRuntime;
    return new EncoderEngine({ ort, cpuProvider: 'cpu' });
  } catch (e) {
    io.err.write(
      `onnxruntime-node is not installed (${(e as Error).message}); using onnxruntime-web's WASM (slower)\n`,
    );
    return new EncoderEngine();
  }
}

async function readPrevious(out: string, full: boolean): Promise<CollectionFile | undefined> {
  if (full) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(out));
  } catch {
    return undefined;
  }
  try {
    return readCollectionFile(bytes);
  } catch (e) {
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      `${out} exists but cannot be reused (${(e as Error).message}); pass --full to embed every document and replace it`,
      { file: out },
    );
  }
}

async function readPilots(file: string | undefined, dim: number): Promise<{ pilots: PilotLibrary } & PilotExtras> {
  if (!file) return { pilots: new Map() };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new RouterRetrieverError('FILE_NOT_FOUND', `--pilot-library ${file}: ${(e as Error).message}`, { file });
  }
  const lib = readLibraryFile(text, dim);
  return { ...lib, pilots: parsePilotLibrary(lib.pilots as Record<string, number[][]>, { dim }) };
}

async function loadExperts(
  engine: EncoderEngine,
  dir: string | undefined,
  url: string | undefined,
  io: IndexIo,
): Promise<ExpertRecord[]> {
  if (!dir) return [];
  const out: ExpertRecord[] = [];
  for (const a of await adapterDirs(dir)) {
    const x = await engine.addExpert(a.name, await modelSpecFrom(a.dir, 'the adapter'));
    const config = JSON.parse(await readFile(join(a.dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    const rec: ExpertRecord = { name: a.name, config };
    if (url) rec.source = `${url.endsWith('/') ? url : `${url}/`}${a.name}/`;
    out.push(rec);
    io.err.write(
      `expert ${a.name}: r ${x.r}, ${x.targets.length} targets${rec.source ? `, loaded from ${rec.source}` : ''}\n`,
    );
  }
  return out;
}

/** Writes `bytes` to `path` through a temporary file in the same folder and a rename. */
export async function writeAtomically(path: string, bytes: ArrayBuffer): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, new Uint8Array(bytes));
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export async function runIndex(argv: readonly string[], io: IndexIo): Promise<void> {
  const { values: v, positionals } = parseCli(argv, OPTIONS, 'router-retriever index --help', true);
  if (positionals.length !== 1)
    badArg(`give one input (a .jsonl or .csv file or a BEIR folder), got ${positionals.length}\n\n${INDEX_USAGE}`);
  if (!v.model) badArg(`--model is needed (a model folder, URL or Hub id)\n\n${INDEX_USAGE}`);
  if (!v.out) badArg(`--out is needed (the collection file to write)\n\n${INDEX_USAGE}`);
  const lexical: LexicalOptions = {
    ...LEXICAL_DEFAULTS,
    analyzer: oneOf('--analyzer', v.analyzer, ['english', 'plain'], 'english'),
  };
  const runtime = oneOf('--runtime', v.runtime, ['node', 'wasm'], 'node');
  const dtype = oneOf('--dtype', v.dtype, ['fp32', 'q8'], 'fp32');
  const threads = positiveInt('--threads', v.threads, Math.min(4, availableParallelism()));
  const batchSize = positiveInt('--batch-size', v['batch-size'], 32);
  const t0 = performance.now();
  // Everything that can be wrong with the input is found before the model loads.
  const docs = await readDocs(positionals[0]);
  const previous = await readPrevious(v.out, v.full === true);
  io.err.write(`${docs.length} documents from ${positionals[0]}\n`);
  const engine = await startEngine(runtime, io);
  try {
    const info: ModelInfo = await engine.load(await modelSpecFrom(v.model), {
      device: 'wasm',
      dtype,
      cache: false,
      numThreads: threads,
    });
    io.err.write(
      `model ${v.model}: ${info.layers} layers, dim ${info.dim}, fingerprint ${info.fingerprint.slice(0, 12)}, ${info.dtype}, ${runtime} runtime, ${threads} thread(s)\n`,
    );
    const experts = await loadExperts(engine, v['experts-dir'], v['experts-url'], io);
    const { pilots, ...extras } = await readPilots(v['pilot-library'], info.dim);
    for (const name of pilots.keys())
      if (!experts.some((e) => e.name === name))
        io.err.write(
          `warning: the pilot library has expert "${name}", which --experts-dir does not have; the browser routes to it only when given its adapter\n`,
        );
    const r = await buildCollection({
      name: v.name ?? basename(v.out).replace(/\.[^.]+$/, ''),
      docs,
      encoder: engine,
      model: { fingerprint: info.fingerprint, dim: info.dim, dtype: info.dtype === 'q8' ? 'q8' : 'fp32' },
      previous,
      experts,
      pilots,
      extras,
      lexical,
      batchSize,
      onProgress: progressPrinter(io.err),
    });
    if (r.previousIgnored) io.err.write(`the existing ${v.out} was not reused: ${r.previousIgnored}\n`);
    await writeAtomically(v.out, r.file);
    const secs = (performance.now() - t0) / 1000;
    io.err.write(
      `wrote ${v.out}: ${docs.length} documents (${r.embedded} embedded, ${r.reused} unchanged, ${r.removed} removed), ` +
        `${r.terms} terms (${lexical.analyzer}), ${experts.length} experts, ${pilots.size} in the pilot library, ` +
        `${(r.file.byteLength / 1e6).toFixed(1)} MB, in ${duration(secs)}\n`,
    );
  } finally {
    await engine.dispose();
  }
}
