/**
 * RouterRetriever: the public main-thread API. It owns the data (documents, their
 * base-encoder vectors, experts and the pilot library, all in IndexedDB through
 * CollectionStore), routes each query over the pilot embeddings and runs the top-k
 * search in memory. The encoder runs in a Web Worker (EncoderClient), or in-process
 * when `options.encoder` is given (Node tools, tests).
 *
 * Experts: only where an adapter came from is stored, and only when it is a URL/path/Hub
 * id string; such experts are re-added automatically on open(). An adapter given as
 * in-memory files must be passed again after a reload (options.experts or addExpert());
 * until then its pilots stay stored but routing skips it.
 */
import { EncoderClient } from './encoder-client.js';
import { RouterRetrieverError } from './boundary/errors.js';
import { docText, rowsOf, sameContent, toDoc, validateDocs } from './indexer.js';
import { centroid } from './router/kmeans.js';
import { exportPilotLibrary, parsePilotLibrary } from './router/pilot-json.js';
import {
  addExpert as addExpertToState,
  buildPilotLibrary as buildPilotState,
  pilotsOf,
  removeExpert as removeExpertFromState,
  type PilotLibraryState,
  type PilotWeighting,
} from './router/pilots.js';
import { routeQuery, type PilotLibrary } from './router/route.js';
import { scoreQueries } from './router/scoring.js';
import type { VectorChunk } from './search/types.js';
import { CollectionStore } from './store/collection.js';
import type {
  CollectionStats,
  Doc,
  EncoderApi,
  ExpertSpec,
  Hit,
  IndexOptions,
  IndexProgress,
  IndexResult,
  ModelInfo,
  ModelSpec,
  OpenOptions,
  PilotDomain,
  PilotLibraryJson,
  PilotSource,
  RouteResult,
  RoutingMode,
  SearchOptions,
  SearchResult,
} from './types.js';
import { buildVectorIndex, type VectorIndex } from './vector-index.js';

/** Documents embedded and committed per IndexedDB transaction. */
export const DEFAULT_SLICE = 256;
/** From this many documents 'auto' switches to int8 search. */
export const INT8_AUTO_THRESHOLD = 200_000;
const QUERY_CACHE = 64;

export interface RouterIndexOptions extends IndexOptions {
  /** Documents embedded and committed per transaction (default 256). */
  sliceSize?: number;
}

export interface BuildPilotOptions {
  /** Centroids per (expert, domain) group (default 1, the paper). */
  k?: number;
  seed?: number;
  /** Ranking depth for the per-query nDCG@10 (default 100). */
  depth?: number;
  /**
   * How an expert's groups count (see src/router/pilots.ts): 'gain' (default) = one pilot per
   * expert, its group centroids weighted by the nDCG@10 their queries gain with it over the mean
   * expert; 'none' = the paper (every group centroid is a pilot); 'size' = weighted by group size.
   * Chosen on training queries only: bench/results/routing-selection.md (the paper's pilots route
   * 9-20 % of test queries to their domain's expert, gain-weighted ones 91 %).
   */
  weighting?: PilotWeighting;
}

export interface ImportCollectionOptions extends Omit<OpenOptions, 'name'> {
  /** Replace an existing non-empty collection of that name. */
  overwrite?: boolean;
}

interface ExpertState {
  /** Registered in the encoder (adapter loaded) in this session. */
  loaded: boolean;
  source?: string;
}

function now(): number {
  return performance.now();
}

function cancelled(done: number, total: number): RouterRetrieverError {
  return new RouterRetrieverError('CANCELLED', `Indexing was cancelled after ${done} of ${total} documents; those stay stored and searchable.`, {
    done,
    total,
  });
}

function isExpertSpec(x: ModelSpec | ExpertSpec): x is ExpertSpec {
  return typeof x === 'object' && x !== null && 'adapter' in x;
}

let jobCounter = 0;

