/** Cache API entries of model files count only when complete (workers/model/cache-entry.ts). */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isCompleteEntry, readCached } from '../workers/model/cache-entry.js';
import { urlSource } from '../workers/model/file-source.js';
import { FakeCache, FakeCacheStorage, fakeFetch } from './helpers/fake-http.js';

const BASE = 'https://example.org/models/tiny/';
const URL_ = `${BASE}model.safetensors`;
const FILE = [1, 2, 3, 4, 5, 6];

let storage: FakeCacheStorage;
beforeEach(() => {
  storage = new FakeCacheStorage();
  vi.stubGlobal('caches', storage);
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('cache entries', () => {
  it('a cached file whose body is shorter than its content-length is dropped and downloaded again', async () => {
    const cache = await storage.open('router-retriever-models');
    cache.store.set(URL_, { body: new Uint8Array([1, 2]), headers: [['content-length', '6']], status: 200 });
    const net = fakeFetch({ [URL_]: { chunks: [new Uint8Array(FILE)] } });
    expect(Array.from((await urlSource(BASE, { fetch: net.fetch }).read('model.safetensors'))!)).toEqual(FILE);
    expect(net.calls).toEqual([URL_]);
    expect(cache.deletes).toBe(1);
    expect(Array.from(cache.store.get(URL_)!.body)).toEqual(FILE);
    expect(cache.store.get(URL_)!.headers).toContainEqual(['content-length', '6']);
  });

  it('isCompleteEntry: the body has the declared length, or none is declared', () => {
    const h = (len?: string) => new Headers(len === undefined ? {} : { 'content-length': len });
    expect(isCompleteEntry(h('6'), 6)).toBe(true);
    expect(isCompleteEntry(h(), 6)).toBe(true);
    expect(isCompleteEntry(h(''), 6)).toBe(true);
    expect(isCompleteEntry(h('6'), 5)).toBe(false);
    expect(isCompleteEntry(h('x'), 6)).toBe(false);
    expect(isCompleteEntry(h('6.5'), 6)).toBe(false);
  });

  it('readCached: no cache, no entry or an unreadable entry is a miss', async () => {
    expect(await readCached(null, URL_)).toBeNull();
    expect(await readCached(new FakeCache(), URL_)).toBeNull();
    const broken = { match: async () => Promise.reject(new Error('storage gone')), put: async () => undefined };
    expect(await readCached(broken, URL_)).toBeNull();
  });
});
