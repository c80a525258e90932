/**
 * The query path, as steps: encode + route (one base-encoder pass, cached; then the chosen
 * expert's pass), index search (the dense index: the live vector index's sliced scan, or a remote
 * index, ./remote-index.ts), lexical search (the live
 * BM25 index, on this thread while the encoder works), fusion, hydrate (the hits' documents
 * from the store, or from the remote index for those the store lacks). The route is computed once per query: its base embedding is also the dense
 * side when no expert is chosen. mode 'lexical' never calls the encoder.
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import type { EncoderApi } from '../boundary/encoder-api.js';
import { type Doc, toDoc } from '../doc.js';
import { fuse, type FusedHit } from '../hybrid/fusion.js';
import { DEFAULT_FUSION, type FusionSetting } from '../hybrid/fusion-json.js';
import { decideRoute, type AbstainRule } from '../router/abstain.js';
import { routeQuery } from '../router/route.js';
import type { Hit as IndexHit } from '../search/types.js';
import type { Hit, RouteResult, RoutingMode, SearchOptions, SearchResult } from '../types.js';
import type { PilotLibrary } from '../vectors.js';
import { type DenseIndex, LocalDenseIndex } from './dense-index.js';
import type { LiveIndex } from './live-index.js';
import { FilterMask } from './filter-mask.js';
import { FUSION_DEPTH, checkSearchOptions } from './search-options.js';
import type { RetrieverStore } from './store.js';

/** Base-encoder query embeddings kept (LRU): routing and expert 'none' share one pass. */
const QUERY_CACHE = 64;

export interface QueryDeps {
  encoder: Pick<EncoderApi, 'embedQuery'>;
  store: Pick<RetrieverStore, 'getDocs'>;
  live: LiveIndex;
  /** The dense index searched (default: the local one over `live`). */
  dense?: DenseIndex;
  routing: RoutingMode | 'auto';
  /** The pilot library's abstention rule, if it has one. */
  abstainRule: () => AbstainRule | undefined;
  /** The pilot library restricted to loaded experts. */
  routable: () => PilotLibrary;
  isLoaded: (expert: string) => boolean;
  loaded: () => string[];
  /** Runs before the index is searched (reloads what another tab changed). */
  beforeSearch: () => Promise<void>;
  /** The fusion used when a search does not pass one (open option, else the pilot library's, else the default). */
  defaultFusion?: () => FusionSetting;
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

  /** The rule that routes now: 'auto' and 'knn' are 'knn' only while the library has an abstention rule. */
  routingMode(): RoutingMode {
    const want = this.deps.routing;
    if (want === 'max') return 'max';
    return want !== 'mean' && this.deps.abstainRule() ? 'knn' : 'mean';
  }

  /** Routes a base-encoder embedding over the loaded experts (null expert: the base encoder). */
  routeEmbedding(base: Float32Array): RouteResult {
    const mode = this.routingMode();
    const lib = this.deps.routable();
    if (lib.size === 0) return { expert: null, mode, scores: {}, abstained: false };
    const r = routeQuery(base, lib, mode === 'max' ? 'max' : 'mean');
    const rule = this.deps.abstainRule();
    if (mode !== 'knn' || !rule) return { expert: r.expert, mode, scores: r.scores, abstained: false };
    const d = decideRoute(base, rule, new Set(lib.keys()));
    const { gains, margin, similarity, k, minGain } = d;
    return {
      expert: d.expert,
      mode,
      scores: r.scores,
      abstained: d.expert === null,
      knn: { gains, margin, similarity, k, minGain },
    };
  }

  async route(query: string): Promise<RouteResult> {
    return this.routeEmbedding(await this.baseEmbedding(query));
  }

