/**
 * The one validation of search()'s `filter`: its shape and every field against the declared
 * schema (./fields.ts). The result is a normalised tree that ./mask.ts evaluates; INVALID_INPUT
 * names the field (details.field) that is undeclared or compared with a value of another type.
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import type { FilterFieldType, FilterScalar } from '../types.js';
import { type FieldSchema, scalarType } from './fields.js';

/** One field's condition: every operator given must hold (`values`: eq and in, intersected). */
export interface FieldTest {
  op: 'field';
  field: string;
  /** Allowed values (eq, in); undefined = any value. */
  values?: FilterScalar[];
  /** Numeric bounds; a bound set means only numbers can match. */
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

export type FilterNode = { op: 'and' | 'or'; of: FilterNode[] } | FieldTest;

/** Nesting deeper than this is refused (the checker and the mask recurse). */
export const MAX_FILTER_DEPTH = 32;

const OPERATORS = new Set(['eq', 'in', 'gt', 'gte', 'lt', 'lte']);
const BOUNDS = ['gt', 'gte', 'lt', 'lte'] as const;

function invalid(msg: string, field: string): never {
  throw new RouterRetrieverError('INVALID_INPUT', msg, { field });
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const p = Object.getPrototypeOf(x);
  return p === Object.prototype || p === null;
}

function checkValue(v: unknown, field: string, type: FilterFieldType, op: string): FilterScalar {
  const t = scalarType(v);
  if (t === null)
    invalid(`filter.${field}: ${op} needs a string, a finite number or a boolean, got ${JSON.stringify(v)}.`, field);
  if (type !== 'any' && t !== type)
    invalid(`filter.${field}: "${field}" is a ${type} field; ${op} got the ${t} ${JSON.stringify(v)}.`, field);
  return v as FilterScalar;
}

function fieldTest(field: string, cond: unknown, schema: FieldSchema): FieldTest {
  if (!Object.hasOwn(schema, field)) {
    const declared = Object.keys(schema);
    invalid(
      `filter: "${field}" is not a filterable field (declared: ${declared.length ? declared.join(', ') : 'none'}). Declare it in open({ filterable }).`,
      field,
    );
  }
  const type = schema[field];
  if (!isPlainObject(cond)) return { op: 'field', field, values: [checkValue(cond, field, type, 'equality')] };
  const keys = Object.keys(cond);
  if (keys.length === 0) invalid(`filter.${field}: a condition needs at least one of eq, in, gt, gte, lt, lte.`, field);
  const bad = keys.find((k) => !OPERATORS.has(k));
  if (bad !== undefined) invalid(`filter.${field}: unknown operator "${bad}" (use eq, in, gt, gte, lt or lte).`, field);
  const test: FieldTest = { op: 'field', field };
  if (cond.eq !== undefined) test.values = [checkValue(cond.eq, field, type, 'eq')];
  if (cond.in !== undefined) {
    if (!Array.isArray(cond.in)) invalid(`filter.${field}: in needs an array of values.`, field);
    const list = cond.in.map((v) => checkValue(v, field, type, 'in'));
    test.values = test.values ? test.values.filter((v) => list.includes(v)) : [...new Set(list)];
  }
  for (const b of BOUNDS) {
    const x = cond[b];
    if (x === undefined) continue;
    if (type !== 'number' && type !== 'any')
      invalid(`filter.${field}: "${field}" is a ${type} field; ${b} needs a number field.`, field);
    if (typeof x !== 'number' || !Number.isFinite(x))
      invalid(`filter.${field}: ${b} needs a finite number, got ${JSON.stringify(x)}.`, field);
    test[b] = x;
  }
  return test;
}

function node(f: unknown, schema: FieldSchema, path: string, depth: number): FilterNode {
  if (!isPlainObject(f)) invalid(`${path} must be an object of field conditions, and, or.`, path);
  if (depth > MAX_FILTER_DEPTH) invalid(`${path} is nested deeper than ${MAX_FILTER_DEPTH} levels.`, path);
  const of: FilterNode[] = [];
  for (const [key, v] of Object.entries(f)) {
    if (v === undefined) continue;
    if (key === 'and' || key === 'or') {
      if (!Array.isArray(v)) invalid(`${path}.${key} must be an array of filters.`, key);
      of.push({ op: key, of: v.map((x, i) => node(x, schema, `${path}.${key}[${i}]`, depth + 1)) });
    } else of.push(fieldTest(key, v, schema));
  }
  return of.length === 1 ? of[0] : { op: 'and', of };
}

/** The checked form of a filter (undefined: no filter). */
export function checkFilter(filter: unknown, schema: FieldSchema): FilterNode | undefined {
  if (filter === undefined) return undefined;
  return node(filter, schema, 'filter', 0);
}
