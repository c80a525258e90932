/**
 * Model and adapter folders on disk as the encoder's in-memory ModelSpec ({ id, files }): the
 * files a loader reads (config and tokenizer JSON, vocab.txt, the sentence-transformers pooling
 * config, one weights file per role); an http(s) URL or a Hub id is passed on as it is (the engine
 * downloads it). Nothing else is read: not experts/, not a pilot library beside the model (1.9 MB
 * in contriever-mini's folder), not a second weights file. The CLI and the eval tools share it.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RouterRetrieverError } from '../boundary/errors.js';
import type { ModelSpec } from '../boundary/encoder-api.js';

/** Files the loaders read (model folder, sentence-transformers extras, PEFT adapter). */
const TEXT_FILES = [
  'config.json',
  'tokenizer.json',
  'vocab.txt',
  'tokenizer_config.json',
  'modules.json',
  '1_Pooling/config.json',
  'adapter_config.json',
];
/** Weights, one file per role, in the loaders' preference order (the other is never read). */
const WEIGHT_FILES = [
  ['model.safetensors', 'pytorch_model.bin'],
  ['adapter_model.safetensors', 'adapter_model.bin'],
];

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

export async function modelSpecFrom(location: string, what = '--model'): Promise<ModelSpec> {
  if (/^https?:\/\//i.test(location)) return location;
  const dir = resolve(location);
  if (!(await isDir(dir))) {
    if (/^[\w.-]+\/[\w.-]+$/.test(location) && !location.startsWith('.')) return location; // a Hub id
    throw new RouterRetrieverError(
      'FILE_NOT_FOUND',
      `${what} ${location} is not a folder, an http(s) URL or a Hub id`,
      {
        file: dir,
      },
    );
  }
  const files: Record<string, Uint8Array> = {};
  for (const name of TEXT_FILES)
    if (await isFile(join(dir, name))) files[name] = new Uint8Array(await readFile(join(dir, name)));
  for (const group of WEIGHT_FILES) {
    const name = (await Promise.all(group.map((n) => isFile(join(dir, n))))).findIndex(Boolean);
    if (name >= 0) files[group[name]] = new Uint8Array(await readFile(join(dir, group[name])));
  }
  return { id: dir, files };
}

/** The adapter folders of `dir`: every subfolder with an adapter_config.json, by name. */
export async function adapterDirs(dir: string): Promise<{ name: string; dir: string }[]> {
  let names: string[];
  try {
    names = (await readdir(resolve(dir))).sort();
  } catch (e) {
    throw new RouterRetrieverError('FILE_NOT_FOUND', `--experts-dir ${dir}: ${(e as Error).message}`, { file: dir });
  }
  const out: { name: string; dir: string }[] = [];
  for (const name of names) {
    const sub = join(resolve(dir), name);
    if (await isFile(join(sub, 'adapter_config.json'))) out.push({ name, dir: sub });
  }
  if (out.length === 0)
    throw new RouterRetrieverError('NOT_FOUND', `--experts-dir ${dir} has no subfolder with an adapter_config.json`);
  return out;
}