export class RouterRetriever {
  readonly name: string;
  /** The base model as the encoder reports it. */
  readonly model: ModelInfo;
  readonly routing: RoutingMode;
  private readonly encoder: EncoderApi;
  private readonly ownsEncoder: boolean;
  private store: CollectionStore;
  private index: VectorIndex;
  private readonly int8Option: boolean | 'auto';
  private readonly experts = new Map<string, ExpertState>();
  private pilots: PilotLibrary = new Map();
  private pilotState: PilotLibraryState | undefined;
  /** Training domains of the last buildPilotLibrary() in this session, to score experts added later. */
  private domainData: { name: string; texts: string[]; qrels: Map<string, number>[]; chunks: VectorChunk[] }[] = [];
  private readonly baseCache = new Map<string, Float32Array>();
  private channel: BroadcastChannel | undefined;
  private stale = false;
  private closed = false;
  /** Serialises writes of this instance (add/upsert/delete/clear/experts). */
  private writeChain: Promise<unknown> = Promise.resolve();

  private constructor(
    name: string,
    encoder: EncoderApi,
    ownsEncoder: boolean,
    model: ModelInfo,
    store: CollectionStore,
    index: VectorIndex,
    options: OpenOptions,
  ) {
    this.name = name;
    this.encoder = encoder;
    this.ownsEncoder = ownsEncoder;
    this.model = model;
    this.store = store;
    this.index = index;
    this.routing = options.routing ?? 'mean';
    this.int8Option = options.int8 ?? 'auto';
    if (typeof BroadcastChannel !== 'undefined') {
      this.channel = new BroadcastChannel(`router-retriever:${name}`);
      (this.channel as unknown as { unref?: () => void }).unref?.();
      this.channel.onmessage = () => {
        this.stale = true; // another tab changed the collection: reload vectors before the next search
      };
    }
  }

  // ---- open -------------------------------------------------------------------

  /** Opens (or creates) a collection: loads the model, the vectors, the experts and the pilot library. */
  static async open(options: OpenOptions): Promise<RouterRetriever> {
    if (typeof options !== 'object' || options === null) throw new RouterRetrieverError('INVALID_INPUT', 'open() takes an options object.');
    if (typeof options.name !== 'string' || options.name === '') throw new RouterRetrieverError('INVALID_INPUT', 'open() needs a collection name.');
    if (options.routing !== undefined && options.routing !== 'mean' && options.routing !== 'max') {
      throw new RouterRetrieverError('INVALID_INPUT', `routing must be 'mean' or 'max', got ${String(options.routing)}.`);
    }
    const { encoder, owns, info } = await RouterRetriever.startEncoder(options);
    try {
      return await RouterRetriever.openWith(options, encoder, owns, info);
    } catch (e) {
      if (owns) await encoder.dispose().catch(() => undefined);
      throw e;
    }
  }

  private static async startEncoder(options: Omit<OpenOptions, 'name'>): Promise<{ encoder: EncoderApi; owns: boolean; info: ModelInfo }> {
    let encoder = options.encoder;
    const owns = !encoder;
    if (!encoder) encoder = new EncoderClient();
    try {
      const info = await encoder.load(options.model, { device: options.device ?? 'auto' }, options.onProgress);
      return { encoder, owns, info };
    } catch (e) {
      if (owns) await encoder.dispose().catch(() => undefined);
      throw e;
    }
  }

  private static async openWith(options: OpenOptions, encoder: EncoderApi, owns: boolean, info: ModelInfo): Promise<RouterRetriever> {
    const store = await CollectionStore.open(options.name, {
      fingerprint: info.fingerprint,
      dim: info.dim,
      onModelMismatch: options.onModelMismatch ?? 'error',
    });
    try {
      const index = await RouterRetriever.loadIndex(store, options.int8 ?? 'auto');
      const rr = new RouterRetriever(options.name, encoder, owns, info, store, index, options);
      await rr.restore(options);
      // Documents left without a vector by a 'reindex' open.
      const pending = await store.pendingDocs();
      if (pending.length > 0) await rr.upsert(pending.map(toDoc));
      return rr;
    } catch (e) {
      store.close();
      throw e;
    }
  }

  private static async loadIndex(store: CollectionStore, int8: boolean | 'auto'): Promise<VectorIndex> {
    const chunks = await store.loadAll();
    const m = store.meta;
    const dtype = int8 === true || (int8 === 'auto' && m.count >= INT8_AUTO_THRESHOLD) ? 'int8' : 'float32';
    return buildVectorIndex(chunks, m.dim, dtype, m.chunkSize);
  }

