/**
 * The one document shape of the SDK (add/upsert input, search hits, the store's records,
 * the export file, BEIR corpora) and its one validation.
 */
import { RouterRetrieverError } from './boundary/errors.js';

/** A document. Its text for the encoder is `title + " " + text`. */
export interface Doc {
  id: string;
  title?: string;
  text: string;
  metadata?: Record<string, unknown>;
}

function invalid(msg: string, details: Record<string, unknown> = {}): never {
  throw new RouterRetrieverError('INVALID_INPUT', msg, details);
}

/**
 * Validates a whole batch before anything is embedded or written: an array of objects with a
 * non-empty string id (unique in the batch), a string text, an optional string title and an
 * optional plain-object metadata. INVALID_INPUT names the offending document.
 */
export function validateDocs(docs: unknown): asserts docs is Doc[] {
  if (!Array.isArray(docs)) invalid('Documents must be an array of { id, title?, text, metadata? }.');
  const seen = new Map<string, number>();
  docs.forEach((d: unknown, i) => {
    if (typeof d !== 'object' || d === null) invalid(`Document ${i} is not an object.`, { index: i });
    const doc = d as Partial<Doc>;
    if (typeof doc.id !== 'string' || doc.id === '') {
      invalid(`Document ${i} needs a non-empty string id (got ${JSON.stringify(doc.id)}).`, { index: i });
    }
    const prev = seen.get(doc.id);
    if (prev !== undefined)
      invalid(`Document id "${doc.id}" appears twice in this batch (documents ${prev} and ${i}).`, {
        id: doc.id,
        index: i,
      });
    seen.set(doc.id, i);
    if (typeof doc.text !== 'string')
      invalid(`Document "${doc.id}" (index ${i}) needs a string text.`, { id: doc.id, index: i });
    if (doc.title !== undefined && typeof doc.title !== 'string') {
      invalid(`The title of document "${doc.id}" (index ${i}) must be a string.`, { id: doc.id, index: i });
    }
    if (
      doc.metadata !== undefined &&
      (typeof doc.metadata !== 'object' || doc.metadata === null || Array.isArray(doc.metadata))
    ) {
      invalid(`The metadata of document "${doc.id}" (index ${i}) must be a plain object.`, { id: doc.id, index: i });
    }
  });
}

/** The encoder's input for a document: `title + " " + text` (Contriever/BEIR convention). */
export function docText(d: Doc | Pick<Doc, 'title' | 'text'>): string {
  return d.title ? `${d.title} ${d.text}` : d.text;
}

/** True when a stored document has exactly this content (title, text, metadata). */
export function sameContent(a: Doc | undefined, b: Doc): boolean {
  if (!a) return false;
  return (
    a.text === b.text &&
    (a.title ?? undefined) === (b.title ?? undefined) &&
    JSON.stringify(a.metadata ?? null) === JSON.stringify(b.metadata ?? null)
  );
}

/** Just the Doc fields of a record that carries more (e.g. the store's slot). */
export function toDoc(rec: Doc): Doc {
  const d: Doc = { id: rec.id, text: rec.text };
  if (rec.title !== undefined) d.title = rec.title;
  if (rec.metadata !== undefined) d.metadata = rec.metadata;
  return d;
}

/**
 * What to show as a document's title: its title, else its first words (`words`, then "…"), else
 * its id. Most documents of some corpora have no title (445 of the demo's 600 WikiQA documents).
 */
export function displayTitle(d: Pick<Doc, 'id' | 'title' | 'text'>, words = 10): string {
  if (d.title?.trim()) return d.title;
  const w = d.text.trim().split(/\s+/).filter(Boolean);
  if (w.length === 0) return d.id;
  return w.length > words ? `${w.slice(0, words).join(' ')}…` : w.join(' ');
}
