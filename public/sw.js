/*
 * RouterRetriever Web demo: service worker for offline use (app shell, scripts, ORT .wasm/.mjs,
 * sample data, small model JSON files). Model weights are cached by the SDK itself in the
 * Cache API ('router-retriever-models'), so large weight files pass through untouched here.
 *
 * Strategy for same-origin GETs:
 *  - cache-first for content that does not change between visits (.wasm, ORT .mjs, hashed build
 *    assets, sample data);
 *  - network-first with a cache fallback for the rest (pages and, under `vite` dev, modules
 *    transformed on the fly), so a developer always gets fresh code online and the last good
 *    copy offline.
 * The page posts {type: 'cache-urls', urls} with what it loaded before this worker controlled
 * it; the worker caches those and answers {type: 'cached', count, failed}.
 */
const CACHE = 'rr-demo-app-v1';
const WEIGHTS = /\.(safetensors|bin|onnx|pt|pth)$/i;
const IMMUTABLE = /(\.wasm$)|(\/onnxruntime-web\/dist\/.*\.mjs$)|(^\/assets\/)|(^\/demo-data\/)/;

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const k of await caches.keys()) if (k.startsWith('rr-demo-app-') && k !== CACHE) await caches.delete(k);
      await self.clients.claim();
    })(),
  );
});

function cacheable(url) {
  if (url.origin !== self.location.origin) return false;
  const p = url.pathname;
  if (WEIGHTS.test(p)) return false; // the SDK caches model weights
  if (url.searchParams.has('t') || url.searchParams.has('token')) return false; // vite HMR updates
  return true;
}

async function put(cache, req, res) {
  if (res && res.ok && res.type === 'basic') await cache.put(req, res.clone());
  return res;
}

async function handle(req) {
  const url = new URL(req.url);
  const cache = await caches.open(CACHE);
  if (IMMUTABLE.test(url.pathname)) {
    const hit = await cache.match(req, { ignoreVary: true });
    if (hit) return hit;
    return put(cache, req, await fetch(req));
  }
  try {
    return await put(cache, req, await fetch(req));
  } catch (e) {
    // ignoreVary: module scripts carry an Origin header that the cached request may lack.
    const hit =
      (await cache.match(req, { ignoreVary: true })) ??
      (req.mode === 'navigate' ? await cache.match(req, { ignoreSearch: true, ignoreVary: true }) : undefined);
    if (hit) return hit;
    throw e;
  }
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET' || req.headers.has('range')) return;
  const url = new URL(req.url);
  if (!cacheable(url)) return;
  event.respondWith(handle(req));
});

self.addEventListener('message', (event) => {
  const data = event.data;
  if (!data || data.type !== 'cache-urls' || !Array.isArray(data.urls)) return;
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      let count = 0;
      const failed = [];
      for (const u of data.urls) {
        const url = new URL(u, self.location.href);
        if (!cacheable(url)) continue;
        try {
          if (!(await cache.match(url.href, { ignoreVary: true }))) {
            const res = await fetch(url.href, { credentials: 'same-origin' });
            if (!res.ok) throw new Error(String(res.status));
            await cache.put(url.href, res);
          }
          count++;
        } catch {
          failed.push(url.pathname);
        }
      }
      event.source?.postMessage({ type: 'cached', count, failed });
    })(),
  );
});
