/**
 * Documents, their vectors and their term vectors: one docs record per document (the Doc and
 * its slot), chunk records of `chunkSize` float32 rows, and term chunks of the same slots
 * (./lexical.ts). A write is validated first, then committed in ONE transaction over
 * DOC_STORES: a document is searchable by both indexes or by neither.
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import { validateDocs, type Doc } from '../doc.js';
import type { TermVector } from '../lexical/term-vector.js';
import type { VectorChunk } from '../search/types.js';
import { checkVector } from '../vectors.js';
import { inBatches, readMeta, settle, type Connection, type WriteTx } from './connection.js';
import { writeFieldRows } from './fields.js';
import { analyzeDocs, assignTerms, vectorChunksOf, writeTermRows, type AnalyzedBatch } from './lexical.js';
import { META_KEY, PILOT_STATE_KEY, type ChunkRecord, type CollectionMeta, type DocRecord } from './schema.js';
import { allocateSlots, releaseSlots, slotPosition } from './slots.js';

/** The stores a document write spans. */
export const DOC_STORES: ('meta' | 'docs' | 'vectors' | 'terms' | 'lexicon' | 'fields')[] = [
  'meta',
  'docs',
  'vectors',
  'terms',
  'lexicon',
  'fields',
];
type DocTx = WriteTx<'meta' | 'docs' | 'vectors' | 'terms' | 'lexicon' | 'fields'>;

/** What a committed write gives back: each document's slot and term vector (parallel to the docs). */
export interface WrittenDocs {
  slots: number[];
  terms: TermVector[];
  /** Per document: whether the write replaced a stored one (read inside the transaction, so true across tabs). */
  replaced: boolean[];
}

function approxJsonBytes(x: unknown): number {
  try {
    return JSON.stringify(x)?.length ?? 0;
  } catch {
    return 0;
  }
}

async function metaIn(tx: DocTx): Promise<CollectionMeta> {
  const m = await readMeta(tx.objectStore('meta'));
  if (!m)
    throw new RouterRetrieverError('NOT_FOUND', 'The collection has no metadata record (deleted in another tab?).');
  return { ...m };
}

/** Validates a batch before any write; returns one vector view per document. */
export function validateBatch(
  docs: unknown,
  vectors: readonly Float32Array[] | Float32Array,
  dim: number,
): Float32Array[] {
  validateDocs(docs);
  let rows: Float32Array[];
  if (vectors instanceof Float32Array) {
    if (vectors.length !== docs.length * dim) {
      throw new RouterRetrieverError(
        'INVALID_INPUT',
        `Expected ${docs.length} x ${dim} = ${docs.length * dim} floats, got ${vectors.length}.`,
      );
    }
    rows = docs.map((_, i) => vectors.subarray(i * dim, (i + 1) * dim));
  } else {
    if (!Array.isArray(vectors) || vectors.length !== docs.length) {
      throw new RouterRetrieverError(
        'INVALID_INPUT',
        `Expected ${docs.length} vectors, got ${(vectors as unknown[] | undefined)?.length}.`,
      );
    }
    rows = [...vectors];
  }
  rows.forEach((v, i) => checkVector(v, dim, `The vector of document "${docs[i].id}"`));
  return rows;
}

