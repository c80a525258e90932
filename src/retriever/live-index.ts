import { LexicalIndex } from '../lexical/lexical-index.js';
import { buildVectorIndex } from '../search/vector-index.js';
import type { VectorIndex } from '../search/types.js';
import type { RetrieverStore } from './store.js';

/** From this many documents 'auto' switches to int8 search. */
export const INT8_AUTO_THRESHOLD = 200_000;

type IndexSource = Pick<RetrieverStore, 'loadIndex' | 'meta' | 'lexicon'>;

/**
 * The searchable in-memory copy of the collection: its vectors and its BM25 index, rows = store
 * slots, both built from one stored snapshot (no text analyzed). Indexing writes rows of both
 * after each commit; the query path searches them.
 */
export class LiveIndex {
  private constructor(
    public index: VectorIndex,
    public lexical: LexicalIndex,
    private readonly int8: boolean | 'auto',
  ) {}

  static async load(store: IndexSource, int8: boolean | 'auto'): Promise<LiveIndex> {
    const { index, lexical } = await LiveIndex.build(store, int8);
    return new LiveIndex(index, lexical, int8);
  }

  private static async build(
    store: IndexSource,
    int8: boolean | 'auto',
  ): Promise<{ index: VectorIndex; lexical: LexicalIndex }> {
    const snap = await store.loadIndex();
    const m = store.meta;
    const dtype = int8 === true || (int8 === 'auto' && m.count >= INT8_AUTO_THRESHOLD) ? 'int8' : 'float32';
    const lexical = new LexicalIndex(m.lexical, store.lexicon);
    lexical.load(snap.terms);
    return { index: buildVectorIndex(snap.vectors, m.dim, dtype, m.chunkSize), lexical };
  }

  /** Rebuilds from the store (another tab wrote, or the collection was cleared). */
  async reload(store: IndexSource): Promise<void> {
    const { index, lexical } = await LiveIndex.build(store, this.int8);
    this.index = index;
    this.lexical = lexical;
  }
}
