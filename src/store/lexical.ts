/**
 * The lexical half of a document write, and the read of the indexes on open (vectors, terms, fields): documents are
 * analyzed before the transaction (pure CPU, so the transaction stays short), their terms get
 * ids inside it (after the in-memory lexicon caught up with the stored one), and their term
 * vectors go into the terms chunks beside the vectors, in the same transaction (./documents.ts).
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import { docText, type Doc } from '../doc.js';
import { type AnalyzerName, analyzerFor } from '../lexical/analyzer.js';
import { type TermVector, termVectorOf } from '../lexical/term-vector.js';
import type { VectorChunk } from '../search/types.js';
import type { FilterScalar } from '../types.js';
import { fieldColumnsOf } from './fields.js';
import { inBatches, readMeta, type Connection, type WriteTx } from './connection.js';
import type { ChunkRecord, CollectionMeta, TermChunkRecord } from './schema.js';
import { slotPosition } from './slots.js';
import { decodeTermChunk, updateTermChunk } from './term-chunks.js';

/** A document write's transaction (over DOC_STORES). */
type LexTx = WriteTx<'meta' | 'docs' | 'vectors' | 'terms' | 'lexicon' | 'fields'>;

/** Analyzed tokens of a batch, with the analyzer used (checked again inside the transaction). */
export interface AnalyzedBatch {
  analyzer: AnalyzerName;
  tokens: string[][];
}

export function analyzeDocs(conn: Connection, docs: readonly Doc[]): AnalyzedBatch {
  const analyzer = conn.meta.lexical.analyzer;
  const analyze = analyzerFor(analyzer);
  conn.analyzed += docs.length;
  return { analyzer, tokens: docs.map((d) => analyze(docText(d))) };
}

function corrupt(msg: string): never {
  throw new RouterRetrieverError(
    'NOT_READY',
    `The stored lexicon is inconsistent (${msg}). Reopen the collection; if this persists, export and import it again.`,
  );
}

/** Appends the stored terms this instance has not seen (written by another instance). */
async function catchUp(
  conn: Connection,
  store: { getAll(q: IDBKeyRange): Promise<{ from: number; terms: string[] }[]> },
  m: CollectionMeta,
): Promise<void> {
  const lex = conn.lexicon;
  if (lex.size >= m.lexiconSize) return;
  for (const r of await store.getAll(IDBKeyRange.lowerBound(lex.size))) {
    if (r.from !== lex.size) corrupt(`a record starts at ${r.from}, expected ${lex.size}`);
    for (const t of r.terms) lex.idOf(t);
    if (lex.size !== r.from + r.terms.length) corrupt('a term is stored twice');
  }
  if (lex.size !== m.lexiconSize) corrupt(`${lex.size} terms stored, the meta says ${m.lexiconSize}`);
  conn.lexiconGen++;
}

/**
 * Inside a document write: term vectors of `batch`, new terms appended to the lexicon and stored
 * as one lexicon record; `m.lexiconSize` updated. The undo given to `onUndo` drops the new terms from the in-memory
 * lexicon if the transaction fails (unless a later write already changed the lexicon: that one
 * then starts by dropping them itself, as the stored size says).
 */
export async function assignTerms(
  conn: Connection,
  tx: LexTx,
  m: CollectionMeta,
  batch: AnalyzedBatch,
  onUndo: (undo: () => void) => void,
): Promise<TermVector[]> {
  if (m.lexical.analyzer !== batch.analyzer) {
    throw new RouterRetrieverError(
      'NOT_READY',
      `Collection "${conn.name}" was re-analyzed with the ${m.lexical.analyzer} analyzer (in another tab?) while this write used ${batch.analyzer}. Open it again and retry.`,
    );
  }
  if (m.lexiconEpoch !== conn.lexiconEpoch) {
    throw new RouterRetrieverError(
      'NOT_READY',
      `The lexical index of collection "${conn.name}" was rebuilt (in another tab?). Open it again and retry.`,
    );
  }
  const lex = conn.lexicon;
  if (lex.size > m.lexiconSize) {
    lex.truncate(m.lexiconSize); // terms of a write that did not commit
    conn.lexiconGen++;
  }
  const store = tx.objectStore('lexicon');
  await catchUp(conn, store, m);
  const from = lex.size;
  const vectors = batch.tokens.map((t) => termVectorOf(t, lex));
  if (lex.size > from) {
    const gen = ++conn.lexiconGen;
    // Registered before the first request: a request that throws must still undo.
    onUndo(() => {
      if (conn.lexiconGen === gen) lex.truncate(from);
    });
    await store.put({ from, terms: lex.since(from) });
    m.lexiconSize = lex.size;
  }
  return vectors;
}

