/**
 * The web platform a FileSource downloads through, in memory: the Cache API (CacheStorage and
 * Cache), a fetch() answering from routes with streamed chunks, and the Web Locks API.
 */
export { FakeCache, FakeCacheStorage } from './fake-caches.js';

export interface Route {
  status?: number;
  chunks?: Uint8Array[];
  headers?: Record<string, string>;
  /** declared content-length (defaults to the real total) */
  length?: number | null;
  error?: Error;
  breakAfter?: number;
  /** the body's first chunk waits for this */
  gate?: Promise<void>;
}

/** A route, or one per request in turn (the last one answers the rest). */
export type Routes = Record<string, Route | Route[]>;

export function fakeFetch(routes: Routes) {
  const calls: string[] = [];
  const inits: (RequestInit | undefined)[] = [];
  let offline = false;
  const f = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    calls.push(url);
    inits.push(init);
    if (offline) throw new TypeError('Failed to fetch');
    const entry = routes[url];
    const r = Array.isArray(entry) ? (entry.length > 1 ? entry.shift() : entry[0]) : entry;
    if (!r) return new Response('not found', { status: 404 });
    if (r.error) throw r.error;
    const chunks = r.chunks ?? [];
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const headers = new Headers(r.headers);
    const len = r.length === undefined ? total : r.length;
    if (len !== null) headers.set('content-length', String(len));
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        if (i === 0) await r.gate;
        if (r.breakAfter !== undefined && i === r.breakAfter) {
          ctl.error(new TypeError('network changed'));
          return;
        }
        if (i < chunks.length) ctl.enqueue(chunks[i++]);
        else ctl.close();
      },
    });
    return new Response(body, { status: r.status ?? 200, headers });
  }) as typeof fetch;
  return { fetch: f, calls, inits, goOffline: () => (offline = true) };
}

/** The Web Locks API's exclusive locks, in one process: the names granted, in order. */
export class FakeLocks {
  readonly granted: string[] = [];
  private readonly tails = new Map<string, Promise<unknown>>();
  request<T>(name: string, task: () => Promise<T>): Promise<T> {
    const before = this.tails.get(name) ?? Promise.resolve();
    const run = before.then(() => {
      this.granted.push(name);
      return task();
    });
    this.tails.set(
      name,
      run.catch(() => undefined),
    );
    return run;
  }
}
