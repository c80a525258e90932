/**
 * The filter language: the columnar mask (src/filter/mask.ts) against a brute-force reading of
 * the same filter over plain metadata objects, on random documents and random filters; and the
 * one validation (src/filter/check.ts): an undeclared field or a value of another type is
 * INVALID_INPUT naming the field.
 */
import { describe, expect, it } from 'vitest';
import { isRouterRetrieverError } from '../src/boundary/errors.js';
import { checkFilter } from '../src/filter/check.js';
import { FieldColumns } from '../src/filter/columns.js';
import { checkDocFields, checkFilterable } from '../src/filter/fields.js';
import { filterMask } from '../src/filter/mask.js';
import type { Filter } from '../src/types.js';

type Meta = Record<string, unknown>;

/** The reference: the filter read literally, one plain object at a time. */
function bruteMatch(f: Filter, md: Meta | undefined): boolean {
  return Object.entries(f).every(([key, c]) => {
    if (c === undefined) return true;
    if (key === 'and') return (c as Filter[]).every((x) => bruteMatch(x, md));
    if (key === 'or') return (c as Filter[]).some((x) => bruteMatch(x, md));
    const v = md?.[key];
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return false;
    if (typeof c !== 'object' || c === null) return v === c;
    const o = c as { eq?: unknown; in?: unknown[]; gt?: number; gte?: number; lt?: number; lte?: number };
    if (o.eq !== undefined && v !== o.eq) return false;
    if (o.in !== undefined && !o.in.includes(v)) return false;
    const ranged = [o.gt, o.gte, o.lt, o.lte].some((b) => b !== undefined);
    if (ranged && typeof v !== 'number') return false;
    if (o.gt !== undefined && !((v as number) > o.gt)) return false;
    if (o.gte !== undefined && !((v as number) >= o.gte)) return false;
    if (o.lt !== undefined && !((v as number) < o.lt)) return false;
    if (o.lte !== undefined && !((v as number) <= o.lte)) return false;
    return true;
  });
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
}

const schema = checkFilterable({ lang: 'string', year: 'number', reviewed: 'boolean', tag: 'any' });
const LANGS = ['en', 'de', 'fr', 'es'];
const TAGS: unknown[] = ['x', 'y', 3, 7, true, false];

function randomMeta(r: () => number): Meta | undefined {
  if (r() < 0.05) return undefined;
  const md: Meta = {};
  if (r() < 0.9) md.lang = LANGS[Math.floor(r() * LANGS.length)];
  if (r() < 0.9) md.year = 1990 + Math.floor(r() * 35) + (r() < 0.2 ? 0.5 : 0);
  if (r() < 0.8) md.reviewed = r() < 0.5;
  if (r() < 0.8) md.tag = TAGS[Math.floor(r() * TAGS.length)];
  if (r() < 0.05) md.year = null;
  return md;
}

function randomLeaf(r: () => number): Filter {
  const which = Math.floor(r() * 7);
  const y = () => 1990 + Math.floor(r() * 36);
  switch (which) {
    case 0:
      return { lang: LANGS[Math.floor(r() * 5) % 4] };
    case 1:
      return { lang: { in: LANGS.filter(() => r() < 0.4).concat(r() < 0.3 ? ['zz'] : []) } };
    case 2:
      return { year: { gte: y(), ...(r() < 0.5 ? { lt: y() + 10 } : {}) } };
    case 3:
      return { year: { gt: y(), lte: y() + 5, ...(r() < 0.3 ? { in: [y(), y(), 2000] } : {}) } };
    case 4:
      return { reviewed: r() < 0.5 };
    case 5:
      return { tag: { in: TAGS.filter(() => r() < 0.4) as (string | number | boolean)[] } };
    default:
      return { tag: r() < 0.5 ? { gte: 4 } : { eq: TAGS[Math.floor(r() * TAGS.length)] as string } };
  }
}

function randomFilter(r: () => number, depth = 0): Filter {
  const x = r();
  if (depth >= 3 || x < 0.4) return randomLeaf(r);
  const kids = Array.from({ length: Math.floor(r() * 4) }, () => randomFilter(r, depth + 1));
  if (x < 0.6) return { and: kids };
  if (x < 0.8) return { or: kids };
  return { ...randomLeaf(r), ...randomLeaf(r), or: kids }; // several keys: all must hold
}

