import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRouterRetrieverError, type ErrorCode } from '../src/boundary/errors.js';
import { memorySource, resolveBaseUrl, urlSource, type FileProgress } from '../workers/model/file-source.js';
import { FakeCacheStorage, fakeFetch } from './helpers/fake-http.js';

async function expectCode(p: Promise<unknown>, code: ErrorCode, match?: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(isRouterRetrieverError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
    if (match) expect((e as Error).message).toMatch(match);
    return;
  }
  throw new Error(`expected a ${code} error`);
}

const bytes = (...xs: number[]) => new Uint8Array(xs);
const BASE = 'https://example.org/models/tiny/';

describe('resolveBaseUrl', () => {
  it('maps Hub ids to resolve/main and keeps URLs and paths', () => {
    expect(resolveBaseUrl('facebook/contriever')).toBe('https://huggingface.co/facebook/contriever/resolve/main/');
    expect(resolveBaseUrl('facebook/contriever-msmarco@v1.0')).toBe(
      'https://huggingface.co/facebook/contriever-msmarco/resolve/v1.0/',
    );
    expect(resolveBaseUrl('https://example.org/m')).toBe('https://example.org/m/');
    expect(resolveBaseUrl('/models/contriever-mini/')).toBe('/models/contriever-mini/');
    expect(resolveBaseUrl('./models/x')).toBe('./models/x/');
    expect(() => resolveBaseUrl('  ')).toThrow(/empty/);
  });
});

