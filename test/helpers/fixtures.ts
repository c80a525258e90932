/** Reads fixture folders from disk as the in-memory ModelSpec the engine accepts. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

export function folderSpec(dir: string): { id: string; files: Record<string, Uint8Array> } {
  const files: Record<string, Uint8Array> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files[relative(dir, p).split('\\').join('/')] = new Uint8Array(readFileSync(p));
    }
  };
  walk(dir);
  return { id: dir, files };
}

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
