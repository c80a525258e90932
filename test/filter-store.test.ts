/**
 * Filterable fields in IndexedDB (fake-indexeddb): the field columns are committed with the
 * documents (a rejected write leaves none behind), follow upserts and deletes, survive a reopen,
 * are rebuilt from the stored documents when the declaration changes, and a v3 database opens at
 * v4 with its documents.
 */
import { testStores } from './helpers/test-stores.js';
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { isRouterRetrieverError } from '../src/boundary/errors.js';
import type { Doc } from '../src/doc.js';
import { LEXICAL_DEFAULTS } from '../src/lexical/lexical-index.js';
import { MIGRATIONS, dbName, type CollectionDB } from '../src/store/index.js';

const { fresh, mk } = testStores('fields');

const doc = (i: number, metadata?: Doc['metadata']): Doc => ({ id: `d${i}`, text: `text ${i}`, metadata });
const vec = (i: number) => new Float32Array([i, 1]);
const LANGS = ['en', 'de', 'fr'];
const meta = (i: number) => ({ lang: LANGS[i % 3], year: 2000 + i, note: { free: 'form' } });

async function invalidField(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    if (isRouterRetrieverError(e, 'INVALID_INPUT')) return e.details.field;
    throw e;
  }
  throw new Error('expected INVALID_INPUT');
}

describe('filterable fields in the store', () => {
  it('commits the columns with the documents; upsert, delete and reopen keep them in step', async () => {
    const name = fresh();
    const s = await mk(name, { filterable: { lang: 'string', year: 'number' } });
    await s.putDocs(
      Array.from({ length: 6 }, (_, i) => doc(i, meta(i))),
      Array.from({ length: 6 }, (_, i) => vec(i)),
    );
    await s.putDocs([doc(7)], [vec(7)]); // no metadata: no values
    expect((await s.loadIndex()).fields).toEqual({
      lang: ['en', 'de', 'fr', 'en', 'de', 'fr', null],
      year: [2000, 2001, 2002, 2003, 2004, 2005, null],
    });
    await s.putDocs([doc(1, { lang: 'es' })], [vec(1)]); // same slot, new values (year gone)
    await s.deleteDocs(['d4']);
    s.close();
    const r = await mk(name); // the declaration is stored
    expect(r.meta.filterable).toEqual({ lang: 'string', year: 'number' });
    expect((await r.loadIndex()).fields).toEqual({
      lang: ['en', 'es', 'fr', 'en', null, 'fr', null],
      year: [2000, null, 2002, 2003, null, 2005, null],
    });
    await r.putDocs([doc(9, { lang: 'de', year: 1999 })], [vec(9)]); // reuses the freed slot 4
    expect((await r.loadIndex()).fields.year[4]).toBe(1999);
  });

  it('a value of another type than its field is INVALID_INPUT naming it, and nothing of the write is stored', async () => {
    const s = await mk(fresh(), { filterable: { year: 'number' } });
    await s.putDocs([doc(0, { year: 2000 })], [vec(0)]);
    const field = await invalidField(s.putDocs([doc(1, { year: 2001 }), doc(2, { year: '2002' })], [vec(1), vec(2)]));
    expect(field).toBe('year');
    expect(s.meta.count).toBe(1);
    expect(await s.docCount()).toBe(1);
    expect((await s.loadIndex()).fields).toEqual({ year: [2000] });
  });

  it('another declaration rebuilds the columns from the stored documents; a misfit document refuses it', async () => {
    const name = fresh();
    const s = await mk(name);
    await s.putDocs(
      Array.from({ length: 5 }, (_, i) => doc(i, i === 2 ? { lang: 7 } : meta(i))),
      Array.from({ length: 5 }, (_, i) => vec(i)),
    );
    expect((await s.loadIndex()).fields).toEqual({});
    s.close();
    // d2's lang is a number: 'string' cannot be declared, 'any' can.
    expect(await invalidField(mk(name, { filterable: { lang: 'string' } }))).toBe('lang');
    const a = await mk(name, { filterable: ['lang', 'year'] });
    expect((await a.loadIndex()).fields).toEqual({
      lang: ['en', 'de', 7, 'en', 'de'],
      year: [2000, 2001, null, 2003, 2004],
    });
    a.close();
    const b = await mk(name, { filterable: { year: 'number' } });
    expect((await b.loadIndex()).fields).toEqual({ year: [2000, 2001, null, 2003, 2004] });
    expect(b.meta.filterable).toEqual({ year: 'number' });
  });

  it('opens a v3 database at v4 with its documents and no filterable fields', async () => {
    const name = fresh();
    const db = await openDB<CollectionDB>(dbName(name), 3, {
      upgrade(d, _o, _n, tx) {
        for (let v = 0; v < 3; v++) MIGRATIONS[v](d, tx as never);
      },
    });
    await db.put(
      'meta',
      {
        name,
        schemaVersion: 3,
        fingerprint: 'fp',
        dim: 2,
        dtype: 'float32',
        chunkSize: 4,
        count: 2,
        nextSlot: 2,
        freeSlots: [],
        createdAt: 1,
        updatedAt: 1,
        lexical: { ...LEXICAL_DEFAULTS },
        lexiconSize: 0,
        lexiconEpoch: 0,
      },
      'collection',
    );
    await db.put('docs', { ...doc(0, { lang: 'en' }), slot: 0 });
    await db.put('docs', { ...doc(1, { lang: 'de' }), slot: 1 });
    await db.put('vectors', { chunk: 0, ids: ['d0', 'd1', null, null], vectors: new Float32Array(8).buffer });
    db.close();
    const s = await mk(name);
    expect(s.meta).toMatchObject({ schemaVersion: 4, filterable: {}, count: 2 });
    expect((await s.getDoc('d1'))?.metadata).toEqual({ lang: 'de' });
    s.close();
    const f = await mk(name, { filterable: ['lang'] });
    expect((await f.loadIndex()).fields).toEqual({ lang: ['en', 'de'] });
  });
});
