/**
 * Filtered search: the exact top k among the matching documents in the dense, lexical and hybrid
 * modes (src/retriever/query.ts with a fake encoder and the in-memory store), the same through
 * both vector indexes and both scan paths (sparse masks scored run by run, dense ones whole),
 * and the typed errors that name the field.
 */
import { describe, expect, it } from 'vitest';
import { isRouterRetrieverError } from '../src/boundary/errors.js';
import { docText, type Doc } from '../src/doc.js';
import { fuse } from '../src/hybrid/fusion.js';
import { Indexing } from '../src/retriever/indexing.js';
import { LiveIndex } from '../src/retriever/live-index.js';
import { QueryEngine } from '../src/retriever/query.js';
import { Int8Index } from '../src/search/int8-index.js';
import { SearchIndex } from '../src/search/search-index.js';
import { compareHits, type Hit } from '../src/search/types.js';
import type { Filter, SearchMode } from '../src/types.js';
import { FakeEncoder, MemoryStore, fakeEmbedding, NO_EXPERTS } from './helpers/fakes.js';

const WORDS = 'vitamin fracture bone heart risk adults calcium roman empire quantum density exercise'.split(' ');
const LANGS = ['en', 'de', 'fr'];

function makeDocs(n: number): Doc[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `d${String(i).padStart(3, '0')}`,
    text: `${WORDS[i % 12]} ${WORDS[(i * 5 + 1) % 12]} ${WORDS[(i * 7 + 3) % 12]} ${'x'.repeat(i % 4)}`,
    ...(i % 10 === 9 ? {} : { metadata: { lang: LANGS[i % 3], year: 1990 + (i % 35), reviewed: i % 4 === 0 } }),
  }));
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

async function setup(int8: boolean, n = 300) {
  const encoder = new FakeEncoder();
  const store = new MemoryStore();
  store.meta = { ...store.meta, filterable: { lang: 'string', year: 'number', reviewed: 'boolean' } };
  const live = await LiveIndex.load(store, int8);
  const indexing = new Indexing({ encoder, store, live, changed: () => undefined });
  const query = new QueryEngine({
    encoder,
    store,
    live,
    ...NO_EXPERTS,
  });
  const docs = makeDocs(n);
  await indexing.upsert(docs, 64);
  return { encoder, store, live, indexing, query, docs };
}

/** A filter read directly on one document's metadata (the fields used below). */
function matches(d: Doc, f: Filter): boolean {
  const m = d.metadata as { lang?: string; year?: number; reviewed?: boolean } | undefined;
  const leaf = (key: string, c: unknown): boolean => {
    const v = (m as Record<string, unknown> | undefined)?.[key];
    if (v === undefined) return false;
    if (typeof c !== 'object') return v === c;
    const o = c as { in?: unknown[]; gte?: number; lt?: number };
    return (
      (o.in === undefined || o.in.includes(v)) &&
      (o.gte === undefined || (v as number) >= o.gte) &&
      (o.lt === undefined || (v as number) < o.lt)
    );
  };
  return Object.entries(f).every(([k, c]) =>
    k === 'or'
      ? (c as Filter[]).some((x) => matches(d, x))
      : k === 'and'
        ? (c as Filter[]).every((x) => matches(d, x))
        : leaf(k, c),
  );
}

const FILTERS: Filter[] = [
  { lang: 'de' }, // a third
  { year: { gte: 2000, lt: 2003 } }, // about 9 %
  { lang: 'fr', year: 1994 }, // a few documents (fewer than k = 10 at times)
  { or: [{ lang: { in: ['en'] }, reviewed: true }, { year: 2020 }] },
  { year: 1800 }, // none
];

