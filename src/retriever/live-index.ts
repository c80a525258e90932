import { FieldColumns } from '../filter/columns.js';
import type { FilterNode } from '../filter/check.js';
import { filterMask } from '../filter/mask.js';
import { LexicalIndex } from '../lexical/lexical-index.js';
import { buildVectorIndex } from '../search/vector-index.js';
import type { VectorIndex } from '../search/types.js';
import type { RetrieverStore } from './store.js';

/** From this many documents 'auto' switches to int8 search. */
export const INT8_AUTO_THRESHOLD = 200_000;

type IndexSource = Pick<RetrieverStore, 'loadIndex' | 'meta' | 'lexicon'>;

interface Parts {
  index: VectorIndex;
  lexical: LexicalIndex;
  fields: FieldColumns;
}

/**
 * The searchable in-memory copy of the collection: its vectors, its BM25 index and its
 * filterable fields' columns, rows = store slots, all built from one stored snapshot (no text
 * analyzed). Indexing writes rows of each after each commit; the query path searches them.
 */
export class LiveIndex {
  private constructor(
    public index: VectorIndex,
    public lexical: LexicalIndex,
    public fields: FieldColumns,
    private readonly int8: boolean | 'auto',
  ) {}

  static async load(store: IndexSource, int8: boolean | 'auto'): Promise<LiveIndex> {
    const p = await LiveIndex.build(store, int8);
    return new LiveIndex(p.index, p.lexical, p.fields, int8);
  }

  private static async build(store: IndexSource, int8: boolean | 'auto'): Promise<Parts> {
    const snap = await store.loadIndex();
    const m = store.meta;
    const dtype = int8 === true || (int8 === 'auto' && m.count >= INT8_AUTO_THRESHOLD) ? 'int8' : 'float32';
    const lexical = new LexicalIndex(m.lexical, store.lexicon);
    lexical.load(snap.terms);
    const fields = FieldColumns.load(m.filterable ?? {}, snap.fields);
    return { index: buildVectorIndex(snap.vectors, m.dim, dtype, m.chunkSize), lexical, fields };
  }

  /** Rebuilds from the store (another tab wrote, or the collection was cleared). */
  async reload(store: IndexSource): Promise<void> {
    const p = await LiveIndex.build(store, this.int8);
    this.index = p.index;
    this.lexical = p.lexical;
    this.fields = p.fields;
  }

  /** The rows matching a checked filter, covering every row of both indexes as they are now. */
  mask(filter: FilterNode): Uint8Array {
    return filterMask(filter, this.fields, Math.max(this.index.rows, this.lexical.rows));
  }
}
