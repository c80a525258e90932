/** Served paths of transformers.js' own onnxruntime-web, for the benches that load it in Chromium. */
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

export function tjsOrtDist(): string {
  const nested = join(ROOT, 'node_modules', '@huggingface', 'transformers', 'node_modules', 'onnxruntime-web', 'dist');
  const dir = existsSync(nested) ? nested : join(ROOT, 'node_modules', 'onnxruntime-web', 'dist');
  return `/${relative(ROOT, dir).split('\\').join('/')}/`;
}
