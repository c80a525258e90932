/**
 * RouterRetriever: the public main-thread API, a small facade. It opens the encoder (a Web
 * Worker through EncoderClient, or the in-process encoder given as `options.encoder`), the
 * collection's store and its in-memory vector index, and serialises the writes of this
 * instance. The jobs live beside it in src/retriever/: indexing.ts (the sliced indexing
 * pipeline, CRUD), query.ts (encode/route, index search, hydrate; the query cache),
 * experts.ts (experts and the pilot library), sync.ts (cross-tab changes).
 */
import { withManifest } from './retriever/manifest.js';
import { checkExpertName } from './router/library-file.js';
import { RouterRetrieverError } from './boundary/errors.js';
import { EncoderClient } from './encoder-client.js';
import { DEFAULT_FUSION, checkFusion, type FusionSetting } from './hybrid/fusion-json.js';
import { ExpertRegistry, type BuildPilotOptions } from './retriever/experts.js';
import { Indexing, type RouterIndexOptions } from './retriever/indexing.js';
import { LiveIndex } from './retriever/live-index.js';
import { checkHybridOptions } from './retriever/open-checks.js';
import { checkPrebuilt, installPrebuilt, type PrebuiltResult } from './retriever/prebuilt.js';
import { RemoteVectorIndex } from './retriever/remote-index.js';
import { QueryEngine } from './retriever/query.js';
import { storageEstimate } from './retriever/storage-estimate.js';
import { CrossTabSync } from './retriever/sync.js';
import { CollectionStore } from './store/collection.js';
import type {
  CollectionStats,
  Doc,
  LexicalStats,
  EncoderApi,
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

export { DEFAULT_SLICE, type RouterIndexOptions } from './retriever/indexing.js';
export { INT8_AUTO_THRESHOLD } from './retriever/live-index.js';
export { FUSION_DEPTH } from './retriever/search-options.js';
export type { BuildPilotOptions } from './retriever/experts.js';
export type { PrebuiltResult } from './retriever/prebuilt.js';

export interface ImportCollectionOptions extends Omit<OpenOptions, 'name'> {
  /** Replace an existing non-empty collection of that name. */
  overwrite?: boolean;
}

export class RouterRetriever {
  readonly name: string;
  /** The base model as the encoder reports it. */
  readonly model: ModelInfo;
  /** The routing asked for ('auto': 'knn' while the pilot library has an abstention rule, else 'mean'). */
  readonly routing: RoutingMode | 'auto';
  /** What open() warns about (also on the console): e.g. pilots whose expert has no adapter loaded. */
  readonly warnings: string[] = [];
  /** What open({ prebuilt }) did with the file (null without the option). */
  prebuilt: PrebuiltResult | null = null;
  /** OpenOptions.fusion (checked), if given. */
  private readonly fusion: FusionSetting | undefined;
  private readonly sync: CrossTabSync;
  private readonly experts: ExpertRegistry;
  private readonly indexing: Indexing;
  private readonly query: QueryEngine;
  private closed = false;
  /** Serialises writes of this instance (add/upsert/delete/clear/experts). */
  private writeChain: Promise<unknown> = Promise.resolve();

  private constructor(
    options: OpenOptions,
    private readonly encoder: EncoderApi,
    private readonly ownsEncoder: boolean,
    model: ModelInfo,
    private readonly store: CollectionStore,
    private readonly live: LiveIndex,
    dense?: RemoteVectorIndex,
  ) {
    this.name = options.name;
    this.model = model;
    this.routing = options.routing ?? 'auto';
    this.fusion = options.fusion === undefined ? undefined : checkFusion(options.fusion, 'fusion');
    this.sync = new CrossTabSync(options.name);
    const changed = () => this.sync.notify();
    this.experts = new ExpertRegistry({ encoder, store, dim: model.dim, changed });
    this.indexing = new Indexing({ encoder, store, live, dense, changed });
    this.query = new QueryEngine({
      encoder,
      store,
      live,
      dense,
      routing: this.routing,
      abstainRule: () => this.experts.abstainRule(),
      routable: () => this.experts.routable(),
      isLoaded: (e) => this.experts.isLoaded(e),
      loaded: () => this.experts.loaded(),
      beforeSearch: async () => {
        if (this.sync.stale) await this.reload();
      },
      defaultFusion: () => this.defaultFusion(),
    });
  }

  // ---- open -------------------------------------------------------------------

  /** Opens (or creates) a collection: loads the model, the vectors, the experts and the pilot library. */
  static async open(options: OpenOptions): Promise<RouterRetriever> {
    if (typeof options !== 'object' || options === null)
      throw new RouterRetrieverError('INVALID_INPUT', 'open() takes an options object.');
    if (typeof options.name !== 'string' || options.name === '')
      throw new RouterRetrieverError('INVALID_INPUT', 'open() needs a collection name.');
    checkPrebuilt(options.prebuilt);
    if (options.routing !== undefined && !['auto', 'knn', 'mean', 'max'].includes(options.routing)) {
      throw new RouterRetrieverError(
        'INVALID_INPUT',
        `routing must be 'auto', 'knn', 'mean' or 'max', got ${String(options.routing)}.`,
      );
    }
    checkHybridOptions(options);
    options = await withManifest(options); // the model folder's router-retriever.json, if any
    const { encoder, owns, info } = await RouterRetriever.startEncoder(options);
    try {
      const pre = options.prebuilt && (await installPrebuilt(options.name, options.prebuilt, info, options.onProgress));
      const rr = await RouterRetriever.openWith(options, encoder, owns, info);
      rr.prebuilt = pre || null;
      if (pre && pre.action === 'imported') rr.sync.notify();
      return rr;
    } catch (e) {
      if (owns) await encoder.dispose().catch(() => undefined);
      throw e;
    }
  }

  private static async startEncoder(
    options: Omit<OpenOptions, 'name'>,
  ): Promise<{ encoder: EncoderApi; owns: boolean; info: ModelInfo }> {
    const owns = !options.encoder;
    const encoder = options.encoder ?? new EncoderClient();
    try {
      const { dtype, numThreads } = options;
      const load = {
        device: options.device ?? 'auto',
        ...(dtype ? { dtype } : {}),
        ...(numThreads ? { numThreads } : {}),
      };
      const info = await encoder.load(options.model, load, options.onProgress);
      return { encoder, owns, info };
    } catch (e) {
      if (owns) await encoder.dispose().catch(() => undefined);
      throw e;
    }
  }

  private static async openWith(
    options: OpenOptions,
    encoder: EncoderApi,
    owns: boolean,
    info: ModelInfo,
  ): Promise<RouterRetriever> {
    const store = await CollectionStore.open(options.name, {
      fingerprint: info.fingerprint,
      dim: info.dim,
      onModelMismatch: options.onModelMismatch ?? 'error',
      lexical: options.lexical,
      onLexicalMismatch: options.onLexicalMismatch,
      filterable: options.filterable,
    });
    try {
      const remote = options.index && (await RemoteVectorIndex.connect(options.index, info.dim));
      const live = await LiveIndex.load(store, options.int8 ?? 'auto');
      const rr = new RouterRetriever(options, encoder, owns, info, store, live, remote || undefined);
      await rr.experts.restore(options);
      const unrouted = rr.experts.unroutedWarning();
      if (unrouted) rr.warnings.push(unrouted);
      for (const w of rr.warnings) console.warn(`RouterRetriever: ${w}`);
      // Documents left without a vector by a 'reindex' open.
      const pending = await rr.indexing.pending();
      if (pending.length > 0) await rr.upsert(pending);
      return rr;
    } catch (e) {
      store.close();
      throw e;
    }
  }

  /**
   * Creates collection `name` from a file made by exportCollection() (the whole
   * collection: documents, vectors, expert records, pilots) and opens it. Its model
   * must be the same base model (MODEL_MISMATCH otherwise).
   */
  static async importCollection(
    name: string,
    file: Blob | ArrayBuffer | Uint8Array,
    options: ImportCollectionOptions,
  ): Promise<RouterRetriever> {
    const bytes = file instanceof Blob ? new Uint8Array(await file.arrayBuffer()) : file;
    checkHybridOptions(options);
    options = await withManifest(options); // the model folder's router-retriever.json, if any
    const { encoder, owns, info } = await RouterRetriever.startEncoder(options);
    try {
      const s = await CollectionStore.importCollection(name, bytes, {
        fingerprint: info.fingerprint,
        overwrite: options.overwrite,
      });
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
    const slice = Indexing.check(docs, options);
    return this.serial(() => this.indexing.upsert(docs, slice, options));
  }

  /** Deletes documents (unknown ids are ignored). Returns how many were deleted. */
  delete(ids: string[]): Promise<number> {
    this.requireOpen();
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string'))
      throw new RouterRetrieverError('INVALID_INPUT', 'delete() takes an array of string ids.');
    return this.serial(() => this.indexing.delete(ids));
  }

  /** Removes every document and vector; experts and the pilot library stay. */
  clear(): Promise<void> {
    this.requireOpen();
    return this.serial(() => this.indexing.clear());
  }

  /** A stored document, or undefined. */
  get(id: string): Promise<Doc | undefined> {
    this.requireOpen();
    return this.indexing.get(id);
  }

  // ---- search -------------------------------------------------------------------

  /** Which expert 'auto' would pick for a query, with the per-expert scores (one base-encoder pass). */
  route(query: string): Promise<RouteResult> {
    this.requireOpen();
    if (typeof query !== 'string') throw new RouterRetrieverError('INVALID_INPUT', 'route() takes a query string.');
    return this.query.route(query);
  }

  /**
   * Top-k documents for a query. mode 'hybrid' (default) fuses the dense and the BM25 top
   * max(k, 100) (options.fusion, else the open option, else the pilot library's "_fusion", else
   * convex with DEFAULT_LEXICAL_WEIGHT); 'dense' and 'lexical' use one side ('lexical' never calls
   * the encoder). Dense side: expert 'auto' (default) routes over the pilot library (base encoder
   * if there are no routable experts), 'none' uses the base encoder, a name forces that expert;
   * the route is computed once. The scan runs in slices of about 8 ms with yields in between.
   * `filter` (fields of open({ filterable })) gives the exact top k among the matching documents.
   */
  async search(query: string, options: SearchOptions = {}): Promise<SearchResult> {
    this.requireOpen();
    return this.query.search(query, options);
  }

  /** Reloads the vectors and pilots from IndexedDB (another tab changed the collection). */
  async reload(): Promise<void> {
    this.requireOpen();
    this.sync.stale = false;
    await this.live.reload(this.store);
    await this.experts.reloadPilots();
  }

  // ---- experts and the pilot library ------------------------------------------------

  /** Names of the experts: loaded ones, and stored ones whose adapter must be passed again. */
  listExperts(): { name: string; loaded: boolean; source?: string; pilots: number }[] {
    return this.experts.list();
  }

  /**
   * Adds (or replaces) an expert: loads its adapter in the encoder, stores its record and
   * computes its pilot embeddings: given ones, the base-encoder centroid of `pilotQueries`,
   * or (without `pilots`) scored on the training domains of this session's
   * buildPilotLibrary(). Documents and vectors are never touched.
   */
  addExpert(name: string, adapter: ModelSpec, pilots?: PilotSource): Promise<void> {
    this.requireOpen();
    checkExpertName(name);
    return this.serial(() => this.experts.add(name, adapter, pilots));
  }

  /** Removes an expert: its adapter and its pilot embeddings. Documents and vectors are untouched. */
  removeExpert(name: string): Promise<void> {
    this.requireOpen();
    return this.serial(() => this.experts.remove(name));
  }

  /**
   * Builds the pilot library with the paper's algorithm over the LOADED experts (in
   * registration order; ties go to the earlier expert): per domain, documents are embedded
   * with the base encoder (or the collection's vectors are used when `corpus` is omitted),
   * every training query is embedded with the base encoder and with every expert, scored
   * by per-query nDCG@10 (src/eval/query-scores.ts, the eval harness's scorer), grouped by
   * its best expert, and each group's centroid of the base-encoder query embeddings becomes
   * a pilot of that expert, weighted as `options.weighting` says (default 'gain'; 'none' =
   * the paper). Replaces the library.
   */
  buildPilotLibrary(domains: PilotDomain[], options: BuildPilotOptions = {}): Promise<PilotLibraryJson> {
    this.requireOpen();
    this.experts.checkBuild(domains);
    return this.serial(() => this.experts.build(domains, options));
  }

  /** The fusion a search without `fusion` uses: the open option, else the pilot library's, else the default. */
  defaultFusion(): FusionSetting {
    return this.fusion ?? this.experts.fusion() ?? { ...DEFAULT_FUSION };
  }

  /** The pilot library in the authors' JSON shape `{ expert: [[floats]] }`, plus "_fusion" when it carries one. */
  exportPilotLibrary(): PilotLibraryJson {
    return this.experts.exportLibrary();
  }

  /**
   * Replaces the pilot library (authors' JSON shape, object or string). Experts without a loaded
   * adapter are kept but not routed to. A top-level "_fusion": { method, weight } becomes the
   * library's fusion setting (stored with it).
   */
  async importPilotLibrary(json: PilotLibraryJson | string): Promise<void> {
    this.requireOpen();
    await this.experts.importLibrary(json);
  }

  // ---- export, stats, lifecycle --------------------------------------------------------

  /** The whole collection (documents, vectors, expert records, pilots) as one file. */
  async exportCollection(): Promise<Blob> {
    this.requireOpen();
    return new Blob([await this.store.exportCollection()], { type: 'application/octet-stream' });
  }

  async stats(): Promise<CollectionStats & { dtype: 'float32' | 'int8'; backend: string; lexical: LexicalStats }> {
    this.requireOpen();
    const { usageBytes, quotaBytes } = await storageEstimate();
    const index = this.live.index;
    const lexical: LexicalStats = {
      terms: this.store.lexicon.size,
      analyzedDocuments: this.store.analyzedDocuments,
      memoryBytes: this.live.lexical.memoryBytes(),
    };
    return {
      documents: await this.store.docCount(),
      dim: this.model.dim,
      experts: this.experts.names(),
      usageBytes,
      quotaBytes,
      dtype: index.dtype,
      backend: index.backend,
      lexical,
    };
  }

  /** Closes the collection (and the encoder worker if open() started it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writeChain.catch(() => undefined);
    this.sync.close();
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
}
