/** An in-memory stand-in for the Cache API (CacheStorage + Cache), for Node tests. */
const urlOf = (req: RequestInfo | URL): string => (req instanceof Request ? req.url : String(req));

export class FakeCache {
  deletes = 0;
  readonly store = new Map<string, { body: Uint8Array; headers: [string, string][]; status: number }>();
  puts = 0;
  async match(req: RequestInfo | URL): Promise<Response | undefined> {
    const e = this.store.get(urlOf(req));
    return e
      ? new Response(e.body.slice() as Uint8Array<ArrayBuffer>, { status: e.status, headers: e.headers })
      : undefined;
  }
  async put(req: RequestInfo | URL, res: Response): Promise<void> {
    this.puts++;
    this.store.set(urlOf(req), {
      body: new Uint8Array(await res.arrayBuffer()),
      headers: [...res.headers],
      status: res.status,
    });
  }
  async delete(req: RequestInfo | URL): Promise<boolean> {
    this.deletes++;
    return this.store.delete(urlOf(req));
  }
  async keys(): Promise<Request[]> {
    return [...this.store.keys()].map((u) => new Request(u));
  }
}

export class FakeCacheStorage {
  readonly caches = new Map<string, FakeCache>();
  async open(name: string): Promise<FakeCache> {
    let c = this.caches.get(name);
    if (!c) this.caches.set(name, (c = new FakeCache()));
    return c;
  }
}