/** Writes validated documents, their rows and their term vectors inside `tx`; returns their slots, term vectors and the new meta. */
async function commitDocs(
  conn: Connection,
  tx: DocTx,
  docs: readonly Doc[],
  rows: readonly Float32Array[],
  analyzed: AnalyzedBatch,
  onUndo: (undo: () => void) => void,
): Promise<{ meta: CollectionMeta } & WrittenDocs> {
  const docStore = tx.objectStore('docs');
  const vecStore = tx.objectStore('vectors');
  const m = await metaIn(tx);
  const termVectors = await assignTerms(conn, tx, m, analyzed, onUndo);
  const { dim, chunkSize } = m;
  const existing = await inBatches(docs, (d) => docStore.get(d.id));
  const alloc = allocateSlots(
    m,
    existing.map((e) => e?.slot),
  );
  Object.assign(m, alloc.state);
  const slots = alloc.slots;
  const chunkIds = [...new Set(slots.map((s) => slotPosition(s, chunkSize).chunk))];
  const recs = await inBatches(chunkIds, (c) => vecStore.get(c));
  const byChunk = new Map<number, { rec: ChunkRecord; f: Float32Array }>();
  chunkIds.forEach((c, i) => {
    const rec = recs[i] ?? {
      chunk: c,
      ids: new Array<string | null>(chunkSize).fill(null),
      vectors: new ArrayBuffer(chunkSize * dim * 4),
    };
    byChunk.set(c, { rec, f: new Float32Array(rec.vectors) });
  });
  docs.forEach((d, i) => {
    const { chunk, row } = slotPosition(slots[i], chunkSize);
    const { rec, f } = byChunk.get(chunk)!;
    f.set(rows[i], row * dim);
    rec.ids[row] = d.id;
  });
  await inBatches([...byChunk.values()], ({ rec }) => vecStore.put(rec));
  await writeTermRows(tx, m, new Map(slots.map((s, i) => [s, termVectors[i]])));
  await writeFieldRows(tx, m, new Map(slots.map((s, i) => [s, docs[i]])));
  await inBatches(docs, (d, i) => {
    const rec: DocRecord = { id: d.id, text: d.text, slot: slots[i] };
    if (d.title !== undefined) rec.title = d.title;
    if (d.metadata !== undefined) rec.metadata = d.metadata;
    return docStore.put(rec);
  });
  m.updatedAt = Date.now();
  await tx.objectStore('meta').put(m, META_KEY);
  return { meta: m, slots, terms: termVectors, replaced: existing.map((e) => e !== undefined && e.slot >= 0) };
}

/**
 * Validates, analyzes (unless `pre` holds these documents' tokens from analyzeDocs(), e.g.
 * computed while the encoder embedded them), then commits documents with their vectors and term
 * vectors in one transaction.
 */
export async function writeDocs(
  conn: Connection,
  docs: readonly Doc[],
  vectors: readonly Float32Array[] | Float32Array,
  pre?: AnalyzedBatch,
): Promise<WrittenDocs> {
  const rows = validateBatch(docs, vectors, conn.meta.dim);
  if (docs.length === 0) return { slots: [], terms: [], replaced: [] };
  const dim = conn.meta.dim;
  const usable = pre && pre.tokens.length === docs.length && pre.analyzer === conn.meta.lexical.analyzer;
  const analyzed = usable ? pre : analyzeDocs(conn, docs);
  const needed =
    docs.length * dim * 4 +
    analyzed.tokens.reduce((s, t) => s + t.length * 6, 0) +
    docs.reduce(
      (s, d) => s + d.id.length + d.text.length + (d.title?.length ?? 0) + approxJsonBytes(d.metadata) + 64,
      0,
    );
  let undo: () => void = () => {};
  try {
    const r = await conn.write(DOC_STORES, needed, `writing ${docs.length} documents`, (tx) =>
      commitDocs(conn, tx, docs, rows, analyzed, (u) => {
        undo = u;
      }),
    );
    conn.meta = r.meta;
    return { slots: r.slots, terms: r.terms, replaced: r.replaced };
  } catch (e) {
    undo();
    throw e;
  }
}

export async function putDocs(
  conn: Connection,
  docs: readonly Doc[],
  vectors: readonly Float32Array[] | Float32Array,
): Promise<number[]> {
  return (await writeDocs(conn, docs, vectors)).slots;
}

