/**
 * Documents and their vectors: one docs record per document (the Doc and its slot) and
 * chunk records of `chunkSize` float32 rows. A write is validated first, then committed in
 * ONE transaction over DOC_STORES; the next issue's lexical postings join that same
 * transaction (one more store in DOC_STORES, one more step in commitDocs).
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import { validateDocs, type Doc } from '../doc.js';
import type { VectorChunk } from '../search/types.js';
import { checkVector } from '../vectors.js';
import { inBatches, readMeta, settle, type Connection, type WriteTx } from './connection.js';
import { META_KEY, PILOT_STATE_KEY, type ChunkRecord, type CollectionMeta, type DocRecord } from './schema.js';
import { allocateSlots, releaseSlots, slotPosition } from './slots.js';

/** The stores a document write spans. */
export const DOC_STORES: ('meta' | 'docs' | 'vectors')[] = ['meta', 'docs', 'vectors'];
type DocTx = WriteTx<'meta' | 'docs' | 'vectors'>;

function approxJsonBytes(x: unknown): number {
  try {
    return JSON.stringify(x)?.length ?? 0;
  } catch {
    return 0;
  }
}

async function metaIn(tx: DocTx): Promise<CollectionMeta> {
  const m = await readMeta(tx.objectStore('meta'));
  if (!m) throw new RouterRetrieverError('NOT_FOUND', 'The collection has no metadata record (deleted in another tab?).');
  return { ...m };
}

/** Validates a batch before any write; returns one vector view per document. */
export function validateBatch(docs: unknown, vectors: readonly Float32Array[] | Float32Array, dim: number): Float32Array[] {
  validateDocs(docs);
  let rows: Float32Array[];
  if (vectors instanceof Float32Array) {
    if (vectors.length !== docs.length * dim) {
      throw new RouterRetrieverError('INVALID_INPUT', `Expected ${docs.length} x ${dim} = ${docs.length * dim} floats, got ${vectors.length}.`);
    }
    rows = docs.map((_, i) => vectors.subarray(i * dim, (i + 1) * dim));
  } else {
    if (!Array.isArray(vectors) || vectors.length !== docs.length) {
      throw new RouterRetrieverError('INVALID_INPUT', `Expected ${docs.length} vectors, got ${(vectors as unknown[] | undefined)?.length}.`);
    }
    rows = [...vectors];
  }
  rows.forEach((v, i) => checkVector(v, dim, `The vector of document "${docs[i].id}"`));
  return rows;
}

/** Writes validated documents and their rows inside `tx`; returns their slots and the new meta. */
async function commitDocs(tx: DocTx, docs: readonly Doc[], rows: readonly Float32Array[]): Promise<{ meta: CollectionMeta; slots: number[] }> {
  const docStore = tx.objectStore('docs');
  const vecStore = tx.objectStore('vectors');
  const m = await metaIn(tx);
  const { dim, chunkSize } = m;
  const existing = await inBatches(docs, (d) => docStore.get(d.id));
  const alloc = allocateSlots(m, existing.map((e) => e?.slot));
  Object.assign(m, alloc.state);
  const slots = alloc.slots;
  const chunkIds = [...new Set(slots.map((s) => slotPosition(s, chunkSize).chunk))];
  const recs = await inBatches(chunkIds, (c) => vecStore.get(c));
  const byChunk = new Map<number, { rec: ChunkRecord; f: Float32Array }>();
  chunkIds.forEach((c, i) => {
    const rec = recs[i] ?? { chunk: c, ids: new Array<string | null>(chunkSize).fill(null), vectors: new ArrayBuffer(chunkSize * dim * 4) };
    byChunk.set(c, { rec, f: new Float32Array(rec.vectors) });
  });
  docs.forEach((d, i) => {
    const { chunk, row } = slotPosition(slots[i], chunkSize);
    const { rec, f } = byChunk.get(chunk)!;
    f.set(rows[i], row * dim);
    rec.ids[row] = d.id;
  });
  await inBatches([...byChunk.values()], ({ rec }) => vecStore.put(rec));
  await inBatches(docs, (d, i) => {
    const rec: DocRecord = { id: d.id, text: d.text, slot: slots[i] };
    if (d.title !== undefined) rec.title = d.title;
    if (d.metadata !== undefined) rec.metadata = d.metadata;
    return docStore.put(rec);
  });
  m.updatedAt = Date.now();
  await tx.objectStore('meta').put(m, META_KEY);
  return { meta: m, slots };
}

export async function putDocs(conn: Connection, docs: readonly Doc[], vectors: readonly Float32Array[] | Float32Array): Promise<number[]> {
  const rows = validateBatch(docs, vectors, conn.meta.dim);
  if (docs.length === 0) return [];
  const dim = conn.meta.dim;
  const needed =
    docs.length * dim * 4 + docs.reduce((s, d) => s + d.id.length + d.text.length + (d.title?.length ?? 0) + approxJsonBytes(d.metadata) + 64, 0);
  const { meta, slots } = await conn.write(DOC_STORES, needed, `writing ${docs.length} documents`, (tx) => commitDocs(tx, docs, rows));
  conn.meta = meta;
  return slots;
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
  recs.sort((a, b) => a.chunk - b.chunk);
  return recs.map((r) => {
    const rows = Math.max(0, Math.min(m.chunkSize, m.nextSlot - r.chunk * m.chunkSize));
    return { dim: m.dim, vectors: new Float32Array(r.vectors, 0, rows * m.dim), ids: r.ids.slice(0, rows) };
  });
}

/** Switches the collection to another base model: clears vectors and pilots, marks all docs pending. */
export async function reindex(conn: Connection, fingerprint: string, dim: number): Promise<void> {
  const meta = await conn.write(['meta', 'docs', 'vectors', 'pilots'], 1024, 're-indexing', async (tx) => {
    const m = { ...(await readMeta(tx.objectStore('meta')))! };
    await tx.objectStore('vectors').clear();
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
