/**
 * The declaration of filterable metadata fields (OpenOptions.filterable) and the one rule for
 * what a document holds in such a field: a string, a finite number or a boolean, of the declared
 * type; absent or null is "no value". Checked before a write is embedded and again inside its
 * transaction (src/store/fields.ts), so a stored column never holds a value of another type.
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import type { Doc } from '../doc.js';
import type { FilterFieldType, FilterScalar } from '../types.js';

/** Field name -> type, in declaration order. */
export type FieldSchema = Readonly<Record<string, FilterFieldType>>;

/** More fields than this is refused: each is a column in memory and in every field chunk. */
export const MAX_FILTERABLE = 64;

const TYPES: readonly FilterFieldType[] = ['string', 'number', 'boolean', 'any'];

function invalid(msg: string, details: Record<string, unknown> = {}): never {
  throw new RouterRetrieverError('INVALID_INPUT', msg, details);
}

/** `filterable` as given to open(): names (type 'any') or names with types; INVALID_INPUT names the entry. */
export function checkFilterable(decl: unknown, label = 'filterable'): FieldSchema {
  const entries: [unknown, unknown][] = Array.isArray(decl)
    ? decl.map((n) => [n, 'any'])
    : typeof decl === 'object' && decl !== null
      ? Object.entries(decl)
      : invalid(`${label} must be an array of field names or an object { field: type }, got ${String(decl)}.`, {
          field: label,
        });
  if (entries.length > MAX_FILTERABLE)
    invalid(`${label} declares ${entries.length} fields; at most ${MAX_FILTERABLE}.`);
  const out: Record<string, FilterFieldType> = {};
  for (const [name, type] of entries) {
    if (typeof name !== 'string' || name === '')
      invalid(`${label}: a field name must be a non-empty string, got ${JSON.stringify(name)}.`, { field: label });
    if (name === 'and' || name === 'or')
      invalid(`${label}: "${name}" is reserved by the filter language and cannot be a field name.`, { field: name });
    if (Object.hasOwn(out, name)) invalid(`${label}: field "${name}" is declared twice.`, { field: name });
    if (!TYPES.includes(type as FilterFieldType))
      invalid(
        `${label}: the type of field "${name}" must be one of ${TYPES.join(', ')}, got ${JSON.stringify(type)}.`,
        {
          field: name,
        },
      );
    out[name] = type as FilterFieldType;
  }
  return out;
}

export function sameSchema(a: FieldSchema, b: FieldSchema): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k, i) => Object.keys(b)[i] === k && a[k] === b[k]);
}

/** A value's filter type, or null when it cannot be filtered on (an array, an object, a non-finite number). */
export function scalarType(v: unknown): 'string' | 'number' | 'boolean' | null {
  if (typeof v === 'string' || typeof v === 'boolean') return typeof v as 'string' | 'boolean';
  if (typeof v === 'number' && Number.isFinite(v)) return 'number';
  return null;
}

/** What a document holds in a field: its value, or null (absent, null, or not of the field's type). */
export function fieldValue(metadata: Doc['metadata'], field: string, type: FilterFieldType): FilterScalar | null {
  if (!metadata || !Object.hasOwn(metadata, field)) return null;
  const v = metadata[field];
  const t = scalarType(v);
  return t !== null && (type === 'any' || type === t) ? (v as FilterScalar) : null;
}

/** INVALID_INPUT naming the document and the field when a declared field holds a value of another type. */
export function checkDocFields(docs: readonly Doc[], schema: FieldSchema): void {
  const fields = Object.entries(schema);
  if (fields.length === 0) return;
  docs.forEach((d, i) => {
    const md = d.metadata;
    if (!md) return;
    for (const [field, type] of fields) {
      if (!Object.hasOwn(md, field)) continue;
      const v = md[field];
      if (v === null || v === undefined) continue;
      const t = scalarType(v);
      if (t === null || (type !== 'any' && t !== type)) {
        const want = type === 'any' ? 'a string, number or boolean' : `a ${type}`;
        invalid(
          `The metadata.${field} of document "${d.id}" (index ${i}) must be ${want} (it is a filterable field), got ${JSON.stringify(v)}.`,
          { id: d.id, index: i, field },
        );
      }
    }
  });
}
