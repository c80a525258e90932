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
    if (doc.metadata !== undefined) {
      if (!isPlainObject(doc.metadata))
        invalid(`The metadata of document "${doc.id}" (index ${i}) must be a plain object.`, { id: doc.id, index: i });
      const bad = plainDataProblem(doc.metadata, 'metadata', new Set());
      if (bad)
        invalid(
          `The ${bad.path} of document "${doc.id}" (index ${i}) ${bad.problem}: metadata must be plain JSON data (strings, finite numbers, booleans, null, arrays and plain objects), so that it can be stored, exported and imported unchanged.`,
          { id: doc.id, index: i, field: bad.path },
        );
    }
  });
}

/** Nesting deeper than this is refused (a guard for the recursive check and for JSON export). */
const MAX_METADATA_DEPTH = 64;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/**
 * Why a value is not plain JSON data (a cycle, a BigInt, a function, a symbol, undefined, a
 * non-finite number, a class instance such as a Date, Map or DOM node), with the path to it;
 * null when it is. Such values used to be stored on the first add and then break a re-add
 * (TypeError) or every export.
 */
function plainDataProblem(
  v: unknown,
  path: string,
  open: Set<object>,
  depth = 0,
): { path: string; problem: string } | null {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(v) ? null : { path, problem: `is ${v} (not a finite number)` };
    case 'object': {
      if (v === null) return null;
      if (depth >= MAX_METADATA_DEPTH) return { path, problem: `is nested deeper than ${MAX_METADATA_DEPTH} levels` };
      if (open.has(v)) return { path, problem: 'refers back to itself (a cycle)' };
      const isArray = Array.isArray(v);
      if (!isArray && !isPlainObject(v))
        return { path, problem: `is a ${Object.prototype.toString.call(v).slice(8, -1)} object, not plain data` };
      open.add(v);
      const entries = isArray ? (v as unknown[]).map((x, i) => [String(i), x] as const) : Object.entries(v);
      for (const [key, x] of entries) {
        const bad = plainDataProblem(x, isArray ? `${path}[${key}]` : `${path}.${key}`, open, depth + 1);
        if (bad) return bad;
      }
      open.delete(v);
      return null;
    }
    default:
      return { path, problem: `is a ${typeof v}` };
  }
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
