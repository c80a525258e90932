/**
 * Loaders of one URL at once (two encoder workers, two tabs): one downloads under the URL's Web
 * Lock, the others wait and take its Cache API entry.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { downloadLockName } from '../workers/model/download-lock.js';
import { urlSource, type FileProgress } from '../workers/model/file-source.js';
import { expectCode } from './helpers/expect-code.js';
import { FakeCacheStorage, FakeLocks, fakeFetch } from './helpers/fake-http.js';

const BASE = 'https://example.org/models/tiny/';
const URL_ = `${BASE}model.safetensors`;
const FILE = [1, 2, 3, 4, 5, 6];
const chunks = () => [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5, 6])];

let storage: FakeCacheStorage;
let locks: FakeLocks;
beforeEach(() => {
  storage = new FakeCacheStorage();
  locks = new FakeLocks();
  vi.stubGlobal('caches', storage);
  vi.stubGlobal('navigator', { locks });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

/** A body that stays in flight until `open()`; `requested` settles at the first request. */
function gated() {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let request!: () => void;
  const requested = new Promise<void>((r) => (request = r));
  const counting = (f: typeof fetch): typeof fetch =>
    ((input: RequestInfo | URL, init?: RequestInit) => {
      request();
      return f(input, init);
    }) as typeof fetch;
  return { gate, open, requested, counting };
}

describe('two loaders of one file at once', () => {
  it('download it once: the second waits for the lock, then reads the cache entry', async () => {
    const { gate, open, requested, counting } = gated();
    const net = fakeFetch({ [URL_]: { chunks: chunks(), gate } });
    const first = urlSource(BASE, { fetch: counting(net.fetch) });
    const second = urlSource(BASE, { fetch: counting(net.fetch) });
    const progress: FileProgress[] = [];
    const reads = [first.read('model.safetensors'), second.read('model.safetensors', (p) => progress.push(p))];
    await requested;
    open();
    const [a, b] = await Promise.all(reads);
    expect(Array.from(a!)).toEqual(FILE);
    expect(Array.from(b!)).toEqual(FILE);
    expect(net.calls).toEqual([URL_]);
    expect(locks.granted).toEqual([downloadLockName(URL_), downloadLockName(URL_)]);
    expect(progress).toEqual([{ file: 'model.safetensors', loaded: 6, total: 6 }]);
  });

  it('when the first download breaks off, the waiting loader downloads the file itself', async () => {
    const { gate, open, requested, counting } = gated();
    const net = fakeFetch({ [URL_]: [{ chunks: chunks(), breakAfter: 1, gate }, { chunks: chunks() }] });
    const reads = [
      urlSource(BASE, { fetch: counting(net.fetch) }).read('model.safetensors'),
      urlSource(BASE, { fetch: counting(net.fetch) }).read('model.safetensors'),
    ];
    await requested;
    open();
    await expectCode(reads[0], 'NETWORK');
    expect(Array.from((await reads[1])!)).toEqual(FILE);
    expect(net.calls).toEqual([URL_, URL_]);
  });

  it('serialise without a cache too, and run at once where there is no Web Locks API', async () => {
    const net = fakeFetch({ [URL_]: { chunks: chunks() } });
    const src = urlSource(BASE, { fetch: net.fetch, cacheName: false });
    await Promise.all([src.read('model.safetensors'), src.read('model.safetensors')]);
    expect(locks.granted.length).toBe(2);
    expect(net.calls.length).toBe(2);

    vi.stubGlobal('navigator', {});
    expect(Array.from((await src.read('model.safetensors'))!)).toEqual(FILE);
    expect(locks.granted.length).toBe(2);
  });
});

describe('the HTTP cache', () => {
  it('a download kept in the Cache API bypasses the HTTP cache; without one it does not', async () => {
    const net = fakeFetch({ [URL_]: { chunks: chunks() } });
    await urlSource(BASE, { fetch: net.fetch }).read('model.safetensors');
    await urlSource(BASE, { fetch: net.fetch, cacheName: false }).read('model.safetensors');
    expect(net.inits).toEqual([{ cache: 'no-store' }, undefined]);
  });
});
