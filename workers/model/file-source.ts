import { RouterRetrieverError } from '../../src/boundary/errors.js';

/** Progress of one file: bytes received so far and the total when known. */
export interface FileProgress {
  file: string;
  loaded: number;
  total: number | null;
}

/** Where model files come from: a URL (with the Cache API) or files the user picked. */
export interface FileSource {
  /** The base URL or a name for the set of files (used in messages and as a cache identity). */
  readonly id: string;
  /** The file's bytes, or null when the file does not exist (e.g. HTTP 404). */
  read(name: string, onProgress?: (p: FileProgress) => void): Promise<Uint8Array | null>;
  /**
   * An identity of the Cache API copy of `name` (its URL, size and the id it was stored under),
   * read from the entry's headers without its body; null when the file is not cached, or was
   * cached without an id. Derived data (the built graph) is keyed by it. Absent: never cached.
   */
  cachedIdentity?(name: string): Promise<string | null>;
  /** The Cache API cache this source keeps its files in (absent: none). */
  readonly cacheName?: string;
}

export interface UrlSourceOptions {
  /** Cache API cache to use; false disables caching (default "router-retriever-models"). */
  cacheName?: string | false;
  /** fetch implementation (default globalThis.fetch). */
  fetch?: typeof fetch;
}

export const DEFAULT_CACHE_NAME = 'router-retriever-models';
/** Cache entry (under the base URL) listing files the server answered 404 for; consulted only offline. */
const ABSENT_MANIFEST = '.router-retriever-absent.json';

export { resolveBaseUrl } from '../../src/boundary/model-location.js';
import { resolveBaseUrl } from '../../src/boundary/model-location.js';
import { entryIdentity, openCache, readCached, writeCached, type CacheLike } from './cache-entry.js';
import { withDownloadLock } from './download-lock.js';
import { networkError, readBody } from './read-body.js';

function fileUrl(base: string, name: string): string {
  return base + name.split('/').map(encodeURIComponent).join('/');
}

/** Files under a base URL or Hugging Face Hub id, streamed with progress and kept in the Cache API. */
export function urlSource(location: string, options: UrlSourceOptions = {}): FileSource {
  const base = resolveBaseUrl(location);
  const cacheName = options.cacheName === undefined ? DEFAULT_CACHE_NAME : options.cacheName;
  let cachePromise: Promise<CacheLike | null> | null = null;
  const getCache = () => (cachePromise ??= openCache(cacheName));
  // With the Cache API keeping the file, the HTTP cache is bypassed: no second stored copy, and no
  // HTTP cache entry shared with another request for the URL (see download-lock.ts).
  const doFetch = (input: string, cached: boolean): Promise<Response> => {
    const f = options.fetch ?? (globalThis as { fetch?: typeof fetch }).fetch;
    if (!f) throw networkError(input, 'this environment has no fetch(); pass options.fetch or use memorySource().');
    return cached ? f(input, { cache: 'no-store' }) : f(input);
  };

  async function absentList(cache: CacheLike | null): Promise<string[]> {
    if (!cache) return [];
    try {
      const r = await cache.match(base + ABSENT_MANIFEST);
      const list: unknown = r ? await r.json() : [];
      return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
    } catch {
      return [];
    }
  }

  async function recordAbsent(cache: CacheLike | null, name: string): Promise<void> {
    if (!cache) return;
    const list = await absentList(cache);
    if (list.includes(name)) return;
    list.push(name);
    try {
      await cache.put(
        base + ABSENT_MANIFEST,
        new Response(JSON.stringify(list), { headers: { 'content-type': 'application/json' } }),
      );
    } catch {
      /* best effort */
    }
  }

  return {
    id: base,
    ...(cacheName === false ? {} : { cacheName }),
    async cachedIdentity(name) {
      return entryIdentity(await getCache(), fileUrl(base, name));
    },
    async read(name, onProgress) {
      const url = fileUrl(base, name);
      const cache = await getCache();
      const fromCache = (bytes: Uint8Array): Uint8Array => {
        onProgress?.({ file: name, loaded: bytes.byteLength, total: bytes.byteLength });
        return bytes;
      };
      const hit = await readCached(cache, url);
      if (hit) return fromCache(hit);
      // Another loader of this origin (a worker, a tab) may be downloading the file: wait for it,
      // then take its complete cache entry, or download the file when it left none.
      return withDownloadLock(url, async () => {
        const done = await readCached(cache, url);
        return done ? fromCache(done) : download(url, name, cache, onProgress);
      });
    },
  };

  async function download(
    url: string,
    name: string,
    cache: CacheLike | null,
    onProgress?: (p: FileProgress) => void,
  ): Promise<Uint8Array | null> {
    let res: Response;
    try {
      res = await doFetch(url, cache !== null);
    } catch (e) {
      if (e instanceof RouterRetrieverError) throw e;
      // Offline after an earlier complete visit: a file the server said was absent is still absent.
      if ((await absentList(cache)).includes(name)) return null;
      throw networkError(
        url,
        `the request failed (${(e as Error)?.message ?? String(e)}). Check the network connection, the URL, and that the server allows cross-origin requests (CORS).`,
      );
    }
    if (res.status === 404 || res.status === 410) {
      await recordAbsent(cache, name);
      return null;
    }
    if (res.status === 401 || res.status === 403) {
      throw networkError(
        url,
        `access denied (HTTP ${res.status}). The repository may be private or gated, or may not exist; check the model id/URL.`,
        { status: res.status },
      );
    }
    if (!res.ok) {
      throw networkError(
        url,
        `the server answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}. Try again later or check the URL.`,
        { status: res.status },
      );
    }

    const bytes = await readBody(res, url, name, onProgress);
    await writeCached(cache, url, bytes, res.headers);
    return bytes;
  }
}

