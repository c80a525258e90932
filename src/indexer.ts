/** Input validation and helpers for indexing documents (used by RouterRetriever). */
import { RouterRetrieverError } from './boundary/errors.js';
import type { DocRecord } from './store/schema.js';
import type { Doc } from './types.js';

function invalid(msg: string, details: Record<string, unknown> = {}): never {
  throw new RouterRetrieverError('INVALID_INPUT', msg, details);
}

/** Validates a whole add/upsert call before anything is embedded or written. */
export function validateDocs(docs: unknown): asserts docs is Doc[] {
  if (!Array.isArray(docs)) invalid('add()/upsert() take an array of documents { id, title?, text, metadata? }.');
  const seen = new Map<string, number>();
  docs.forEach((d: unknown, i) => {
    if (typeof d !== 'object' || d === null) invalid(`Document ${i} is not an object.`, { index: i });
    const doc = d as Partial<Doc>;
    if (typeof doc.id !== 'string' || doc.id === '') {
      invalid(`Document ${i} needs a non-empty string id (got ${JSON.stringify(doc.id)}).`, { index: i });
    }
    const prev = seen.get(doc.id);
    if (prev !== undefined) invalid(`Document id "${doc.id}" appears twice in this call (documents ${prev} and ${i}).`, { id: doc.id, index: i });
    seen.set(doc.id, i);
    if (typeof doc.text !== 'string') invalid(`Document "${doc.id}" (index ${i}) needs a string text.`, { id: doc.id, index: i });
    if (doc.title !== undefined && typeof doc.title !== 'string') {
      invalid(`The title of document "${doc.id}" (index ${i}) must be a string.`, { id: doc.id, index: i });
    }
    if (doc.metadata !== undefined && (typeof doc.metadata !== 'object' || doc.metadata === null || Array.isArray(doc.metadata))) {
      invalid(`The metadata of document "${doc.id}" (index ${i}) must be a plain object.`, { id: doc.id, index: i });
    }
  });
}

/** The encoder's input for a document: `title + " " + text` (Contriever/BEIR convention). */
export function docText(d: Pick<Doc, 'title' | 'text'>): string {
  return d.title ? `${d.title} ${d.text}` : d.text;
}

/** True when a stored record (with a vector) has exactly this document's content. */
export function sameContent(rec: DocRecord | undefined, d: Doc): boolean {
  if (!rec || rec.slot < 0) return false;
  return rec.text === d.text && (rec.title ?? undefined) === (d.title ?? undefined) && JSON.stringify(rec.metadata ?? null) === JSON.stringify(d.metadata ?? null);
}

/** A stored record as the public Doc (without the slot). */
export function toDoc(rec: DocRecord): Doc {
  const d: Doc = { id: rec.id, text: rec.text };
  if (rec.title !== undefined) d.title = rec.title;
  if (rec.metadata !== undefined) d.metadata = rec.metadata;
  return d;
}

/** Rows of an n x dim flat array as views. */
export function rowsOf(flat: Float32Array, dim: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let i = 0; i < flat.length / dim; i++) out.push(flat.subarray(i * dim, (i + 1) * dim));
  return out;
}

/** Drops every loaded vector's reference to its big buffer by copying (for long-lived small vectors). */
export function copyVector(v: Float32Array): Float32Array {
  return v.slice();
}