/** Inside a write: applies `changes` (slot -> term vector, or null to free the row) to the terms chunks. */
export async function writeTermRows(
  tx: LexTx,
  m: CollectionMeta,
  changes: ReadonlyMap<number, TermVector | null>,
): Promise<void> {
  const byChunk = new Map<number, Map<number, TermVector | null>>();
  for (const [slot, v] of changes) {
    const { chunk, row } = slotPosition(slot, m.chunkSize);
    let c = byChunk.get(chunk);
    if (!c) {
      c = new Map();
      byChunk.set(chunk, c);
    }
    c.set(row, v);
  }
  const store = tx.objectStore('terms');
  const ids = [...byChunk.keys()];
  const recs = await inBatches(ids, (c) => store.get(c));
  await inBatches(ids, (c, i) => store.put(updateTermChunk(recs[i], c, m.chunkSize, byChunk.get(c)!)));
}

/** The live rows of both indexes, read in one transaction (so they describe the same commit). */
export interface IndexSnapshot {
  vectors: VectorChunk[];
  /** Live rows with their term vectors (views into the stored records). */
  terms: { row: number; id: string; vector: TermVector }[];
  /** The filterable fields' values by slot (./fields.ts). */
  fields: Record<string, (FilterScalar | null)[]>;
}

const EMPTY: TermVector = { terms: new Uint32Array(0), tfs: new Uint16Array(0), length: 0 };

/** Vector chunks as loadAll() returns them: rows past the last used slot trimmed. */
export function vectorChunksOf(m: CollectionMeta, recs: ChunkRecord[]): VectorChunk[] {
  recs.sort((a, b) => a.chunk - b.chunk);
  return recs.map((r) => {
    const rows = Math.max(0, Math.min(m.chunkSize, m.nextSlot - r.chunk * m.chunkSize));
    return { dim: m.dim, vectors: new Float32Array(r.vectors, 0, rows * m.dim), ids: r.ids.slice(0, rows) };
  });
}

/** Both indexes' stored rows, and the lexicon caught up: what an open or a reload builds from, no text analyzed. */
export async function loadIndex(conn: Connection): Promise<IndexSnapshot> {
  const tx = (await conn.db()).transaction(['meta', 'vectors', 'terms', 'lexicon', 'fields']);
  const m = await readMeta(tx.objectStore('meta'));
  if (!m) throw new RouterRetrieverError('NOT_FOUND', `Collection "${conn.name}" has no metadata record.`);
  const vecRecs = await tx.objectStore('vectors').getAll();
  const termRecs = new Map<number, TermChunkRecord>((await tx.objectStore('terms').getAll()).map((r) => [r.chunk, r]));
  const fieldRecs = await tx.objectStore('fields').getAll();
  if (m.lexiconEpoch !== conn.lexiconEpoch) {
    // Rebuilt elsewhere: start the lexicon over (the live index is rebuilt from this snapshot).
    conn.lexicon.truncate(0);
    conn.lexiconEpoch = m.lexiconEpoch;
    conn.lexiconGen++;
  }
  await catchUp(conn, tx.objectStore('lexicon'), m);
  await tx.done;
  conn.meta = m;
  const vectors = vectorChunksOf(m, vecRecs);
  const terms: IndexSnapshot['terms'] = [];
  for (const rec of vecRecs) {
    const rows = decodeTermChunk(termRecs.get(rec.chunk), m.chunkSize);
    rec.ids.forEach((id, r) => {
      if (id !== null && rec.chunk * m.chunkSize + r < m.nextSlot)
        terms.push({ row: rec.chunk * m.chunkSize + r, id, vector: rows[r] ?? EMPTY });
    });
  }
  return { vectors, terms, fields: fieldColumnsOf(m, fieldRecs) };
}