export type MemoryFile = Uint8Array | Blob | ArrayBuffer;

/**
 * Files the user picked (or bundled bytes), by name ("config.json", "1_Pooling/config.json").
 * A name also matches a single key ending in "/<name>", so a picked folder's relative paths
 * ("contriever/config.json") work too.
 */
export function memorySource(files: Record<string, MemoryFile>, id = 'memory'): FileSource {
  const keys = Object.keys(files);
  return {
    id,
    async read(name, onProgress) {
      let f: MemoryFile | undefined = Object.hasOwn(files, name) ? files[name] : undefined;
      if (f === undefined) {
        const matches = keys.filter((k) => k.endsWith(`/${name}`) && !k.slice(0, -name.length - 1).includes('/'));
        if (matches.length === 1) f = files[matches[0]];
      }
      if (f === undefined || f === null) return null;
      let bytes: Uint8Array;
      try {
        if (f instanceof Uint8Array) bytes = f;
        else if (f instanceof ArrayBuffer) bytes = new Uint8Array(f);
        else if (typeof Blob !== 'undefined' && f instanceof Blob) bytes = new Uint8Array(await f.arrayBuffer());
        else if (ArrayBuffer.isView(f))
          bytes = new Uint8Array(
            (f as ArrayBufferView).buffer,
            (f as ArrayBufferView).byteOffset,
            (f as ArrayBufferView).byteLength,
          );
        else
          throw new RouterRetrieverError(
            'INVALID_INPUT',
            `File "${name}" must be a Uint8Array, ArrayBuffer or Blob/File.`,
          );
      } catch (e) {
        if (e instanceof RouterRetrieverError) throw e;
        throw new RouterRetrieverError(
          'FILE_NOT_FOUND',
          `Could not read the picked file "${name}" (${(e as Error)?.message ?? String(e)}). Pick the file again.`,
          { file: name },
        );
      }
      onProgress?.({ file: name, loaded: bytes.byteLength, total: bytes.byteLength });
      return bytes;
    },
  };
}
