/** Reads fixture folders from disk as the in-memory ModelSpec the engine accepts. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

export { folderSpec } from '../../tools/node-folder.js';

export interface Golden {
  texts: string[];
  input_ids: number[][];
  embeddings: Record<string, number[][]>;
}

export function golden(): Golden {
  return JSON.parse(readFileSync(join(FIXTURES, 'golden.json'), 'utf8')) as Golden;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
