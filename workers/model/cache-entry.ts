/**
 * The Cache API entries of downloaded model files: written only once a file is complete, with
 * its length, and read back only when the stored body has that length, so a loader never takes a
 * partial or damaged entry for the file.
 */

export type CacheLike = Pick<Cache, 'match' | 'put'> & Partial<Pick<Cache, 'delete'>>;

/**
 * Header of a cached file: a random id given when it was stored, so that a re-download gets a new
 * one. Data derived from the file (the built graph, ../engine/graph-cache.ts) is keyed by it.
 */
export const ENTRY_ID_HEADER = 'x-router-retriever-entry';

function entryId(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  return typeof c?.randomUUID === 'function' ? c.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

/** The Cache API cache `name`, or null where there is none (Node, insecure context, storage off). */
export async function openCache(name: string | false): Promise<Cache | null> {
  if (name === false) return null;
  const storage = (globalThis as { caches?: CacheStorage }).caches;
  if (!storage || typeof storage.open !== 'function') return null;
  try {
    return await storage.open(name);
  } catch {
    return null; // e.g. insecure context or storage disabled: work without a cache
  }
}

/**
 * True when a stored body of `byteLength` bytes is the whole file its headers describe: the
 * content-length written with it, when there is one (entries from other writers may lack it).
 */
export function isCompleteEntry(headers: Headers, byteLength: number): boolean {
  const declared = headers.get('content-length');
  if (declared === null || declared.trim() === '') return true;
  const n = Number(declared);
  return Number.isSafeInteger(n) && n === byteLength;
}

/** The cached file's bytes; null when it is not cached, unreadable or incomplete (then dropped). */
export async function readCached(cache: CacheLike | null, url: string): Promise<Uint8Array | null> {
  if (!cache) return null;
  try {
    const hit = await cache.match(url);
    if (!hit) return null;
    const bytes = new Uint8Array(await hit.arrayBuffer());
    if (isCompleteEntry(hit.headers, bytes.byteLength)) return bytes;
    await cache.delete?.(url);
  } catch {
    /* an unreadable entry is a miss: the file is downloaded again */
  }
  return null;
}

/**
 * The identity of the cached copy of `url`, read from its headers without its body: the URL,
 * the length and the id it was stored under. Null when it is not cached, or was stored without
 * an id (by an older version).
 */
export async function entryIdentity(cache: CacheLike | null, url: string): Promise<string | null> {
  if (!cache) return null;
  try {
    const hit = await cache.match(url);
    const id = hit?.headers.get(ENTRY_ID_HEADER);
    return id ? `${url} ${hit?.headers.get('content-length') ?? '?'} ${id}` : null;
  } catch {
    return null;
  }
}

/**
 * Stores a complete file with its length, a fresh entry id and the server's content-type, ETag
 * and Last-Modified; best effort (quota or storage errors leave it uncached).
 */
export async function writeCached(
  cache: CacheLike | null,
  url: string,
  bytes: Uint8Array,
  served: Headers | null = null,
): Promise<void> {
  if (!cache) return;
  const headers: Record<string, string> = { 'content-length': String(bytes.byteLength), [ENTRY_ID_HEADER]: entryId() };
  for (const h of ['content-type', 'etag', 'last-modified']) {
    const v = served?.get(h);
    if (v) headers[h] = v;
  }
  try {
    await cache.put(url, new Response(bytes as Uint8Array<ArrayBuffer>, { status: 200, headers }));
  } catch {
    /* the file is still returned, just not cached */
  }
}