  /** Restores experts and pilots from the store, then registers the experts and pilot library given. */
  private async restore(options: OpenOptions): Promise<void> {
    this.pilots = await this.store.getPilots();
    this.pilotState = await this.store.getPilotState();
    const given = options.experts ?? {};
    for (const rec of await this.store.getExperts()) {
      this.experts.set(rec.name, { loaded: false, source: rec.source });
      if (rec.name in given) continue;
      if (typeof rec.source === 'string') {
        await this.encoder.addExpert(rec.name, rec.source);
        this.experts.get(rec.name)!.loaded = true;
      }
    }
    for (const [name, spec] of Object.entries(given)) {
      const adapter = isExpertSpec(spec) ? spec.adapter : spec;
      const pilots = isExpertSpec(spec) ? spec.pilots : undefined;
      await this.registerExpert(name, adapter, pilots);
    }
    if (options.pilotLibrary !== undefined) await this.importPilotLibrary(await loadPilotJson(options.pilotLibrary));
  }

  /**
   * Creates collection `name` from a file made by exportCollection() (the whole
   * collection: documents, vectors, expert records, pilots) and opens it. Its model
   * must be the same base model (MODEL_MISMATCH otherwise).
   */
  static async importCollection(name: string, file: Blob | ArrayBuffer | Uint8Array, options: ImportCollectionOptions): Promise<RouterRetriever> {
    const bytes = file instanceof Blob ? new Uint8Array(await file.arrayBuffer()) : file;
    const { encoder, owns, info } = await RouterRetriever.startEncoder(options);
    try {
      const s = await CollectionStore.importCollection(name, bytes, { fingerprint: info.fingerprint, overwrite: options.overwrite });
      s.close();
      return await RouterRetriever.openWith({ ...options, name }, encoder, owns, info);
    } catch (e) {
      if (owns) await encoder.dispose().catch(() => undefined);
      throw e;
    }
  }

  // ---- documents ----------------------------------------------------------------

  /** Adds documents; an existing id is replaced, identical content is skipped. Same as upsert(). */
  add(docs: Doc[], options: RouterIndexOptions = {}): Promise<IndexResult> {
    return this.upsert(docs, options);
  }

  /**
   * Embeds and stores documents in slices (default 256): each slice is committed in
   * ONE IndexedDB transaction right after it is embedded, then becomes searchable. A
   * cancellation, a closed tab or QUOTA_EXCEEDED keeps every slice committed before.
   */
  upsert(docs: Doc[], options: RouterIndexOptions = {}): Promise<IndexResult> {
    this.requireOpen();
    validateDocs(docs);
    const slice = options.sliceSize ?? DEFAULT_SLICE;
    if (!Number.isInteger(slice) || slice < 1) throw new RouterRetrieverError('INVALID_INPUT', `sliceSize must be a positive integer, got ${slice}.`);
    return this.serial(() => this.indexDocs(docs, slice, options));
  }

  private async indexDocs(docs: Doc[], slice: number, options: RouterIndexOptions): Promise<IndexResult> {
    const result: IndexResult = { added: 0, replaced: 0, skipped: 0 };
    const total = docs.length;
    const signal = options.signal;
    const t0 = now();
    let done = 0;
    let embedded = 0;
    const report = (phase: IndexProgress['phase'], d: number, embeddedNow: number) => {
      if (!options.onProgress) return;
      const secs = (now() - t0) / 1000;
      const rate = secs > 0 ? embeddedNow / secs : 0;
      const left = total - d;
      options.onProgress({ phase, done: d, total, docsPerSec: rate, etaSec: rate > 0 ? left / rate : left === 0 ? 0 : null });
    };
    for (let s = 0; s < total; s += slice) {
      if (signal?.aborted) throw cancelled(done, total);
      const part = docs.slice(s, s + slice);
      const existing = await this.store.getDocs(part.map((d) => d.id));
      const todo: Doc[] = [];
      part.forEach((d, i) => {
        if (sameContent(existing[i], d)) result.skipped++;
        else {
          todo.push(d);
          if (existing[i] && existing[i]!.slot >= 0) result.replaced++;
          else result.added++;
        }
      });
      if (todo.length > 0) {
        const jobId = `rr-index-${++jobCounter}`;
        const onAbort = () => void this.encoder.cancel(jobId).catch(() => undefined);
        signal?.addEventListener('abort', onAbort);
        let flat: Float32Array;
        try {
          flat = await this.encoder.embedDocuments(todo.map(docText), { jobId, batchSize: options.batchSize }, (p) =>
            report('embed', done + (part.length - todo.length) + p.done, embedded + p.done),
          );
        } catch (e) {
          if ((e as { code?: string }).code === 'CANCELLED' || signal?.aborted) throw cancelled(done, total);
          throw e;
        } finally {
          signal?.removeEventListener('abort', onAbort);
        }
        if (signal?.aborted) throw cancelled(done, total);
        let slots: number[];
        try {
          slots = await this.store.putDocs(todo, flat);
        } catch (e) {
          if ((e as { code?: string }).code === 'QUOTA_EXCEEDED') {
            const err = e as RouterRetrieverError;
            throw new RouterRetrieverError('QUOTA_EXCEEDED', `${err.message} (${done} of ${total} documents of this call were stored.)`, {
              ...err.details,
              done,
              total,
            });
          }
          throw e;
        }
        // The committed slots come back from putDocs: no second read of the documents.
        const vecs = rowsOf(flat, this.model.dim);
        todo.forEach((d, i) => this.index.setRow(slots[i], d.id, vecs[i]));
        embedded += todo.length;
        this.notify();
      }
      done += part.length;
      report('store', done, embedded);
    }
    if (total === 0) report('store', 0, 0);
    return result;
  }

