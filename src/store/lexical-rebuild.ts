/**
 * Builds the term vectors of every stored document into the terms and lexicon stores, inside a
 * transaction that the caller gives: the v2 -> v3 upgrade (a collection written before the
 * lexical index existed) and a rebuild with another analyzer. These are the only two places where
 * stored documents are analyzed again; an ordinary open reads the stored term vectors.
 */
import { docText } from '../doc.js';
import { type AnalyzerName, analyzerFor } from '../lexical/analyzer.js';
import { LEXICAL_DEFAULTS, type LexicalOptions } from '../lexical/lexical-index.js';
import { Lexicon } from '../lexical/lexicon.js';
import { type TermVector, termVectorOf } from '../lexical/term-vector.js';
import type { CollectionMeta, DocRecord, LexiconRecord, TermChunkRecord, UpgradeTx } from './schema.js';
import { slotPosition } from './slots.js';
import { encodeTermChunk } from './term-chunks.js';

/** What the upgrade needs from open() and tells it back. */
export interface UpgradeContext {
  /** Lexical options for a collection migrated from v2 (stored in its meta). */
  lexical: LexicalOptions;
  /** Documents the upgrade analyzed (set by it). */
  analyzed: number;
  /** Set by the 2 -> 3 step: settles after its meta put, so that a later step's meta write lands after it. */
  termsBuilt?: Promise<void>;
}

const META_KEY = 'collection';
/** Documents read per request while building (bounded memory for the document text). */
const READ_BATCH = 1000;

/** The stores this needs, as both an upgrade and a readwrite transaction expose them. */
interface TermsTx {
  objectStore(name: 'docs'): { getAll(query?: IDBKeyRange, count?: number): Promise<DocRecord[]> };
  objectStore(name: 'terms'): { clear(): Promise<void>; put(v: TermChunkRecord): Promise<unknown> };
  objectStore(name: 'lexicon'): { clear(): Promise<void>; put(v: LexiconRecord): Promise<unknown> };
  objectStore(name: 'meta'): { put(v: CollectionMeta, key: string): Promise<unknown> };
}

/** Replaces the terms and lexicon stores with the term vectors of every document with a slot; returns the new meta, lexicon and count. */
export async function writeAllTerms(
  tx: TermsTx,
  m: CollectionMeta,
  lexical: LexicalOptions,
): Promise<{ meta: CollectionMeta; lexicon: Lexicon; analyzed: number }> {
  const analyze = analyzerFor(lexical.analyzer as AnalyzerName);
  const lexicon = new Lexicon();
  const chunks = new Map<number, (TermVector | null)[]>();
  const docs = tx.objectStore('docs');
  let last: string | undefined;
  let analyzed = 0;
  for (;;) {
    const batch = await docs.getAll(last === undefined ? undefined : IDBKeyRange.lowerBound(last, true), READ_BATCH);
    if (batch.length === 0) break;
    for (const d of batch) {
      if (d.slot < 0) continue;
      const { chunk, row } = slotPosition(d.slot, m.chunkSize);
      let rows = chunks.get(chunk);
      if (!rows) {
        rows = new Array<TermVector | null>(m.chunkSize).fill(null);
        chunks.set(chunk, rows);
      }
      rows[row] = termVectorOf(analyze(docText(d)), lexicon);
      analyzed++;
    }
    last = batch[batch.length - 1].id;
  }
  const terms = tx.objectStore('terms');
  const lexStore = tx.objectStore('lexicon');
  await terms.clear();
  await lexStore.clear();
  for (const [c, rows] of chunks) await terms.put(encodeTermChunk(c, m.chunkSize, rows));
  if (lexicon.size > 0) await lexStore.put({ from: 0, terms: lexicon.since(0) });
  const epoch = typeof m.lexiconEpoch === 'number' ? m.lexiconEpoch + 1 : 0;
  const meta: CollectionMeta = {
    ...m,
    lexical: { ...lexical },
    lexiconSize: lexicon.size,
    lexiconEpoch: epoch,
    updatedAt: Date.now(),
  };
  await tx.objectStore('meta').put(meta, META_KEY);
  return { meta, lexicon, analyzed };
}

/** The v2 -> v3 step after the stores exist: builds the term vectors in the upgrade transaction (an error aborts the whole upgrade). */
export function buildTermsInUpgrade(tx: UpgradeTx, ctx: UpgradeContext | undefined): void {
  const meta = tx.objectStore('meta');
  const built = (async () => {
    const m = (await meta.get(META_KEY)) as Partial<CollectionMeta> | undefined;
    if (!m || typeof m.chunkSize !== 'number') return; // a new database: open() writes its meta
    const lexical = ctx?.lexical ?? LEXICAL_DEFAULTS;
    // The 1 -> 2 step's meta put may land after this read (it too is issued from a callback), and
    // this step's put comes last: carry its field over so that nothing of it is lost.
    const v3 = { ...(m as CollectionMeta), dtype: m.dtype ?? 'float32', schemaVersion: 3 } as CollectionMeta;
    const r = await writeAllTerms(tx as unknown as TermsTx, v3, lexical);
    if (ctx) ctx.analyzed += r.analyzed;
  })().catch(() => {
    try {
      tx.abort();
    } catch {
      /* already finished */
    }
  });
  if (ctx) ctx.termsBuilt = built;
}