export async function deleteDocs(conn: Connection, ids: readonly string[]): Promise<number> {
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
    throw new RouterRetrieverError('INVALID_INPUT', 'ids must be an array of strings.');
  }
  let deleted = 0;
  const meta = await conn.write(DOC_STORES, 1024, `deleting ${ids.length} documents`, async (tx) => {
    const docStore = tx.objectStore('docs');
    const vecStore = tx.objectStore('vectors');
    const m = await metaIn(tx);
    const { dim, chunkSize } = m;
    const recs = await inBatches([...new Set(ids)], (id) => docStore.get(id));
    const chunks = new Map<number, ChunkRecord>();
    const freed: number[] = [];
    const puts: Promise<unknown>[] = [];
    for (const r of recs) {
      if (!r) continue;
      deleted++;
      puts.push(settle(docStore.delete(r.id)));
      if (r.slot < 0) continue;
      const { chunk, row } = slotPosition(r.slot, chunkSize);
      if (!chunks.has(chunk)) chunks.set(chunk, (await vecStore.get(chunk))!);
      const rec = chunks.get(chunk)!;
      rec.ids[row] = null;
      new Float32Array(rec.vectors).fill(0, row * dim, (row + 1) * dim);
      freed.push(r.slot);
    }
    for (const rec of chunks.values()) puts.push(settle(vecStore.put(rec)));
    Object.assign(m, releaseSlots(m, freed), { updatedAt: Date.now() });
    puts.push(settle(tx.objectStore('meta').put(m, META_KEY)));
    await Promise.all(puts);
    await writeTermRows(tx, m, new Map(freed.map((s) => [s, null])));
    await writeFieldRows(tx, m, new Map(freed.map((s) => [s, null])));
    return m;
  });
  conn.meta = meta;
  return deleted;
}

/** Resume support: the ids whose vectors are stored. */
export async function storedIds(conn: Connection): Promise<Set<string>> {
  const out = new Set<string>();
  for (const r of await (await conn.db()).getAll('vectors')) for (const id of r.ids) if (id !== null) out.add(id);
  return out;
}

/** Documents stored without a vector (after a 'reindex' open). */
export async function pendingDocs(conn: Connection): Promise<DocRecord[]> {
  return (await (await conn.db()).getAll('docs')).filter((d) => d.slot < 0);
}

export async function getDocs(conn: Connection, ids: readonly string[]): Promise<(DocRecord | undefined)[]> {
  const tx = (await conn.db()).transaction('docs');
  const out = await inBatches(ids, (id) => tx.store.get(id));
  await tx.done;
  return out;
}

/** Every vector chunk, rows past the last used slot trimmed; free slots have id null. */
export async function loadAll(conn: Connection): Promise<VectorChunk[]> {
  const tx = (await conn.db()).transaction(['meta', 'vectors']);
  const m = await readMeta(tx.objectStore('meta'));
  const recs = await tx.objectStore('vectors').getAll();
  await tx.done;
  if (!m) throw new RouterRetrieverError('NOT_FOUND', `Collection "${conn.name}" has no metadata record.`);
  conn.meta = m;
  return vectorChunksOf(m, recs);
}

/** Switches the collection to another base model: clears vectors, term rows, field rows and pilots, marks all docs pending (the lexicon stays: ids never change). */
export async function reindex(conn: Connection, fingerprint: string, dim: number): Promise<void> {
  const stores: ('meta' | 'docs' | 'vectors' | 'terms' | 'fields' | 'pilots')[] = [
    'meta',
    'docs',
    'vectors',
    'terms',
    'fields',
    'pilots',
  ];
  const meta = await conn.write(stores, 1024, 're-indexing', async (tx) => {
    const m = { ...(await readMeta(tx.objectStore('meta')))! };
    await tx.objectStore('vectors').clear();
    await tx.objectStore('terms').clear();
    await tx.objectStore('fields').clear(); // keyed by slot, like the term rows
    await tx.objectStore('pilots').clear();
    await tx.objectStore('meta').delete(PILOT_STATE_KEY);
    let cursor = await tx.objectStore('docs').openCursor();
    while (cursor) {
      if (cursor.value.slot !== -1) await cursor.update({ ...cursor.value, slot: -1 });
      cursor = await cursor.continue();
    }
    Object.assign(m, { fingerprint, dim, count: 0, nextSlot: 0, freeSlots: [], updatedAt: Date.now() });
    await tx.objectStore('meta').put(m, META_KEY);
    return m;
  });
  conn.meta = meta;
}
