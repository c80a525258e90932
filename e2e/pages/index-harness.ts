/**
 * Exposes RouterRetriever to Playwright as window.rr (e2e/index.spec.ts): the real
 * worker, the real IndexedDB, plus main-thread responsiveness probes.
 */
import {
  RouterRetriever,
  isRouterRetrieverError,
  type Doc,
  type OpenOptions,
  type SearchOptions,
} from '../../src/index.js';
import { SearchIndex } from '../../src/search/search-index.js';

const MODEL = '/test/fixtures/tiny-bert/';
const EXPERT_A = '/test/fixtures/adapters/expert-a/';
const WORDS =
  'apple banana cherry river mountain ocean protein cell gene market stock bond court law judge star planet orbit'.split(
    ' ',
  );

/** Incompressible filler (IndexedDB compresses values): a pseudo-random string. */
function noise(seed: number, n: number): string {
  let s = seed * 2654435761 + 1;
  let out = '';
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out += String.fromCharCode(33 + ((s >>> 16) % 90));
  }
  return out;
}

function makeDocs(n: number, from = 0, pad = 0, metaBytes = 0): Doc[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return {
      ...(metaBytes > 0 ? { metadata: { blob: noise(i, metaBytes) } } : {}),
      id: `d${i}`,
      title: `${WORDS[i % WORDS.length]} ${i}`,
      text:
        `${WORDS[(i * 7) % WORDS.length]} ${WORDS[(i * 3 + 1) % WORDS.length]} ${WORDS[(i * 5 + 2) % WORDS.length]} number ${i}` +
        ' filler'.repeat(pad),
    };
  });
}

type PostTask = (cb: () => void, opts: { priority: 'user-blocking'; delay: number }) => Promise<void>;

/**
 * Main-thread responsiveness while `fn` runs: long tasks (PerformanceObserver 'longtask',
 * > 50 ms each), and a probe task that reschedules itself 1 ms after each run (`turns`, and the
 * largest gap between two turns). The probe is posted at 'user-blocking' priority, as input
 * handling is: the SDK's sliced scan yields with scheduler.yield(), whose continuation runs
 * before ordinary timers, so a plain setTimeout probe would not get a turn between slices.
 */
async function observe<T>(
  fn: () => Promise<T>,
  probe = true,
): Promise<{ result: T; longTasks: number[]; maxGapMs: number; turns: number; ms: number }> {
  const longTasks: number[] = [];
  const po = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) longTasks.push(e.duration);
  });
  po.observe({ type: 'longtask', buffered: false });
  let running = probe;
  let maxGapMs = 0;
  let turns = 0;
  let last = performance.now();
  const postTask = (globalThis as unknown as { scheduler?: { postTask?: PostTask } }).scheduler?.postTask;
  const schedule = (cb: () => void) =>
    postTask
      ? void postTask.call((globalThis as unknown as { scheduler: unknown }).scheduler, cb, {
          priority: 'user-blocking',
          delay: 1,
        })
      : setTimeout(cb, 1);
  const tick = () => {
    if (!running) return;
    const t = performance.now();
    turns++;
    maxGapMs = Math.max(maxGapMs, t - last);
    last = t;
    schedule(tick);
  };
  if (probe) schedule(tick);
  const t0 = performance.now();
  try {
    const result = await fn();
    const ms = performance.now() - t0;
    const turnsDuring = turns;
    running = false;
    await new Promise((r) => setTimeout(r, 100)); // let the observer deliver
    return { result, longTasks, maxGapMs, turns: turnsDuring, ms };
  } finally {
    running = false;
    po.disconnect();
  }
}

let current: RouterRetriever | undefined;
let big: { idx: SearchIndex; queries: Float32Array[] } | undefined;

function errInfo(e: unknown): { code?: string; message: string; details?: Record<string, unknown> } {
  if (isRouterRetrieverError(e))
    return {
      code: e.code,
      message: e.message,
      details: JSON.parse(JSON.stringify(e.details)) as Record<string, unknown>,
    };
  return { message: String((e as Error)?.message ?? e) };
}