describe('filter mask', () => {
  it('equals the brute-force filter over plain objects (2,000 random filters on 3,000 documents)', () => {
    const r = rng(7);
    const metas = Array.from({ length: 3000 }, () => randomMeta(r));
    const cols = new FieldColumns(schema);
    // Rows in a scattered order, some written twice: columns are set row by row, like the live index.
    const order = metas.map((_, i) => i).sort(() => r() - 0.5);
    for (const i of order) cols.setRow(i, { lang: 'zz', year: -1 });
    for (const i of order) cols.setRow(i, metas[i] ?? null);
    let matched = 0;
    let none = 0;
    for (let t = 0; t < 2000; t++) {
      const f = randomFilter(r);
      const mask = filterMask(checkFilter(f, schema)!, cols, metas.length + 5);
      const want = metas.map((m) => (bruteMatch(f, m) ? 1 : 0));
      expect([...mask.subarray(0, metas.length)], JSON.stringify(f)).toEqual(want);
      // Rows past the columns read as a document without metadata (free rows have no id and are skipped anyway).
      expect([...mask.subarray(metas.length)]).toEqual(new Array(5).fill(bruteMatch(f, undefined) ? 1 : 0));
      const n = want.reduce((a: number, b) => a + b, 0);
      matched += n > 0 && n < metas.length ? 1 : 0;
      none += n === 0 ? 1 : 0;
    }
    // The random filters are not degenerate: most select a proper, non-empty part.
    expect(matched).toBeGreaterThan(1000);
    expect(none).toBeLessThan(900);
  });

  it('{} and { and: [] } match every row, { or: [] } none', () => {
    const cols = FieldColumns.load(schema, { lang: ['en', null, 'de'] });
    expect([...filterMask(checkFilter({}, schema)!, cols, 3)]).toEqual([1, 1, 1]);
    expect([...filterMask(checkFilter({ and: [] }, schema)!, cols, 3)]).toEqual([1, 1, 1]);
    expect([...filterMask(checkFilter({ or: [] }, schema)!, cols, 3)]).toEqual([0, 0, 0]);
    expect([...filterMask(checkFilter({ lang: { in: ['de', 'en'] } }, schema)!, cols, 3)]).toEqual([1, 0, 1]);
  });
});

function invalidField(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (isRouterRetrieverError(e, 'INVALID_INPUT')) return String(e.details.field);
    throw e;
  }
  throw new Error('expected INVALID_INPUT');
}

describe('filter validation', () => {
  it('refuses an undeclared field, naming it and the declared ones', () => {
    expect(invalidField(() => checkFilter({ country: 'fr' }, schema))).toBe('country');
    expect(invalidField(() => checkFilter({ or: [{ lang: 'en' }, { and: [{ colour: 'red' }] }] }, schema))).toBe(
      'colour',
    );
    expect(() => checkFilter({ country: 'fr' }, schema)).toThrow(/"country" is not a filterable field.*lang, year/);
    // Inherited names are not fields.
    expect(invalidField(() => checkFilter({ constructor: 'x' }, schema))).toBe('constructor');
  });

  it('refuses a value of another type than the field, naming the field', () => {
    expect(invalidField(() => checkFilter({ year: '2020' }, schema))).toBe('year');
    expect(invalidField(() => checkFilter({ year: { gte: '2020' as unknown as number } }, schema))).toBe('year');
    expect(invalidField(() => checkFilter({ lang: { gt: 3 } }, schema))).toBe('lang');
    expect(invalidField(() => checkFilter({ lang: { in: ['en', 3] } }, schema))).toBe('lang');
    expect(invalidField(() => checkFilter({ reviewed: 'yes' }, schema))).toBe('reviewed');
    expect(invalidField(() => checkFilter({ tag: { gt: 'a' as unknown as number } }, schema))).toBe('tag');
    expect(invalidField(() => checkFilter({ tag: [1, 2] as unknown as number }, schema))).toBe('tag');
    expect(invalidField(() => checkFilter({ year: Number.NaN }, schema))).toBe('year');
    expect(invalidField(() => checkFilter({ year: { between: [1, 2] } as never }, schema))).toBe('year');
    expect(invalidField(() => checkFilter({ year: {} }, schema))).toBe('year');
    expect(invalidField(() => checkFilter({ and: { lang: 'en' } as never }, schema))).toBe('and');
  });

  it('checks the declaration and the documents of typed fields', () => {
    expect(checkFilterable(['lang', 'year'])).toEqual({ lang: 'any', year: 'any' });
    expect(invalidField(() => checkFilterable(['lang', 'lang']))).toBe('lang');
    expect(invalidField(() => checkFilterable(['or']))).toBe('or');
    expect(invalidField(() => checkFilterable({ year: 'date' }))).toBe('year');
    expect(invalidField(() => checkDocFields([{ id: 'a', text: '', metadata: { year: '1999' } }], schema))).toBe(
      'year',
    );
    expect(invalidField(() => checkDocFields([{ id: 'a', text: '', metadata: { tag: ['x'] } }], schema))).toBe('tag');
    // Absent, null and undeclared fields are fine.
    checkDocFields(
      [
        { id: 'a', text: '', metadata: { year: null, other: { deep: 1 } } },
        { id: 'b', text: '' },
      ],
      schema,
    );
  });
});
