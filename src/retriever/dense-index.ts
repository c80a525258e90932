/**
 * The dense side as the query path and indexing see it, chosen at open: the local vector index
 * (this browser's rows, src/search/) or a remote one (a search service, ./remote-index.ts). Both
 * answer the same calls: search with k and a filter, add, delete. The lexical (BM25) side and the
 * documents stay local either way.
 */
import type { Doc } from '../doc.js';
import type { FilterNode } from '../filter/check.js';
import type { Hit } from '../search/types.js';
import type { LiveIndex } from './live-index.js';

export interface DenseSearchOptions {
  signal?: AbortSignal;
  /** The checked filter (the remote index sends it to the service). */
  filter?: FilterNode;
  /** The same filter as a row mask over the live index (the local index scans with it). */
  mask?: () => Uint8Array | undefined;
}

/** A document as the dense index takes it, with its vector. */
export interface DenseDoc {
  doc: Doc;
  vector: Float32Array;
}

export interface DenseIndex {
  readonly kind: 'local' | 'remote';
  /** Top k by dot product among the documents the filter matches (all without one). */
  search(query: Float32Array, k: number, options?: DenseSearchOptions): Promise<Hit[]>;
  /**
   * Inserts or replaces one embedded slice. Indexing calls it before the slice's local store
   * commit, so a remote index that refuses leaves this browser's collection unchanged too.
   */
  add(docs: readonly DenseDoc[]): Promise<void>;
  /** Removes documents (before the local delete); ids it does not hold are ignored. */
  delete(ids: readonly string[]): Promise<void>;
  /** A remote index's stored documents, for hits of documents this browser does not hold. */
  getDocs?(ids: readonly string[]): Promise<Doc[]>;
}

/**
 * The local index: the live in-memory vector index. Its rows are the store's slots, written by
 * indexing from each commit (with the lexical rows and field columns), so add and delete have
 * nothing left to do here.
 */
export class LocalDenseIndex implements DenseIndex {
  readonly kind = 'local';

  constructor(private readonly live: LiveIndex) {}

  search(query: Float32Array, k: number, options: DenseSearchOptions = {}): Promise<Hit[]> {
    return this.live.index.searchAsync(query, k, { signal: options.signal, mask: options.mask?.() });
  }

  async add(_docs: readonly DenseDoc[]): Promise<void> {}

  async delete(_ids: readonly string[]): Promise<void> {}
}
