/** Node only: a folder on disk as the in-memory ModelSpec ({ id, files }) the encoder accepts. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

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
