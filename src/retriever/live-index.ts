import { buildVectorIndex } from '../search/vector-index.js';
import type { VectorIndex } from '../search/types.js';
import type { RetrieverStore } from './store.js';

/** From this many documents 'auto' switches to int8 search. */
export const INT8_AUTO_THRESHOLD = 200_000;

/** The searchable in-memory copy of the collection's vectors, shared by indexing (writes rows) and the query path (searches). */
export class LiveIndex {
  private constructor(
    public index: VectorIndex,
    private readonly int8: boolean | 'auto',
  ) {}

  static async load(store: Pick<RetrieverStore, 'loadAll' | 'meta'>, int8: boolean | 'auto'): Promise<LiveIndex> {
    return new LiveIndex(await LiveIndex.build(store, int8), int8);
  }

  private static async build(store: Pick<RetrieverStore, 'loadAll' | 'meta'>, int8: boolean | 'auto'): Promise<VectorIndex> {
    const chunks = await store.loadAll();
    const m = store.meta;
    const dtype = int8 === true || (int8 === 'auto' && m.count >= INT8_AUTO_THRESHOLD) ? 'int8' : 'float32';
    return buildVectorIndex(chunks, m.dim, dtype, m.chunkSize);
  }

  /** Rebuilds from the store (another tab wrote, or the collection was cleared). */
  async reload(store: Pick<RetrieverStore, 'loadAll' | 'meta'>): Promise<void> {
    this.index = await LiveIndex.build(store, this.int8);
  }
}
