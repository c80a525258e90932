/**
 * One download of a URL at a time per origin: every encoder worker and tab of the page's origin
 * takes the same Web Lock before fetching a model file, so a second loader waits for the first
 * and then finds the file complete in the Cache API instead of downloading it again.
 *
 * Two concurrent requests for one URL otherwise share the browser's HTTP cache entry: Chromium
 * lets the second read from the first one's cache write, and when that write fails midway (a
 * response without Content-Length, such as `vite preview`'s on-the-fly gzip, that outgrows the
 * cache's largest entry) the second request fails with ERR_CACHE_WRITE_FAILURE.
 */

/** The lock's name for a file URL. */
export function downloadLockName(url: string): string {
  return `router-retriever-download:${url}`;
}

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

function lockManager(): LockManagerLike | null {
  const locks = (globalThis as { navigator?: { locks?: Partial<LockManagerLike> } }).navigator?.locks;
  return locks && typeof locks.request === 'function' ? (locks as LockManagerLike) : null;
}

/**
 * Runs `task` holding the URL's lock (released when it settles, or when the worker or tab holding
 * it goes away). Where there is no Web Locks API (Node, old browsers) it runs at once.
 */
export async function withDownloadLock<T>(url: string, task: () => Promise<T>): Promise<T> {
  const locks = lockManager();
  if (!locks) return task();
  return locks.request(downloadLockName(url), task);
}
