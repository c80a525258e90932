/**
 * Model and adapter folders on disk as the encoder's in-memory ModelSpec ({ id, files }): the
 * files of the folder itself that a loader may read (config and tokenizer JSON, vocab.txt, the
 * weights) and the sentence-transformers pooling config; an http(s) URL or a Hub id is passed on
 * as it is (the engine downloads it). Subfolders such as experts/ are not read.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RouterRetrieverError } from '../boundary/errors.js';
import type { ModelSpec } from '../boundary/encoder-api.js';

const READ = /\.(json|txt|safetensors|bin)$/;

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
  for (const name of (await readdir(dir)).sort()) {
    const p = join(dir, name);
    if (READ.test(name) && !(await isDir(p))) files[name] = new Uint8Array(await readFile(p));
  }
  const pooling = join(dir, '1_Pooling', 'config.json');
  if (
    await stat(pooling).then(
      (s) => s.isFile(),
      () => false,
    )
  )
    files['1_Pooling/config.json'] = new Uint8Array(await readFile(pooling));
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
    if (
      await stat(join(sub, 'adapter_config.json')).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      out.push({ name, dir: sub });
  }
  if (out.length === 0)
    throw new RouterRetrieverError('NOT_FOUND', `--experts-dir ${dir} has no subfolder with an adapter_config.json`);
  return out;
}
