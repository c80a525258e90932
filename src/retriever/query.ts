/**
 * The query path, as steps: encode + route (one base-encoder pass, cached; then the chosen
 * expert's pass), index search (the live vector index, sliced scan), hydrate (the hits'
 * documents from the store). The next issue's lexical search and fusion add steps beside
 * `searchIndex` without touching the others.
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import type { EncoderApi } from '../boundary/encoder-api.js';
import { toDoc } from '../doc.js';
import { routeQuery } from '../router/route.js';
import type { Hit as IndexHit } from '../search/types.js';
import type { Hit, RouteResult, RoutingMode, SearchOptions, SearchResult } from '../types.js';
import type { PilotLibrary } from '../vectors.js';
import type { LiveIndex } from './live-index.js';
import type { RetrieverStore } from './store.js';

/** Base-encoder query embeddings kept (LRU): routing and expert 'none' share one pass. */
const QUERY_CACHE = 64;

export interface QueryDeps {
  encoder: Pick<EncoderApi, 'embedQuery'>;
  store: Pick<RetrieverStore, 'getDocs'>;
  live: LiveIndex;
  routing: RoutingMode;
  /** The pilot library restricted to loaded experts. */
  routable: () => PilotLibrary;
  isLoaded: (expert: string) => boolean;
  loaded: () => string[];
  /** Runs before the index is searched (reloads what another tab changed). */
  beforeSearch: () => Promise<void>;
}

/** The query embedding to search with, and how it was chosen. */
export interface EncodedQuery {
  embedding: Float32Array;
  route: RouteResult;
  encodeMs: number;
  routeMs: number;
}

export class QueryEngine {
  private readonly baseCache = new Map<string, Float32Array>();

  constructor(private readonly deps: QueryDeps) {}

  /** The base-encoder embedding of a query (cached, LRU). */
  async baseEmbedding(query: string): Promise<Float32Array> {
    const hit = this.baseCache.get(query);
    if (hit) {
      this.baseCache.delete(query);
      this.baseCache.set(query, hit);
      return hit;
    }
    const v = await this.deps.encoder.embedQuery(query, null);
    this.baseCache.set(query, v);
    if (this.baseCache.size > QUERY_CACHE) this.baseCache.delete(this.baseCache.keys().next().value!);
    return v;
  }

  /** Routes a base-encoder embedding over the loaded experts' pilots (null expert: none routable). */
  routeEmbedding(base: Float32Array): RouteResult {
    const mode = this.deps.routing;
    const lib = this.deps.routable();
    if (lib.size === 0) return { expert: null, mode, scores: {} };
    const r = routeQuery(base, lib, mode);
    return { expert: r.expert, mode, scores: r.scores };
  }

  async route(query: string): Promise<RouteResult> {
    return this.routeEmbedding(await this.baseEmbedding(query));
  }

  /** Step 1: the embedding to search with ('auto' routes, 'none' = base encoder, a name forces that expert). */
  async encode(query: string, want: 'auto' | 'none' | string): Promise<EncodedQuery> {
    const { encoder, routing } = this.deps;
    if (want !== 'auto' && want !== 'none' && !this.deps.isLoaded(want)) {
      throw new RouterRetrieverError('NOT_FOUND', `No expert named "${want}" is loaded. Loaded: ${this.deps.loaded().join(', ') || 'none'}.`, {
        expert: want,
      });
    }
    const te = performance.now();
    if (want !== 'auto') {
      const embedding = want === 'none' ? await this.baseEmbedding(query) : await encoder.embedQuery(query, want);
      return { embedding, route: { expert: want === 'none' ? null : want, mode: routing, scores: {} }, encodeMs: performance.now() - te, routeMs: 0 };
    }
    const base = await this.baseEmbedding(query);
    let encodeMs = performance.now() - te;
    const tr = performance.now();
    const route = this.routeEmbedding(base);
    const routeMs = performance.now() - tr;
    if (route.expert === null) return { embedding: base, route, encodeMs, routeMs };
    const te2 = performance.now();
    const embedding = await encoder.embedQuery(query, route.expert);
    encodeMs += performance.now() - te2;
    return { embedding, route, encodeMs, routeMs };
  }

  /** Step 2: top-k rows of the live vector index. */
  async searchIndex(embedding: Float32Array, k: number, signal?: AbortSignal): Promise<IndexHit[]> {
    await this.deps.beforeSearch();
    return this.deps.live.index.searchAsync(embedding, k, { signal });
  }

  /** Step 3: the hits' documents (a hit whose document vanished meanwhile is dropped). */
  async hydrate(found: IndexHit[]): Promise<Hit[]> {
    const recs = await this.deps.store.getDocs(found.map((h) => h.id));
    const hits: Hit[] = [];
    found.forEach((h, i) => {
      const r = recs[i];
      if (r) hits.push({ id: h.id, score: h.score, doc: toDoc(r) });
    });
    return hits;
  }

  async search(query: string, options: SearchOptions = {}): Promise<SearchResult> {
    if (typeof query !== 'string') throw new RouterRetrieverError('INVALID_INPUT', 'search() takes a query string.');
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 0) throw new RouterRetrieverError('INVALID_INPUT', `k must be a non-negative integer, got ${k}.`);
    const t0 = performance.now();
    const q = await this.encode(query, options.expert ?? 'auto');
    if (options.signal?.aborted) throw new RouterRetrieverError('CANCELLED', 'The search was cancelled.');
    const ts = performance.now();
    const hits = await this.hydrate(await this.searchIndex(q.embedding, k, options.signal));
    const searchMs = performance.now() - ts;
    return { hits, route: q.route, timings: { route: q.routeMs, encode: q.encodeMs, search: searchMs, total: performance.now() - t0 } };
  }
}