describe('filtered search', () => {
  for (const int8 of [false, true]) {
    it(`returns the exact top k among the matching documents in every mode (${int8 ? 'int8' : 'float32'} index)`, async () => {
      const { query, live, docs } = await setup(int8);
      const q = 'vitamin fracture risk adults';
      const qv = fakeEmbedding(q, null);
      const allDense = docs
        .map((d) => ({ id: d.id, score: dot(fakeEmbedding(docText(d), null), qv) }))
        .sort(compareHits);
      const allLexical = live.lexical.search(q, docs.length);
      for (const f of FILTERS) {
        const ok = new Set(docs.filter((d) => matches(d, f)).map((d) => d.id));
        const only = (hs: Hit[], n: number) => hs.filter((h) => ok.has(h.id)).slice(0, n);
        for (const k of [1, 10, 40]) {
          const run = async (mode: SearchMode) =>
            (await query.search(q, { k, mode, filter: f, fusion: { method: 'convex', weight: 0.5 } })).hits.map(
              (h) => ({ id: h.id, score: h.score }),
            );
          const dense = await run('dense');
          expect(dense, `dense ${JSON.stringify(f)} k ${k}`).toEqual(only(allDense, k));
          expect(dense.length).toBe(Math.min(k, ok.size)); // every matching document has a dense score
          expect(await run('lexical'), `lexical ${JSON.stringify(f)}`).toEqual(only(allLexical, k));
          const hybrid = fuse(only(allDense, 100), only(allLexical, 100), k, {
            method: 'convex',
            weight: 0.5,
            depth: 100,
          });
          expect(await run('hybrid'), `hybrid ${JSON.stringify(f)}`).toEqual(
            hybrid.map((h) => ({ id: h.id, score: h.score })),
          );
        }
      }
    });
  }

  it('follows upserts and deletes; a value of another type is refused before anything is embedded', async () => {
    const { query, indexing, encoder } = await setup(false, 60);
    const de = async () =>
      (await query.search('bone', { k: 100, mode: 'dense', filter: { lang: 'de' } })).hits.map((h) => h.id);
    expect(await de()).toContain('d001');
    await indexing.upsert([{ id: 'd001', text: 'bone', metadata: { lang: 'en' } }], 8);
    await indexing.delete(['d004']);
    const after = await de();
    expect(after).not.toContain('d001');
    expect(after).not.toContain('d004');
    expect(after).toContain('d007');
    const before = encoder.embedded.length;
    let field: unknown;
    await indexing.upsert([{ id: 'n1', text: 'new', metadata: { year: '2001' } }], 8).catch((e) => {
      if (isRouterRetrieverError(e, 'INVALID_INPUT')) field = e.details.field;
    });
    expect(field).toBe('year');
    expect(encoder.embedded.length).toBe(before);
  });

  it('a filter on an undeclared field or with a value of another type is INVALID_INPUT naming the field', async () => {
    const { query } = await setup(false, 10);
    const fieldOf = async (filter: unknown, mode: SearchMode = 'hybrid') => {
      try {
        await query.search('bone', { filter: filter as Filter, mode });
      } catch (e) {
        if (isRouterRetrieverError(e, 'INVALID_INPUT')) return e.details.field;
        throw e;
      }
      return 'no error';
    };
    expect(await fieldOf({ country: 'de' })).toBe('country');
    expect(await fieldOf({ year: { gte: '2000' } }, 'lexical')).toBe('year');
    expect(await fieldOf({ or: [{ lang: 3 }] }, 'dense')).toBe('lang');
    expect(await fieldOf({ reviewed: { lt: 1 } })).toBe('reviewed');
  });
});

describe('masked scans', () => {
  function rng(seed: number) {
    let s = seed >>> 0;
    return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
  }
  const rows = 5000;
  const dim = 32;
  const r = rng(3);
  const vecs = Array.from({ length: rows }, () => Float32Array.from({ length: dim }, () => r() - 0.5));
  const ids = vecs.map((_, i) => `v${i}`);
  const query = Float32Array.from({ length: dim }, () => r() - 0.5);
  // Densities on both sides of the run-by-run threshold (1 in 8), and clustered runs.
  const masks = [0.5, 0.05, 0.001].map((p) => Uint8Array.from({ length: rows }, () => (r() < p ? 1 : 0)));
  masks.push(Uint8Array.from({ length: rows }, (_, i) => (i % 700 < 30 ? 1 : 0)));
  masks.push(new Uint8Array(rows - 100).fill(1)); // shorter than the index: the rest matches nothing

  for (const backend of ['js', 'wasm'] as const) {
    it(`float32 (${backend}) and int8 (${backend}) give the exact filtered top k`, async () => {
      const f32 = new SearchIndex(dim, { backend });
      const i8 = new Int8Index(dim, { backend, floatBlock: 1024 });
      vecs.forEach((v, i) => {
        f32.setRow(i, ids[i], v);
        i8.setRow(i, ids[i], v);
      });
      f32.setRow(7, null); // a free row never comes back, mask or not
      i8.setRow(7, null);
      const all = f32.search(query, rows);
      for (const mask of masks) {
        for (const k of [1, 10, 100]) {
          const want = all.filter((h) => mask[Number(h.id.slice(1))] === 1).slice(0, k);
          expect(f32.search(query, k, { mask })).toEqual(want);
          expect(await f32.searchAsync(query, k, { mask, yieldEvery: 1024 })).toEqual(want);
          const got8 = await i8.searchAsync(query, k, { mask });
          expect(got8.map((h) => h.id)).toEqual(want.map((h) => h.id));
        }
      }
    });
  }
});
