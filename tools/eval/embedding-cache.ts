/**
 * Node-only on-disk cache of corpus embeddings, so a second run does not re-embed.
 *
 * Key = sha256 of (model fingerprint, dataset name, document count, dim, and a
 * digest of the embedded texts with their ids - so --max-docs or an edited
 * corpus never reuses stale vectors). Files: <dir>/<key>.f32 (raw little-endian
 * float32, row-major) and <key>.json (what the key was made of). Default dir:
 * <repo>/.cache/embeddings (git-ignored).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DenseBackend } from '../../src/eval/dense.js';

export interface CacheEntryInfo {
  fingerprint: string;
  dataset: string;
  docCount: number;
  dim: number;
  contentDigest: string;
}

export function contentDigest(ids: readonly string[], texts: readonly string[]): string {
  const h = createHash('sha256');
  for (let i = 0; i < ids.length; i++) h.update(ids[i]).update('\0').update(texts[i]).update('\0');
  return h.digest('hex');
}

export function cacheKey(info: CacheEntryInfo): string {
  return createHash('sha256')
    .update(JSON.stringify([info.fingerprint, info.dataset, info.docCount, info.dim, info.contentDigest]))
    .digest('hex')
    .slice(0, 32);
}

export class EmbeddingCache {
  hits = 0;
  misses = 0;
  constructor(readonly dir: string) {}

  async get(info: CacheEntryInfo): Promise<Float32Array | null> {
    const key = cacheKey(info);
    try {
      const buf = await readFile(join(this.dir, `${key}.f32`));
      if (buf.byteLength !== info.docCount * info.dim * 4) return null;
      const out = new Float32Array(info.docCount * info.dim);
      new Uint8Array(out.buffer).set(buf);
      return out;
    } catch {
      return null;
    }
  }

  async put(info: CacheEntryInfo, embeddings: Float32Array): Promise<void> {
    const key = cacheKey(info);
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `${key}.f32.${process.pid}.tmp`);
    await writeFile(tmp, new Uint8Array(embeddings.buffer, embeddings.byteOffset, embeddings.byteLength));
    await rename(tmp, join(this.dir, `${key}.f32`));
    await writeFile(
      join(this.dir, `${key}.json`),
      JSON.stringify({ ...info, created: new Date().toISOString() }, null, 2),
    );
  }

  /** Cached embeddings of a corpus, computing (in batches) and storing them on a miss. */
  async getOrEmbed(
    backend: DenseBackend,
    dataset: string,
    ids: readonly string[],
    texts: readonly string[],
    batchSize = 64,
    onProgress?: (done: number, total: number) => void,
  ): Promise<Float32Array> {
    const info: CacheEntryInfo = {
      fingerprint: backend.fingerprint,
      dataset,
      docCount: ids.length,
      dim: backend.dim,
      contentDigest: contentDigest(ids, texts),
    };
    const hit = await this.get(info);
    if (hit) {
      this.hits++;
      return hit;
    }
    this.misses++;
    const out = new Float32Array(ids.length * backend.dim);
    for (let i = 0; i < texts.length; i += batchSize) {
      const part = await backend.embedDocuments(texts.slice(i, i + batchSize) as string[]);
      out.set(part, i * backend.dim);
      onProgress?.(Math.min(i + batchSize, texts.length), texts.length);
    }
    await this.put(info, out);
    return out;
  }
}
