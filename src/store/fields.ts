/**
 * The filterable metadata fields on disk: one fields record per vector chunk (same slots),
 * written inside the document writes' transactions (./documents.ts), so a document is filtered
 * by the values it was stored with or not stored at all. A new declaration rebuilds every
 * record from the stored documents in one transaction; an unchanged one reads nothing.
 */
import type { Doc } from '../doc.js';
import { type FieldSchema, checkDocFields, fieldValue, sameSchema } from '../filter/fields.js';
import type { FilterScalar } from '../types.js';
import { inBatches, readMeta, type Connection, type WriteTx } from './connection.js';
import { META_KEY, type CollectionMeta, type DocRecord, type FieldChunkRecord } from './schema.js';
import { slotPosition } from './slots.js';

/** Documents read per request while rebuilding (bounded memory for the document text). */
const READ_BATCH = 1000;

export function schemaOf(m: Pick<CollectionMeta, 'filterable'>): FieldSchema {
  return m.filterable ?? {};
}

function emptyRecord(chunk: number, schema: FieldSchema, chunkSize: number): FieldChunkRecord {
  const columns: FieldChunkRecord['columns'] = {};
  for (const f of Object.keys(schema)) columns[f] = new Array<FilterScalar | null>(chunkSize).fill(null);
  return { chunk, columns };
}

/** Inside a document write: sets (metadata) or clears (null) the field values of slots. Checks the values' types first. */
export async function writeFieldRows(
  tx: WriteTx<'meta' | 'docs' | 'vectors' | 'terms' | 'lexicon' | 'fields'>,
  m: CollectionMeta,
  changes: ReadonlyMap<number, Doc | null>,
): Promise<void> {
  const schema = schemaOf(m);
  const fields = Object.keys(schema);
  if (fields.length === 0) return;
  checkDocFields(
    [...changes.values()].filter((d): d is Doc => d !== null),
    schema,
  );
  const byChunk = new Map<number, [number, Doc | null][]>();
  for (const [slot, d] of changes) {
    const { chunk, row } = slotPosition(slot, m.chunkSize);
    const list = byChunk.get(chunk) ?? [];
    list.push([row, d]);
    byChunk.set(chunk, list);
  }
  const store = tx.objectStore('fields');
  const ids = [...byChunk.keys()];
  const recs = await inBatches(ids, (c) => store.get(c));
  await inBatches(ids, (c, i) => {
    const rec = recs[i] ?? emptyRecord(c, schema, m.chunkSize);
    for (const f of fields) rec.columns[f] ??= new Array<FilterScalar | null>(m.chunkSize).fill(null);
    for (const [row, d] of byChunk.get(c)!)
      for (const f of fields) rec.columns[f][row] = d ? fieldValue(d.metadata, f, schema[f]) : null;
    return store.put(rec);
  });
}

/**
 * Opening with another declaration: every fields record is rebuilt from the stored documents in
 * one transaction (a document whose value does not fit its field's type aborts it, naming both).
 */
export async function applyFilterable(conn: Connection, wanted: FieldSchema): Promise<void> {
  if (sameSchema(schemaOf(conn.meta), wanted)) return;
  conn.meta = await conn.write(
    ['meta', 'docs', 'fields'],
    1024 + conn.meta.count * 16 * Object.keys(wanted).length,
    'declaring the filterable fields',
    async (tx) => {
      const m: CollectionMeta = { ...(await readMeta(tx.objectStore('meta')))!, filterable: { ...wanted } };
      const recs = new Map<number, FieldChunkRecord>();
      const docs = tx.objectStore('docs');
      let last: string | undefined;
      for (;;) {
        const range = last === undefined ? undefined : IDBKeyRange.lowerBound(last, true);
        const batch: DocRecord[] = await docs.getAll(range, READ_BATCH);
        if (batch.length === 0) break;
        checkDocFields(batch, wanted);
        for (const d of batch) {
          if (d.slot < 0) continue;
          const { chunk, row } = slotPosition(d.slot, m.chunkSize);
          let rec = recs.get(chunk);
          if (!rec) {
            rec = emptyRecord(chunk, wanted, m.chunkSize);
            recs.set(chunk, rec);
          }
          for (const f of Object.keys(wanted)) rec.columns[f][row] = fieldValue(d.metadata, f, wanted[f]);
        }
        last = batch[batch.length - 1].id;
      }
      const store = tx.objectStore('fields');
      await store.clear();
      await inBatches([...recs.values()], (r) => store.put(r));
      m.updatedAt = Date.now();
      await tx.objectStore('meta').put(m, META_KEY);
      return m;
    },
  );
}

/** The stored values by field, one per slot [0, nextSlot) (null: none), for the in-memory columns. */
export function fieldColumnsOf(
  m: CollectionMeta,
  recs: readonly FieldChunkRecord[],
): Record<string, (FilterScalar | null)[]> {
  const out: Record<string, (FilterScalar | null)[]> = {};
  for (const f of Object.keys(schemaOf(m))) {
    const col = new Array<FilterScalar | null>(m.nextSlot).fill(null);
    for (const r of recs) {
      const values = r.columns[f];
      if (!values) continue;
      const base = r.chunk * m.chunkSize;
      for (let i = 0; i < values.length && base + i < m.nextSlot; i++) col[base + i] = values[i];
    }
    out[f] = col;
  }
  return out;
}
