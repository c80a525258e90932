/**
 * Importing a collection file as ONE IndexedDB transaction over every store: the old content is
 * cleared and the file's documents, vectors, term vectors, lexicon, experts and pilot library are
 * written in the same transaction, so a quota error, a closed tab or any failed request aborts the
 * whole of it and leaves the collection as it was (the old one intact, or the new one complete;
 * IndexedDB has no rename, so there is no temporary collection to swap in). Everything is built
 * in memory first (analysis, term ids, chunk records); the transaction only issues puts.
 */
import { docText, toDoc } from '../doc.js';
import { analyzerFor } from '../lexical/analyzer.js';
import { LEXICAL_DEFAULTS, type LexicalOptions } from '../lexical/lexical-index.js';
import { Lexicon } from '../lexical/lexicon.js';
import { termVectorOf, type TermVector } from '../lexical/term-vector.js';
import { checkVector } from '../vectors.js';
import { Connection, connect, inBatches, readMeta } from './connection.js';
import {
  ABSTAIN_KEY,
  FUSION_KEY,
  META_KEY,
  PREBUILT_KEY,
  SCHEMA_VERSION,
  type ChunkRecord,
  type CollectionMeta,
  type DocRecord,
  type PilotRecord,
  type PrebuiltRecord,
  type StoreName,
  type TermChunkRecord,
} from './schema.js';
import { encodeTermChunk } from './term-chunks.js';
import type { CollectionFile } from './transfer.js';

/** Vectors per chunk record of an imported collection (CollectionStore.open's default). */
const CHUNK_SIZE = 1024;
// The fields store is cleared: a collection file carries no filterable declaration, and
// open({ filterable }) builds the field columns from the imported documents (./fields.ts).
const ALL_STORES: StoreName[] = ['meta', 'docs', 'vectors', 'terms', 'lexicon', 'fields', 'experts', 'pilots'];

interface Records {
  meta: CollectionMeta;
  docs: DocRecord[];
  vectors: ChunkRecord[];
  terms: TermChunkRecord[];
  lexicon: string[];
  pilots: PilotRecord[];
  bytes: number;
}

/** The stores' records for `f`, built in memory (analysis included); `prev` is the meta being replaced. */
function recordsOf(name: string, f: CollectionFile, prev: CollectionMeta | undefined): Records {
  const { header, vectors } = f;
  const { dim, count } = header;
  const lexical: LexicalOptions = { ...LEXICAL_DEFAULTS, ...f.lexical };
  const analyze = analyzerFor(lexical.analyzer);
  const lexicon = new Lexicon();
  const termRows: TermVector[] = header.docs.map((d) => termVectorOf(analyze(docText(d)), lexicon));
  const chunks: ChunkRecord[] = [];
  const terms: TermChunkRecord[] = [];
  for (let c = 0; c * CHUNK_SIZE < count; c++) {
    const from = c * CHUNK_SIZE;
    const rows = Math.min(CHUNK_SIZE, count - from);
    const buf = new Float32Array(CHUNK_SIZE * dim);
    buf.set(vectors.subarray(from * dim, (from + rows) * dim));
    const ids = new Array<string | null>(CHUNK_SIZE).fill(null);
    for (let r = 0; r < rows; r++) ids[r] = header.docs[from + r].id;
    chunks.push({ chunk: c, ids, vectors: buf.buffer });
    terms.push(encodeTermChunk(c, CHUNK_SIZE, termRows.slice(from, from + rows)));
  }
  const docs: DocRecord[] = header.docs.map((d, i) => ({ ...toDoc(d), slot: i }));
  const pilots: PilotRecord[] = [...f.pilots].map(([expert, list], order) => {
    const buf = new Float32Array(list.length * dim);
    list.forEach((v, i) => buf.set(checkVector(v, dim, `Pilot ${i} of expert "${expert}"`), i * dim));
    return { expert, order, dim, vectors: buf.buffer };
  });
  const now = Date.now();
  const meta: CollectionMeta = {
    name,
    schemaVersion: SCHEMA_VERSION,
    fingerprint: header.fingerprint,
    dim,
    dtype: 'float32',
    chunkSize: CHUNK_SIZE,
    count,
    nextSlot: count,
    freeSlots: [],
    createdAt: prev?.createdAt ?? now,
    updatedAt: now,
    lexical,
    lexiconSize: lexicon.size,
    // Another epoch: an instance still open on the old content drops its term ids (./lexical.ts).
    lexiconEpoch: (prev?.lexiconEpoch ?? -1) + 1,
    filterable: {},
  };
  const bytes =
    chunks.length * CHUNK_SIZE * dim * 4 +
    terms.reduce((s, t) => s + t.terms.byteLength + t.tfs.byteLength + t.offsets.byteLength, 0) +
    header.docs.reduce((s, d) => s + d.text.length + (d.title?.length ?? 0) + d.id.length + 64, 0);
  return { meta, docs, vectors: chunks, terms, lexicon: lexicon.since(0), pilots, bytes };
}

/**
 * Replaces collection `name` (created when missing) with the content of `f` (validated by
 * readCollectionFile) in one transaction. `prebuilt` marks where the content came from (open()'s
 * `prebuilt` option decides on it whether to import again).
 */
export async function replaceWithFile(name: string, f: CollectionFile, prebuilt?: PrebuiltRecord): Promise<void> {
  const db = await connect(name, () => undefined, { lexical: { ...LEXICAL_DEFAULTS }, analyzed: 0 });
  const prev = await readMeta(db);
  const r = recordsOf(name, f, prev);
  const conn = new Connection(name, db, prev ?? r.meta);
  try {
    await conn.write(ALL_STORES, r.bytes, `importing ${f.header.count} documents`, async (tx) => {
      await Promise.all(ALL_STORES.map((s) => tx.objectStore(s).clear()));
      await inBatches(r.docs, (d) => tx.objectStore('docs').put(d));
      await inBatches(r.vectors, (c) => tx.objectStore('vectors').put(c));
      await inBatches(r.terms, (t) => tx.objectStore('terms').put(t));
      if (r.lexicon.length > 0) await tx.objectStore('lexicon').put({ from: 0, terms: r.lexicon });
      await inBatches(f.experts, (e) => tx.objectStore('experts').put({ addedAt: Date.now(), ...e }));
      await inBatches(r.pilots, (p) => tx.objectStore('pilots').put(p));
      const meta = tx.objectStore('meta');
      if (f.extras.fusion) await meta.put({ ...f.extras.fusion }, FUSION_KEY);
      if (f.extras.abstain) await meta.put({ ...f.extras.abstain }, ABSTAIN_KEY);
      if (prebuilt) await meta.put({ ...prebuilt }, PREBUILT_KEY);
      // The meta record last: a reader sees the new count only with everything it counts.
      await meta.put(r.meta, META_KEY);
    });
  } finally {
    conn.close();
  }
}

/** Where the collection's content came from, and its document count, without changing anything. */
export async function importedFrom(name: string): Promise<{ documents: number; prebuilt?: PrebuiltRecord }> {
  const db = await connect(name, () => undefined, { lexical: { ...LEXICAL_DEFAULTS }, analyzed: 0 });
  try {
    const tx = db.transaction(['meta', 'docs']);
    const [documents, prebuilt] = await Promise.all([
      tx.objectStore('docs').count(),
      tx.objectStore('meta').get(PREBUILT_KEY),
    ]);
    await tx.done;
    return prebuilt ? { documents, prebuilt: prebuilt as PrebuiltRecord } : { documents };
  } finally {
    db.close();
  }
}