const harness = {
  MODEL,
  EXPERT_A,
  makeDocs,
  async open(name: string, opts: Partial<OpenOptions> = {}) {
    const device = new URL(location.href).searchParams.get('device') ?? 'wasm';
    current = await RouterRetriever.open({ name, model: MODEL, device: device as 'wasm' | 'webgpu', ...opts });
    return { backend: current.model.backend, dim: current.model.dim, ...(await harness.counts()) };
  },
  async counts() {
    const enc = (current as unknown as { encoder: { stats(): Promise<{ calls: number; texts: number }> } }).encoder;
    const s = await current!.stats();
    return {
      documents: s.documents,
      texts: (await enc.stats()).texts,
      experts: s.experts,
      usage: s.usageBytes,
      quota: s.quotaBytes,
    };
  },
  /** Indexes n generated docs (from `from`), observing the main thread. */
  async index(
    n: number,
    from = 0,
    opts: { pad?: number; sliceSize?: number; metaBytes?: number; probe?: boolean } = {},
  ) {
    const docs = makeDocs(n, from, opts.pad ?? 0, opts.metaBytes ?? 0);
    const progress: { phase: string; done: number; total: number; docsPerSec: number; etaSec: number | null }[] = [];
    try {
      const o = await observe(
        () => current!.add(docs, { sliceSize: opts.sliceSize, onProgress: (p) => progress.push({ ...p }) }),
        opts.probe,
      );
      return {
        ok: true as const,
        result: o.result,
        longTasks: o.longTasks,
        maxGapMs: o.maxGapMs,
        turns: o.turns,
        ms: o.ms,
        progress,
      };
    } catch (e) {
      return { ok: false as const, error: errInfo(e), progress };
    }
  },
  async search(q: string, expert: string = 'auto', k = 10) {
    try {
      const r = await current!.search(q, { k, expert });
      return {
        ok: true as const,
        ids: r.hits.map((h) => h.id),
        first: r.hits[0]?.doc,
        route: r.route,
        timings: r.timings,
      };
    } catch (e) {
      return { ok: false as const, error: errInfo(e) };
    }
  },
  /** A search with any options (mode, fusion), hits with their per-side scores (e2e/hybrid.spec.ts). */
  async searchWith(q: string, options: Omit<SearchOptions, 'signal'> = {}) {
    try {
      const r = await current!.search(q, options);
      return {
        ok: true as const,
        hits: r.hits.map((h) => ({ id: h.id, score: h.score, scores: h.scores, title: h.doc.title })),
        route: r.route,
        timings: r.timings,
      };
    } catch (e) {
      return { ok: false as const, error: errInfo(e) };
    }
  },
  async addDocs(docs: Doc[]) {
    return current!.add(docs);
  },
  async deleteDocs(ids: string[]) {
    return current!.delete(ids);
  },
  /** The lexical index's counters: terms, documents analyzed by this instance, bytes in memory. */
  async lexicalStats() {
    return (await current!.stats()).lexical;
  },
  async addExpert(name: string, url: string, pilotQueries?: string[]) {
    await current!.addExpert(name, url, pilotQueries ? { pilotQueries } : undefined);
  },
  async removeExpert(name: string) {
    await current!.removeExpert(name);
  },
  async route(q: string) {
    return current!.route(q);
  },
  /**
   * Fallback when CDP Storage.overrideQuotaForOrigin has no effect: IndexedDB put() throws a
   * real DOMException 'QuotaExceededError' once `limitBytes` more bytes were written (inside
   * the real transaction, which then aborts as it would on a full disk).
   */
  limitIdbWrites(limitBytes: number) {
    const proto = IDBObjectStore.prototype;
    const orig = proto.put;
    let used = 0;
    const size = (v: unknown): number => {
      if (v instanceof ArrayBuffer) return v.byteLength;
      if (ArrayBuffer.isView(v)) return v.byteLength;
      if (typeof v === 'string') return v.length;
      if (Array.isArray(v)) return v.reduce((a: number, x) => a + size(x), 0);
      if (v && typeof v === 'object') return Object.values(v).reduce((a: number, x) => a + size(x) + 8, 0);
      return 8;
    };
    proto.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      used += size(value);
      if (used > limitBytes) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return orig.call(this, value, key);
    } as typeof proto.put;
  },
  async close() {
    await current?.close();
    current = undefined;
  },
  /** Builds a random n x dim float32 SearchIndex (one long task; benches trace only the searches). */
  buildBig(n = 100_000, dim = 768, queries = 10) {
    let s = 12345;
    const rnd = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 4294967296 - 0.5;
    };
    const idx = new SearchIndex(dim);
    idx.reserve(n);
    const v = new Float32Array(dim);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < dim; j++) v[j] = rnd();
      idx.setRow(r, `v${r}`, v);
    }
    big = { idx, queries: Array.from({ length: queries }, () => Float32Array.from({ length: dim }, rnd)) };
    return { rows: n, dim, backend: idx.backend };
  },
  /** Runs the built index's queries, sliced (searchAsync, the SDK's path) or one-shot (search), observing the main thread. */
  async searchBig(mode: 'sliced' | 'one-shot' = 'sliced', probe = true) {
    const { idx, queries } = big!;
    const per: number[] = [];
    const o = await observe(async () => {
      for (const q of queries) {
        const t = performance.now();
        if (mode === 'sliced') await idx.searchAsync(q, 10);
        else idx.search(q, 10);
        per.push(performance.now() - t);
      }
      return per.length;
    }, probe);
    return {
      backend: idx.backend,
      longTasks: o.longTasks,
      maxGapMs: o.maxGapMs,
      turns: o.turns,
      totalMs: o.ms,
      msPerQuery: per.reduce((a, b) => a + b, 0) / per.length,
    };
  },
  /** Builds a 100k x 768 index and searches it sliced (observed), then checks sliced = one-shot results. */
  async bigSearch(n = 100_000, dim = 768, queries = 10) {
    harness.buildBig(n, dim, queries);
    await new Promise((r) => setTimeout(r, 200)); // the build itself is one long task; observe only the searches
    const r = await harness.searchBig('sliced');
    const { idx, queries: qs } = big!;
    const same = JSON.stringify(idx.search(qs[0], 10)) === JSON.stringify(await idx.searchAsync(qs[0], 10));
    return { ...r, same };
  },
};

(window as unknown as Record<string, unknown>).rr = harness;
(window as unknown as Record<string, unknown>).rrReady = true;
export type Harness = typeof harness;