  /** Step 1: the embedding to search with ('auto' routes, 'none' = base encoder, a name forces that expert). */
  async encode(query: string, want: 'auto' | 'none' | string): Promise<EncodedQuery> {
    const { encoder } = this.deps;
    if (want !== 'auto' && want !== 'none' && !this.deps.isLoaded(want)) {
      throw new RouterRetrieverError(
        'NOT_FOUND',
        `No expert named "${want}" is loaded. Loaded: ${this.deps.loaded().join(', ') || 'none'}.`,
        {
          expert: want,
        },
      );
    }
    const te = performance.now();
    if (want !== 'auto') {
      const embedding = want === 'none' ? await this.baseEmbedding(query) : await encoder.embedQuery(query, want);
      return {
        embedding,
        route: { expert: want === 'none' ? null : want, mode: this.routingMode(), scores: {}, abstained: false },
        encodeMs: performance.now() - te,
        routeMs: 0,
      };
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

  /** Step 2: top k of the dense index, local or remote (among the filter's documents, when filtered). */
  async searchIndex(embedding: Float32Array, k: number, signal?: AbortSignal, mask?: FilterMask): Promise<IndexHit[]> {
    await this.deps.beforeSearch();
    const dense = this.deps.dense ?? new LocalDenseIndex(this.deps.live);
    return dense.search(embedding, k, { signal, filter: mask?.filter, mask: mask && (() => mask.rows()) });
  }

  /** Lexical step: top `k` rows of the live BM25 index (synchronous; among `mask`'s rows if given). */
  searchLexical(query: string, k: number, mask?: Uint8Array): IndexHit[] {
    return this.deps.live.lexical.search(query, k, mask);
  }

  /**
   * Step 3: the hits' documents, from the store; those it lacks from a remote index that has
   * them (a shared index this browser holds only part of). A hit whose document is nowhere is dropped.
   */
  async hydrate(found: FusedHit[]): Promise<Hit[]> {
    const recs = await this.deps.store.getDocs(found.map((h) => h.id));
    const docs: (Doc | undefined)[] = recs.map((r) => (r ? toDoc(r) : undefined));
    const missing = found.filter((_, i) => !docs[i]).map((h) => h.id);
    if (missing.length > 0 && this.deps.dense?.getDocs) {
      const remote = new Map((await this.deps.dense.getDocs(missing)).map((d) => [d.id, d]));
      found.forEach((h, i) => (docs[i] ??= remote.get(h.id)));
    }
    const hits: Hit[] = [];
    found.forEach((h, i) => {
      const doc = docs[i];
      if (doc)
        hits.push({ id: h.id, score: h.score, scores: { dense: h.dense, lexical: h.lexical, fused: h.score }, doc });
    });
    return hits;
  }

  async search(query: string, options: SearchOptions = {}): Promise<SearchResult> {
    if (typeof query !== 'string') throw new RouterRetrieverError('INVALID_INPUT', 'search() takes a query string.');
    const { k, mode, fusion, expert, filter } = checkSearchOptions(
      options,
      this.deps.defaultFusion?.() ?? DEFAULT_FUSION,
      this.deps.live.fields.schema,
    );
    const t0 = performance.now();
    await this.deps.beforeSearch();
    const mask = filter ? new FilterMask(this.deps.live, filter) : undefined;
    const depth = Math.max(k, FUSION_DEPTH);
    // The encoder runs in its worker; the lexical side is scored here meanwhile.
    const encoding = mode === 'lexical' ? undefined : this.encode(query, expert);
    let lexical: IndexHit[] = [];
    let lexicalMs = 0;
    if (mode !== 'dense') {
      const tl = performance.now();
      lexical = this.searchLexical(query, mode === 'lexical' ? k : depth, mask?.rows());
      lexicalMs = performance.now() - tl;
    }
    const q = await encoding;
    if (options.signal?.aborted) throw new RouterRetrieverError('CANCELLED', 'The search was cancelled.');
    let dense: IndexHit[] = [];
    let searchMs = 0;
    if (q) {
      const ts = performance.now();
      dense = await this.searchIndex(q.embedding, mode === 'dense' ? k : depth, options.signal, mask);
      searchMs = performance.now() - ts;
    }
    let ranked: FusedHit[];
    if (mode === 'dense') ranked = dense.map((h) => ({ id: h.id, score: h.score, dense: h.score, lexical: null }));
    else if (mode === 'lexical')
      ranked = lexical.map((h) => ({ id: h.id, score: h.score, dense: null, lexical: h.score }));
    else {
      // The base encoder's list is weaker than an expert's: a query left on the base leans more on BM25.
      const weight = q?.route.expert === null ? (fusion.baseWeight ?? fusion.weight) : fusion.weight;
      ranked = fuse(dense, lexical, k, { method: fusion.method, weight, depth });
    }
    const hits = await this.hydrate(ranked);
    const route = q?.route ?? { expert: null, mode: this.routingMode(), scores: {}, abstained: false };
    return {
      hits,
      route,
      timings: {
        route: q?.routeMs ?? 0,
        encode: q?.encodeMs ?? 0,
        search: searchMs,
        lexical: lexicalMs,
        filter: mask?.ms ?? 0,
        total: performance.now() - t0,
      },
    };
  }
}