  /** Deletes documents (unknown ids are ignored). Returns how many were deleted. */
  delete(ids: string[]): Promise<number> {
    this.requireOpen();
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) throw new RouterRetrieverError('INVALID_INPUT', 'delete() takes an array of string ids.');
    return this.serial(async () => {
      const recs = await this.store.getDocs(ids);
      const n = await this.store.deleteDocs(ids);
      for (const r of recs) if (r && r.slot >= 0) this.index.setRow(r.slot, null);
      this.notify();
      return n;
    });
  }

  /** Removes every document and vector; experts and the pilot library stay. */
  clear(): Promise<void> {
    this.requireOpen();
    return this.serial(async () => {
      const ids = [...(await this.store.storedIds()), ...(await this.store.pendingDocs()).map((d) => d.id)];
      if (ids.length > 0) await this.store.deleteDocs(ids);
      this.index = await RouterRetriever.loadIndex(this.store, this.int8Option);
      this.notify();
    });
  }

  /** A stored document, or undefined. */
  async get(id: string): Promise<Doc | undefined> {
    this.requireOpen();
    const r = await this.store.getDoc(id);
    return r ? toDoc(r) : undefined;
  }

  // ---- search -------------------------------------------------------------------

  /** The base-encoder embedding of a query (cached: routing and expert 'none' share one pass). */
  private async baseEmbedding(query: string): Promise<Float32Array> {
    const hit = this.baseCache.get(query);
    if (hit) {
      this.baseCache.delete(query);
      this.baseCache.set(query, hit);
      return hit;
    }
    const v = await this.encoder.embedQuery(query, null);
    this.baseCache.set(query, v);
    if (this.baseCache.size > QUERY_CACHE) this.baseCache.delete(this.baseCache.keys().next().value!);
    return v;
  }

  /** The pilot library restricted to experts whose adapter is loaded. */
  private routable(): PilotLibrary {
    const out: PilotLibrary = new Map();
    for (const [e, list] of this.pilots) if (list.length > 0 && this.experts.get(e)?.loaded) out.set(e, list);
    return out;
  }

  private routeEmbedding(base: Float32Array): RouteResult {
    const lib = this.routable();
    if (lib.size === 0) return { expert: null, mode: this.routing, scores: {} };
    const r = routeQuery(base, lib, this.routing);
    return { expert: r.expert, mode: this.routing, scores: r.scores };
  }

  /** Which expert 'auto' would pick for a query, with the per-expert scores (one base-encoder pass). */
  async route(query: string): Promise<RouteResult> {
    this.requireOpen();
    if (typeof query !== 'string') throw new RouterRetrieverError('INVALID_INPUT', 'route() takes a query string.');
    return this.routeEmbedding(await this.baseEmbedding(query));
  }

  /**
   * Top-k documents for a query. expert 'auto' (default) routes over the pilot library
   * (base encoder if there are no routable experts), 'none' uses the base encoder, a name
   * forces that expert. The scan runs in slices of about 8 ms with yields in between.
   */
  async search(query: string, options: SearchOptions = {}): Promise<SearchResult> {
    this.requireOpen();
    if (typeof query !== 'string') throw new RouterRetrieverError('INVALID_INPUT', 'search() takes a query string.');
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 0) throw new RouterRetrieverError('INVALID_INPUT', `k must be a non-negative integer, got ${k}.`);
    const want = options.expert ?? 'auto';
    if (want !== 'auto' && want !== 'none' && !this.experts.get(want)?.loaded) {
      throw new RouterRetrieverError('NOT_FOUND', `No expert named "${want}" is loaded. Loaded: ${this.loadedExperts().join(', ') || 'none'}.`, {
        expert: want,
      });
    }
    const t0 = now();
    let encodeMs = 0;
    let routeMs = 0;
    let route: RouteResult;
    let q: Float32Array;
    if (want === 'auto') {
      const te = now();
      const base = await this.baseEmbedding(query);
      encodeMs += now() - te;
      const tr = now();
      route = this.routeEmbedding(base);
      routeMs = now() - tr;
      if (route.expert === null) q = base;
      else {
        const te2 = now();
        q = await this.encoder.embedQuery(query, route.expert);
        encodeMs += now() - te2;
      }
    } else {
      const te = now();
      q = want === 'none' ? await this.baseEmbedding(query) : await this.encoder.embedQuery(query, want);
      encodeMs = now() - te;
      route = { expert: want === 'none' ? null : want, mode: this.routing, scores: {} };
    }
    if (options.signal?.aborted) throw new RouterRetrieverError('CANCELLED', 'The search was cancelled.');
    const ts = now();
    if (this.stale) await this.reload();
    const found = await this.index.searchAsync(q, k, { signal: options.signal });
    const recs = await this.store.getDocs(found.map((h) => h.id));
    const hits: Hit[] = [];
    found.forEach((h, i) => {
      const r = recs[i];
      if (r) hits.push({ id: h.id, score: h.score, doc: toDoc(r) });
    });
    const searchMs = now() - ts;
    return { hits, route, timings: { route: routeMs, encode: encodeMs, search: searchMs, total: now() - t0 } };
  }

  /** Reloads the vectors from IndexedDB (another tab changed the collection). */
  async reload(): Promise<void> {
    this.requireOpen();
    this.stale = false;
    this.index = await RouterRetriever.loadIndex(this.store, this.int8Option);
    this.pilots = await this.store.getPilots();
    this.pilotState = await this.store.getPilotState();
  }

  // ---- experts and the pilot library ------------------------------------------------

  private loadedExperts(): string[] {
    return [...this.experts].filter(([, s]) => s.loaded).map(([n]) => n);
  }

  /** Names of the experts: loaded ones, and stored ones whose adapter must be passed again. */
  listExperts(): { name: string; loaded: boolean; source?: string; pilots: number }[] {
    return [...this.experts].map(([name, s]) => ({ name, loaded: s.loaded, source: s.source, pilots: this.pilots.get(name)?.length ?? 0 }));
  }

  /**
   * Adds (or replaces) an expert: loads its adapter in the encoder, stores its record and
   * computes its pilot embeddings: given ones, the base-encoder centroid of `pilotQueries`,
   * or (without `pilots`) scored on the training domains of this session's
   * buildPilotLibrary(). Documents and vectors are never touched.
   */
  addExpert(name: string, adapter: ModelSpec, pilots?: PilotSource): Promise<void> {
    this.requireOpen();
    if (typeof name !== 'string' || name === '') throw new RouterRetrieverError('INVALID_INPUT', 'An expert needs a non-empty name.');
    return this.serial(() => this.registerExpert(name, adapter, pilots));
  }

  private async registerExpert(name: string, adapter: ModelSpec, source: PilotSource | undefined): Promise<void> {
    if (this.experts.get(name)?.loaded) await this.encoder.removeExpert(name).catch(() => undefined);
    const info = await this.encoder.addExpert(name, adapter);
    const src = typeof adapter === 'string' ? adapter : undefined;
    await this.store.putExpert({ name, source: src, config: { r: info.r, lora_alpha: info.alpha, target_modules: info.targets } });
    this.experts.set(name, { loaded: true, source: src });
    if (source) {
      let list: Float32Array[];
      if ('pilotEmbeddings' in source) {
        const parsed = parsePilotLibrary({ [name]: source.pilotEmbeddings }, { dim: this.model.dim });
        list = parsed.get(name)!;
        if (list.length === 0) throw new RouterRetrieverError('INVALID_INPUT', `pilotEmbeddings of expert "${name}" is empty.`);
      } else if ('pilotQueries' in source) {
        const qs = source.pilotQueries;
        if (!Array.isArray(qs) || qs.length === 0 || qs.some((q) => typeof q !== 'string')) {
          throw new RouterRetrieverError('INVALID_INPUT', `pilotQueries of expert "${name}" must be a non-empty array of strings.`);
        }
        const flat = await this.encoder.embedQueries(qs, null);
        list = [centroid(rowsOf(flat, this.model.dim))];
      } else {
        throw new RouterRetrieverError('INVALID_INPUT', 'pilots must be { pilotQueries } or { pilotEmbeddings }.');
      }
      const next: PilotLibrary = new Map(this.pilots);
      next.set(name, list);
      // Hand-given pilots: the builder state (if any) no longer describes the library.
      await this.savePilots(next, undefined);
    } else if (this.pilotState && this.domainData.length > 0 && !this.pilotState.experts.includes(name)) {
      const scores: Record<string, Float64Array> = {};
      for (const d of this.domainData) {
        const eq = rowsOf(await this.encoder.embedQueries(d.texts, name), this.model.dim);
        scores[d.name] = scoreQueries(eq, d.chunks, d.qrels);
      }
      const { state } = addExpertToState(this.pilotState, name, scores);
      await this.savePilots(pilotsOf(state), state);
    }
  }

  /** Removes an expert: its adapter and its pilot embeddings. Documents and vectors are untouched. */
  removeExpert(name: string): Promise<void> {
    this.requireOpen();
    return this.serial(async () => {
      const st = this.experts.get(name);
      if (!st && !this.pilots.has(name)) throw new RouterRetrieverError('NOT_FOUND', `No expert named "${name}".`, { expert: name });
      if (st?.loaded) await this.encoder.removeExpert(name).catch(() => undefined);
      await this.store.deleteExpert(name);
      this.experts.delete(name);
      let state = this.pilotState;
      if (state?.experts.includes(name)) state = state.experts.length > 1 ? removeExpertFromState(state, name).state : undefined;
      const next: PilotLibrary = new Map(this.pilots);
      next.delete(name);
      await this.savePilots(next, state);
    });
  }

  private async savePilots(lib: PilotLibrary, state: PilotLibraryState | undefined): Promise<void> {
    await this.store.putPilots(lib, state);
    this.pilots = lib;
    this.pilotState = state;
    this.notify();
  }

  /**
   * Builds the pilot library with the paper's algorithm over the LOADED experts (in
   * registration order; ties go to the earlier expert): per domain, documents are embedded
   * with the base encoder (or the collection's vectors are used when `corpus` is omitted),
   * every training query is embedded with the base encoder and with every expert, scored
   * by per-query nDCG@10, grouped by its best expert, and each group's centroid of the
   * base-encoder query embeddings becomes a pilot of that expert, weighted as
   * `options.weighting` says (default 'gain'; 'none' = the paper). Replaces the library.
   */
  buildPilotLibrary(domains: PilotDomain[], options: BuildPilotOptions = {}): Promise<PilotLibraryJson> {
    this.requireOpen();
    if (!Array.isArray(domains) || domains.length === 0) throw new RouterRetrieverError('INVALID_INPUT', 'buildPilotLibrary() needs at least one domain.');
    const experts = this.loadedExperts();
    if (experts.length === 0) throw new RouterRetrieverError('INVALID_INPUT', 'buildPilotLibrary() needs at least one loaded expert (addExpert first).');
    return this.serial(async () => {
      const dim = this.model.dim;
      const data: typeof this.domainData = [];
      const inputs = [];
      let collectionChunks: VectorChunk[] | undefined;
      for (const d of domains) {
        if (typeof d?.name !== 'string' || d.name === '') throw new RouterRetrieverError('INVALID_INPUT', 'Every domain needs a name.');
        if (!Array.isArray(d.queries) || d.queries.length === 0) throw new RouterRetrieverError('INVALID_INPUT', `Domain "${d.name}" has no training queries.`);
        d.queries.forEach((q, i) => {
          if (typeof q?.text !== 'string' || typeof q.relevant !== 'object' || q.relevant === null) {
            throw new RouterRetrieverError('INVALID_INPUT', `Query ${i} of domain "${d.name}" needs { text, relevant: { docId: grade } }.`);
          }
        });
        let chunks: VectorChunk[];
        if (d.corpus) {
          validateDocs(d.corpus);
          const flat = await this.encoder.embedDocuments(d.corpus.map(docText));
          chunks = [{ dim, vectors: flat, ids: d.corpus.map((x) => x.id) }];
        } else {
          collectionChunks ??= await this.store.loadAll();
          chunks = collectionChunks;
        }
        const texts = d.queries.map((q) => q.text);
        const qrels = d.queries.map((q) => new Map(Object.entries(q.relevant).filter(([, g]) => g > 0)));
        const base = rowsOf(await this.encoder.embedQueries(texts, null), dim);
        const scores: Record<string, Float64Array> = {};
        for (const e of experts) scores[e] = scoreQueries(rowsOf(await this.encoder.embedQueries(texts, e), dim), chunks, qrels);
        inputs.push({ name: d.name, queryEmbeddings: base, scores });
        data.push({ name: d.name, texts, qrels, chunks });
      }
      const state = buildPilotState(experts, inputs, { k: options.k, seed: options.seed, weighting: options.weighting ?? 'gain' });
      const pilots = pilotsOf(state);
      if (![...pilots.values()].some((list) => list.length > 0)) {
        throw new RouterRetrieverError(
          'INVALID_INPUT',
          `No training query separates the experts (${experts.join(', ')} score the same on every query), so there is no pilot to route by; the library was not changed. Add training queries that some expert answers better, load a second expert, or pass { weighting: 'none' } for the paper's unweighted pilots.`,
        );
      }
      this.domainData = data;
      await this.savePilots(pilots, state);
      return this.exportPilotLibrary();
    });
  }

  /** The pilot library in the authors' JSON shape `{ expert: [[floats]] }`. */
  exportPilotLibrary(): PilotLibraryJson {
    return JSON.parse(exportPilotLibrary(this.pilots)) as PilotLibraryJson;
  }

  /** Replaces the pilot library (authors' JSON shape, object or string). Experts without a loaded adapter are kept but not routed to. */
  async importPilotLibrary(json: PilotLibraryJson | string): Promise<void> {
    this.requireOpen();
    const lib = parsePilotLibrary(json, { dim: this.model.dim });
    await this.savePilots(lib, undefined);
  }

  // ---- export, stats, lifecycle --------------------------------------------------------

  /** The whole collection (documents, vectors, expert records, pilots) as one file. */
  async exportCollection(): Promise<Blob> {
    this.requireOpen();
    return new Blob([await this.store.exportCollection()], { type: 'application/octet-stream' });
  }

  async stats(): Promise<CollectionStats & { dtype: 'float32' | 'int8'; backend: string }> {
    this.requireOpen();
    let usageBytes: number | null = null;
    let quotaBytes: number | null = null;
    try {
      const est = await globalThis.navigator?.storage?.estimate?.();
      if (est) {
        usageBytes = est.usage ?? null;
        quotaBytes = est.quota ?? null;
      }
    } catch {
      /* no StorageManager */
    }
    return {
      documents: await this.store.docCount(),
      dim: this.model.dim,
      experts: [...this.experts.keys()],
      usageBytes,
      quotaBytes,
      dtype: this.index.dtype,
      backend: this.index.backend,
    };
  }

  /** Closes the collection (and the encoder worker if open() started it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writeChain.catch(() => undefined);
    this.channel?.close();
    this.store.close();
    if (this.ownsEncoder) await this.encoder.dispose().catch(() => undefined);
  }

  private requireOpen(): void {
    if (this.closed) throw new RouterRetrieverError('NOT_READY', `Collection "${this.name}" is closed.`);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.writeChain.then(fn, fn);
    this.writeChain = p.catch(() => undefined);
    return p;
  }

  private notify(): void {
    this.channel?.postMessage({ type: 'changed' });
  }
}

async function loadPilotJson(src: PilotLibraryJson | string): Promise<PilotLibraryJson | string> {
  if (typeof src !== 'string' || src.trimStart().startsWith('{')) return src;
  let res: Response;
  try {
    res = await fetch(src);
  } catch (e) {
    throw new RouterRetrieverError('NETWORK', `Could not fetch the pilot library ${src}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new RouterRetrieverError('FILE_NOT_FOUND', `Could not fetch the pilot library ${src}: HTTP ${res.status}.`);
  return res.text();
}