describe('urlSource', () => {
  let storage: FakeCacheStorage;
  beforeEach(() => {
    storage = new FakeCacheStorage();
    (globalThis as { caches?: unknown }).caches = storage;
  });
  afterEach(() => {
    delete (globalThis as { caches?: unknown }).caches;
  });

  it('streams with per-file progress, then serves a second visit from the cache', async () => {
    const net = fakeFetch({
      [`${BASE}model.safetensors`]: {
        chunks: [bytes(1, 2, 3), bytes(4, 5), bytes(6)],
        headers: { 'content-type': 'application/octet-stream' },
      },
    });
    const src = urlSource('https://example.org/models/tiny', { fetch: net.fetch, cacheName: 'test-cache' });
    expect(src.id).toBe(BASE);
    const progress: FileProgress[] = [];
    const got = await src.read('model.safetensors', (p) => progress.push({ ...p }));
    expect(Array.from(got!)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(progress.map((p) => p.loaded)).toEqual([0, 3, 5, 6]);
    expect(progress.every((p) => p.total === 6 && p.file === 'model.safetensors')).toBe(true);
    expect(net.calls).toEqual([`${BASE}model.safetensors`]);
    expect(storage.caches.get('test-cache')!.store.has(`${BASE}model.safetensors`)).toBe(true);

    // second visit: a fresh source (new page load) downloads nothing
    const again = urlSource('https://example.org/models/tiny', { fetch: net.fetch, cacheName: 'test-cache' });
    const progress2: FileProgress[] = [];
    const got2 = await again.read('model.safetensors', (p) => progress2.push(p));
    expect(Array.from(got2!)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(progress2).toEqual([{ file: 'model.safetensors', loaded: 6, total: 6 }]);
    expect(net.calls.length).toBe(1);
  });

  it('identifies a cached copy by its URL, size and the id it was stored under; a new download gets a new id', async () => {
    const net = fakeFetch({ [`${BASE}model.safetensors`]: { chunks: [bytes(1, 2, 3)], headers: { etag: '"v1"' } } });
    const src = urlSource(BASE, { fetch: net.fetch });
    expect(src.cacheName).toBe('router-retriever-models');
    expect(await src.cachedIdentity?.('model.safetensors')).toBeNull();
    await src.read('model.safetensors');
    const first = await src.cachedIdentity?.('model.safetensors');
    expect(first).toMatch(new RegExp(`^${BASE}model\\.safetensors 3 \\S+$`));
    const entry = await storage.caches.get('router-retriever-models')!.match(`${BASE}model.safetensors`);
    expect(entry?.headers.get('etag')).toBe('"v1"');
    // Reading it again from the cache keeps the identity; a fresh download (cache cleared) changes it.
    await urlSource(BASE, { fetch: net.fetch }).read('model.safetensors');
    expect(await src.cachedIdentity?.('model.safetensors')).toBe(first);
    storage.caches.get('router-retriever-models')!.store.clear();
    await urlSource(BASE, { fetch: net.fetch }).read('model.safetensors');
    const second = await urlSource(BASE, { fetch: net.fetch }).cachedIdentity?.('model.safetensors');
    expect(second).not.toBeNull();
    expect(second).not.toBe(first);
    expect(urlSource(BASE, { fetch: net.fetch, cacheName: false }).cacheName).toBeUndefined();
  });

  it('returns null for absent files (404) without caching them, and says so offline', async () => {
    const net = fakeFetch({ [`${BASE}config.json`]: { chunks: [bytes(123, 125)] } });
    const src = urlSource(BASE, { fetch: net.fetch });
    expect(await src.read('tokenizer.json')).toBeNull();
    expect(await src.read('config.json')).not.toBeNull();
    const cache = storage.caches.get('router-retriever-models')!;
    expect(cache.store.has(`${BASE}tokenizer.json`)).toBe(false);

    // offline later: cached files still load, files known to be absent are still absent,
    // anything else is a NETWORK error
    net.goOffline();
    const offline = urlSource(BASE, { fetch: net.fetch });
    expect(Array.from((await offline.read('config.json'))!)).toEqual([123, 125]);
    expect(await offline.read('tokenizer.json')).toBeNull();
    await expectCode(offline.read('vocab.txt'), 'NETWORK', /connection/);
  });

  it('reports network failures, HTTP errors and truncated downloads as NETWORK errors (never cached)', async () => {
    const net = fakeFetch({
      [`${BASE}down`]: { error: new TypeError('Failed to fetch') },
      [`${BASE}err`]: { status: 503 },
      [`${BASE}private`]: { status: 401 },
      [`${BASE}short`]: { chunks: [bytes(1, 2)], length: 10 },
      [`${BASE}broken`]: { chunks: [bytes(1), bytes(2)], breakAfter: 1 },
    });
    const src = urlSource(BASE, { fetch: net.fetch });
    await expectCode(src.read('down'), 'NETWORK', /CORS/);
    await expectCode(src.read('err'), 'NETWORK', /HTTP 503/);
    await expectCode(src.read('private'), 'NETWORK', /private or gated/);
    await expectCode(src.read('short'), 'NETWORK', /2 of 10 bytes/);
    await expectCode(src.read('broken'), 'NETWORK', /midway/);
    expect(storage.caches.get('router-retriever-models')?.puts ?? 0).toBe(0);
  });

  it('handles unknown or encoded lengths and works without a cache', async () => {
    const net = fakeFetch({
      [`${BASE}a`]: { chunks: [new Uint8Array(70000).fill(7), bytes(1)], length: null },
      [`${BASE}b`]: { chunks: [bytes(9, 9, 9)], length: 2, headers: { 'content-encoding': 'gzip' } },
    });
    const src = urlSource(BASE, { fetch: net.fetch, cacheName: false });
    const progress: FileProgress[] = [];
    const a = await src.read('a', (p) => progress.push({ ...p }));
    expect(a!.length).toBe(70001);
    expect(progress[0]).toEqual({ file: 'a', loaded: 0, total: null });
    expect(progress.at(-1)).toEqual({ file: 'a', loaded: 70001, total: 70001 });
    const b = await src.read('b', (p) => progress.push({ ...p }));
    expect(b!.length).toBe(3);
    expect(storage.caches.size).toBe(0);
    await src.read('a');
    expect(net.calls.filter((c) => c.endsWith('/a')).length).toBe(2);

    delete (globalThis as { caches?: unknown }).caches;
    const noCacheApi = urlSource(BASE, { fetch: net.fetch });
    expect((await noCacheApi.read('a'))!.length).toBe(70001);
  });

  it('encodes file names under the base and resolves Hub ids', async () => {
    const hub = 'https://huggingface.co/facebook/contriever/resolve/main/';
    const net = fakeFetch({
      [`${hub}1_Pooling/config.json`]: { chunks: [bytes(1)] },
      [`${hub}a%20b.txt`]: { chunks: [bytes(2)] },
    });
    const src = urlSource('facebook/contriever', { fetch: net.fetch, cacheName: false });
    expect(src.id).toBe(hub);
    expect(Array.from((await src.read('1_Pooling/config.json'))!)).toEqual([1]);
    expect(Array.from((await src.read('a b.txt'))!)).toEqual([2]);
  });
});

describe('memorySource', () => {
  it('reads Uint8Array, ArrayBuffer and Blob files, with progress; absent files are null', async () => {
    const src = memorySource(
      {
        'config.json': new TextEncoder().encode('{}'),
        'vocab.txt': new Uint8Array([1, 2, 3]).buffer,
        'contriever/model.safetensors': new Blob([new Uint8Array([4, 5])]),
      },
      'picked folder',
    );
    expect(src.id).toBe('picked folder');
    const progress: FileProgress[] = [];
    expect(new TextDecoder().decode((await src.read('config.json', (p) => progress.push(p)))!)).toBe('{}');
    expect(progress).toEqual([{ file: 'config.json', loaded: 2, total: 2 }]);
    expect(Array.from((await src.read('vocab.txt'))!)).toEqual([1, 2, 3]);
    expect(Array.from((await src.read('model.safetensors'))!)).toEqual([4, 5]);
    expect(await src.read('tokenizer.json')).toBeNull();
    expect(await src.read('__proto__')).toBeNull();
  });
});
