/**
 * Registers /sw.js and waits (briefly) until it controls the page, so the encoder worker started
 * afterwards has its script, ORT's .mjs/.wasm and the model files fetched through it. What the
 * page loaded before that is handed to the service worker to cache.
 */
export interface OfflineState {
  supported: boolean;
  controlled: boolean;
}

export async function registerServiceWorker(timeoutMs = 4000): Promise<OfflineState> {
  if (!('serviceWorker' in navigator) || !isSecureContext) return { supported: false, controlled: false };
  try {
    await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  } catch {
    return { supported: false, controlled: false };
  }
  if (navigator.serviceWorker.controller) return { supported: true, controlled: true };
  const controlled = await new Promise<boolean>((resolve) => {
    const t = setTimeout(() => resolve(false), timeoutMs);
    navigator.serviceWorker.addEventListener(
      'controllerchange',
      () => {
        clearTimeout(t);
        resolve(true);
      },
      { once: true },
    );
  });
  return { supported: true, controlled };
}

/** Asks the service worker to cache what this page loaded (resource timing entries + the page). */
export async function cacheLoadedResources(): Promise<{ count: number; failed: string[] } | null> {
  const sw = navigator.serviceWorker?.controller;
  if (!sw) return null;
  const urls = new Set<string>([location.href]);
  for (const e of performance.getEntriesByType('resource')) {
    const u = new URL(e.name);
    if (u.origin === location.origin) urls.add(u.href);
  }
  return new Promise((resolve) => {
    const onMsg = (ev: MessageEvent) => {
      if (ev.data?.type !== 'cached') return;
      navigator.serviceWorker.removeEventListener('message', onMsg);
      resolve({ count: ev.data.count, failed: ev.data.failed });
    };
    navigator.serviceWorker.addEventListener('message', onMsg);
    sw.postMessage({ type: 'cache-urls', urls: [...urls] });
    setTimeout(() => resolve(null), 20000);
  });
}
