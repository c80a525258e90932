/**
 * The service's request bodies, checked before any SQL runs: a bad request is a 400 (or 413)
 * with a message that names what is wrong, and nothing is written. Filters go through the SDK's
 * own check (src/filter/check.ts) against the fields the service declares filterable.
 */
import { isRouterRetrieverError } from '../src/boundary/errors.js';
import { type FilterNode, checkFilter } from '../src/filter/check.js';
import { type FieldSchema, checkDocFields } from '../src/filter/fields.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface Limits {
  dim: number;
  /** The largest k a search may ask for. */
  maxK: number;
  /** The most documents (or ids) one write may carry. */
  maxBatch: number;
  filterable: FieldSchema;
}

export interface SearchRequest {
  vector: number[];
  k: number;
  filter?: FilterNode;
  /** true: a sequential scan (the exact top k), not the HNSW index. */
  exact: boolean;
}

export interface DocRow {
  id: string;
  text: string;
  title: string | null;
  metadata: Record<string, unknown> | null;
  vector: number[];
}

const MAX_ID_LENGTH = 512;

function bad(message: string, details: Record<string, unknown> = {}): never {
  throw new HttpError(400, message, details);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function body(x: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (!isObject(x)) bad('The request body must be a JSON object.');
  const extra = Object.keys(x).find((k) => !allowed.includes(k));
  if (extra !== undefined) bad(`Unknown property "${extra}" (expected ${allowed.join(', ')}).`, { property: extra });
  return x;
}

export function checkVector(v: unknown, dim: number, label: string): number[] {
  if (!Array.isArray(v)) bad(`${label} must be an array of ${dim} numbers.`, { field: label });
  if (v.length !== dim)
    bad(`${label} has ${v.length} dimensions; this index holds ${dim}-dimensional vectors.`, {
      field: label,
      expected: dim,
      got: v.length,
    });
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== 'number' || !Number.isFinite(v[i]))
      bad(`${label}[${i}] must be a finite number, got ${JSON.stringify(v[i])}.`, { field: label, index: i });
  }
  return v as number[];
}

function checkId(id: unknown, label: string): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH)
    bad(`${label} must be a non-empty string of at most ${MAX_ID_LENGTH} characters.`, { field: label });
  return id;
}

export function parseSearch(x: unknown, lim: Limits): SearchRequest {
  const b = body(x, ['vector', 'k', 'filter', 'exact']);
  const vector = checkVector(b.vector, lim.dim, 'vector');
  const k = b.k ?? 10;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > lim.maxK)
    bad(`k must be an integer from 1 to ${lim.maxK}, got ${JSON.stringify(b.k)}.`, { field: 'k', maxK: lim.maxK });
  if (b.exact !== undefined && typeof b.exact !== 'boolean') bad('exact must be a boolean.', { field: 'exact' });
  let filter: FilterNode | undefined;
  try {
    filter = b.filter === undefined || b.filter === null ? undefined : checkFilter(b.filter, lim.filterable);
  } catch (e) {
    if (isRouterRetrieverError(e))
      bad(
        e.message.replace('Declare it in open({ filterable }).', 'The service declares them in FILTERABLE.'),
        e.details,
      );
    throw e;
  }
  return { vector, k, filter, exact: b.exact === true };
}

export function parseUpsert(x: unknown, lim: Limits): DocRow[] {
  const b = body(x, ['docs']);
  if (!Array.isArray(b.docs) || b.docs.length === 0) bad('docs must be a non-empty array.', { field: 'docs' });
  if (b.docs.length > lim.maxBatch)
    bad(`docs holds ${b.docs.length} documents; at most ${lim.maxBatch} per request.`, { field: 'docs' });
  const seen = new Set<string>();
  const rows = b.docs.map((d: unknown, i: number): DocRow => {
    const at = `docs[${i}]`;
    if (!isObject(d)) bad(`${at} must be an object { id, vector, text?, title?, metadata? }.`, { index: i });
    const id = checkId(d.id, `${at}.id`);
    if (seen.has(id)) bad(`${at}.id "${id}" appears twice in one request.`, { index: i, id });
    seen.add(id);
    if (d.text !== undefined && typeof d.text !== 'string') bad(`${at}.text must be a string.`, { index: i });
    // PostgreSQL text cannot hold NUL; refused here, before the transaction.
    for (const key of ['id', 'text', 'title'] as const)
      if (typeof d[key] === 'string' && (d[key] as string).includes('\u0000'))
        bad(`${at}.${key} contains a NUL character, which PostgreSQL text cannot store.`, { index: i, field: key });
    if (d.title !== undefined && d.title !== null && typeof d.title !== 'string')
      bad(`${at}.title must be a string.`, { index: i });
    if (d.metadata !== undefined && d.metadata !== null && !isObject(d.metadata))
      bad(`${at}.metadata must be an object.`, { index: i });
    if (d.metadata && JSON.stringify(d.metadata).includes('\\u0000'))
      bad(`${at}.metadata contains a NUL character, which PostgreSQL jsonb cannot store.`, { index: i });
    return {
      id,
      text: (d.text as string | undefined) ?? '',
      title: (d.title as string | null | undefined) ?? null,
      metadata: (d.metadata as Record<string, unknown> | null | undefined) ?? null,
      vector: checkVector(d.vector, lim.dim, `${at}.vector`),
    };
  });
  try {
    checkDocFields(
      rows.map((r) => ({ id: r.id, text: r.text, metadata: r.metadata ?? undefined })),
      lim.filterable,
    );
  } catch (e) {
    if (isRouterRetrieverError(e)) bad(e.message, e.details);
    throw e;
  }
  return rows;
}

/** { ids }: a delete's or a lookup's body. */
export function parseDelete(x: unknown, lim: Limits): string[] {
  const b = body(x, ['ids']);
  if (!Array.isArray(b.ids) || b.ids.length === 0) bad('ids must be a non-empty array of strings.', { field: 'ids' });
  if (b.ids.length > lim.maxBatch) bad(`ids holds ${b.ids.length} ids; at most ${lim.maxBatch} per request.`);
  return [...new Set(b.ids.map((id: unknown, i: number) => checkId(id, `ids[${i}]`)))];
}
