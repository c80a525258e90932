/**
 * open({ prebuilt: url }): a collection file built ahead of time (`router-retriever index`, or
 * exportCollection()) is downloaded with progress, validated whole, checked against the loaded
 * model's fingerprint, and imported in one transaction (src/store/import-file.ts) before the
 * collection opens. The rule for when it is imported:
 *
 *   - the collection was imported from a file with the same bytes (SHA-256): nothing is written,
 *     documents added or deleted since stay as they are (also when all were deleted);
 *   - the collection has no documents: imported;
 *   - the collection was imported from another version of the file: replaced by the new one
 *     (the file is the source of truth; changes made on top of the old version are dropped);
 *   - the collection has documents that did not come from a prebuilt file: kept as it is, and
 *     the result says so (a prebuilt file never overwrites documents a user added).
 *
 * The file is fetched on every open (the HTTP cache answers a revalidation for an unchanged file)
 * and hashed: 22 ms for the demo's 6.4 MB file (3,000 documents of 256 dimensions with their text;
 * headless Chromium, bench/first-search.ts), whose import transaction then took 0.6 s.
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import type { LoadProgress, ModelInfo } from '../boundary/encoder-api.js';
import { importedFrom, replaceWithFile } from '../store/import-file.js';
import { readCollectionFile } from '../store/transfer.js';

export interface PrebuiltResult {
  /** 'imported': the file's content is the collection now; 'unchanged': it already was; 'kept': see `reason`. */
  action: 'imported' | 'unchanged' | 'kept';
  reason: string;
  url: string;
  sha256: string;
  /** Documents in the file. */
  documents: number;
  bytes: number;
  /** Milliseconds: the download, the SHA-256 of the file, the import transaction (0 when nothing was imported). */
  ms: { download: number; hash: number; import: number };
}

function hex(buf: ArrayBuffer): string {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The file's bytes, with 'download' progress events (total from Content-Length when the server sends it). */
export async function download(url: string, onProgress?: (p: LoadProgress) => void): Promise<Uint8Array<ArrayBuffer>> {
  let res: Response;
  try {
    res = await fetch(url, { cache: 'no-cache' });
  } catch (e) {
    throw new RouterRetrieverError(
      'NETWORK',
      `Could not download the prebuilt collection ${url}: ${(e as Error).message}`,
      {
        url,
      },
    );
  }
  if (!res.ok)
    throw new RouterRetrieverError(
      'FILE_NOT_FOUND',
      `Could not download the prebuilt collection ${url}: HTTP ${res.status}. Build it with \`router-retriever index\` and serve it at that URL.`,
      { url, status: res.status },
    );
  const len = Number(res.headers.get('content-length'));
  const total = Number.isFinite(len) && len > 0 ? len : null;
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let loaded = 0;
  onProgress?.({ phase: 'download', file: url, loaded, total });
  const reader = res.body?.getReader();
  if (!reader) parts.push(new Uint8Array(await res.arrayBuffer()));
  else
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      loaded += value.length;
      onProgress?.({ phase: 'download', file: url, loaded, total });
    }
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** The open() option, checked before the model loads. */
export function checkPrebuilt(x: unknown): void {
  if (x !== undefined && (typeof x !== 'string' || x === ''))
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      `prebuilt must be the URL of a collection file, got ${JSON.stringify(x)}.`,
    );
}

/** Imports the prebuilt file at `url` into collection `name` when the rule above says so. */
export async function installPrebuilt(
  name: string,
  url: string,
  model: Pick<ModelInfo, 'fingerprint' | 'dim'>,
  onProgress?: (p: LoadProgress) => void,
): Promise<PrebuiltResult> {
  const t0 = performance.now();
  const bytes = await download(url, onProgress);
  const t1 = performance.now();
  const sha256 = hex(await crypto.subtle.digest('SHA-256', bytes));
  const ms = { download: t1 - t0, hash: performance.now() - t1, import: 0 };
  const state = await importedFrom(name);
  const base = { url, sha256, bytes: bytes.byteLength, ms };
  if (state.prebuilt?.sha256 === sha256)
    return {
      ...base,
      action: 'unchanged',
      documents: state.prebuilt.documents,
      reason: 'the collection was imported from this file',
    };
  const f = readCollectionFile(bytes);
  const documents = f.header.count;
  if (state.documents > 0 && !state.prebuilt) {
    const reason = `collection "${name}" has ${state.documents} documents that did not come from a prebuilt file; they were kept (delete the collection, or clear() it, to use the file)`;
    console.warn(`RouterRetriever: the prebuilt collection ${url} was not imported: ${reason}`);
    return { ...base, action: 'kept', documents, reason };
  }
  if (f.header.fingerprint !== model.fingerprint || f.header.dim !== model.dim)
    throw new RouterRetrieverError(
      'MODEL_MISMATCH',
      `The prebuilt collection ${url} was embedded with another model (fingerprint ${f.header.fingerprint}, dim ${f.header.dim}); ` +
        `this model is ${model.fingerprint} (dim ${model.dim}). Build the file again with this model (router-retriever index ... --model <it>).`,
      { stored: f.header.fingerprint, given: model.fingerprint, url },
    );
  onProgress?.({ phase: 'build', file: url, message: `Importing ${documents} documents of the prebuilt collection…` });
  const t2 = performance.now();
  await replaceWithFile(name, f, { url, sha256, documents, importedAt: Date.now() });
  ms.import = performance.now() - t2;
  const reason = state.prebuilt ? 'the file changed since the last import' : 'the collection was empty';
  return { ...base, action: 'imported', documents, reason };
}
