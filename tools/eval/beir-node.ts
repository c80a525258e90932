/**
 * Node-only: read a BEIR folder from disk into a BeirDataset (parsing is in
 * src/eval/beir.ts). Every qrels/<split>.tsv found is loaded.
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { RouterRetrieverError } from '../../src/boundary/errors.js';
import { parseCorpusJsonl, parseQrelsTsv, parseQueriesJsonl, type BeirDataset } from '../../src/eval/beir.js';
import type { Qrels } from '../../src/eval/metrics.js';

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new RouterRetrieverError('FILE_NOT_FOUND', `cannot read ${file}: ${(e as Error).message}`, { file });
  }
}

export interface LoadOptions {
  /** Keep only the first N corpus documents (file order); judged documents beyond it are simply not retrievable. */
  maxDocs?: number;
}

export async function loadBeirDir(dir: string, options: LoadOptions = {}): Promise<BeirDataset> {
  const root = resolve(dir);
  const corpusFile = join(root, 'corpus.jsonl');
  const queriesFile = join(root, 'queries.jsonl');
  const qrelsDir = join(root, 'qrels');
  const [corpusText, queriesText] = await Promise.all([readText(corpusFile), readText(queriesFile)]);
  let names: string[];
  try {
    names = (await readdir(qrelsDir)).filter((f) => f.endsWith('.tsv')).sort();
  } catch (e) {
    throw new RouterRetrieverError('FILE_NOT_FOUND', `cannot list ${qrelsDir}: ${(e as Error).message}`, {
      file: qrelsDir,
    });
  }
  if (names.length === 0)
    throw new RouterRetrieverError('FILE_NOT_FOUND', `no qrels/*.tsv in ${root}`, { file: qrelsDir });
  const qrels = new Map<string, Qrels>();
  for (const f of names) {
    const file = join(qrelsDir, f);
    qrels.set(f.slice(0, -4), parseQrelsTsv(await readText(file), file));
  }
  return {
    name: basename(root),
    corpus: parseCorpusJsonl(corpusText, corpusFile, { maxDocs: options.maxDocs }),
    queries: parseQueriesJsonl(queriesText, queriesFile),
    qrels,
  };
}
