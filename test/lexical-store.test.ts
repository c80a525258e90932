/**
 * The lexical index in IndexedDB (fake-indexeddb): term vectors and the lexicon committed with
 * the documents and vectors, failed transactions leaving both indexes as they were, reopening
 * without analyzing any document, the v2 -> v3 migration, lexical options, export/import.
 */
import { expectCode } from './helpers/expect-code.js';
import { testStores } from './helpers/test-stores.js';
import { buildAbstainRule } from '../src/router/abstain.js';
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { docText, type Doc } from '../src/doc.js';
import { analyzerFor } from '../src/lexical/analyzer.js';
import { LexicalIndex } from '../src/lexical/lexical-index.js';
import { CollectionStore, MIGRATIONS, dbName, type CollectionDB } from '../src/store/index.js';
import { decodeContainer, encodeContainer } from '../src/store/container.js';

const { fresh, mk, opened } = testStores('lex');

const WORDS =
  'apple banana cherry river mountain ocean protein cell gene market stock bond court law judge star planet orbit'.split(
    ' ',
  );
const doc = (i: number, salt = 0): Doc => ({
  id: `d${i}`,
  title: `${WORDS[(i + salt) % WORDS.length]} title`,
  text: `${WORDS[(i * 7 + salt) % WORDS.length]} ${WORDS[(i * 3 + 1) % WORDS.length]} running ${i}`,
});
const vec = (i: number) => new Float32Array([i, 1]);
const QUERIES = ['apple river', 'running protein cell', 'court law judge', 'title 3', 'zebra'];

/** The BM25 index a store's snapshot gives, searched for every query. */
async function storedResults(s: CollectionStore): Promise<unknown[]> {
  const snap = await s.loadIndex();
  const idx = new LexicalIndex(s.meta.lexical, s.lexicon);
  idx.load(snap.terms);
  return QUERIES.map((q) => idx.search(q, 10));
}

/** The same from the documents' text, analyzed afresh (the reference). */
function freshResults(docs: Doc[], analyzer: 'english' | 'plain' = 'english'): unknown[] {
  const idx = new LexicalIndex({ analyzer });
  docs.forEach((d, i) => {
    idx.setRow(i, d.id, idx.termVector(docText(d)));
  });
  return QUERIES.map((q) => idx.search(q, 10));
}

/** What the stored term rows say, as sorted token lists per id (term ids decoded through the lexicon). */
async function storedTokens(s: CollectionStore): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const r of (await s.loadIndex()).terms) {
    const toks: string[] = [];
    r.vector.terms.forEach((t, i) => {
      for (let n = 0; n < r.vector.tfs[i]; n++) toks.push(s.lexicon.term(t));
    });
    out[r.id] = toks.sort();
  }
  return out;
}
const tokensOf = (d: Doc) => analyzerFor('english')(docText(d)).sort();

describe('lexical index in the store', () => {
  it('commits term vectors and the lexicon with the documents; reopening analyzes nothing and scores the same', async () => {
    const name = fresh();
    const s = await mk(name);
    const docs = Array.from({ length: 11 }, (_, i) => doc(i));
    const written = await s.writeDocs(
      docs,
      docs.map((_, i) => vec(i)),
    );
    expect(written.slots).toEqual(docs.map((_, i) => i));
    expect(written.terms[2].length).toBe(tokensOf(docs[2]).length);
    expect(s.analyzedDocuments).toBe(11);
    expect(s.meta).toMatchObject({
      schemaVersion: 4,
      lexiconSize: s.lexicon.size,
      lexical: { analyzer: 'english', k1: 0.9, b: 0.4, uniqueQueryTerms: false },
    });
    const want = freshResults(docs);
    expect(await storedResults(s)).toEqual(want);
    s.close();
    const s2 = await mk(name);
    expect(await storedResults(s2)).toEqual(want);
    expect(s2.analyzedDocuments).toBe(0);
    expect(await storedTokens(s2)).toEqual(Object.fromEntries(docs.map((d) => [d.id, tokensOf(d)])));
  });

  it('upsert replaces a row, delete frees it, in both indexes', async () => {
    const s = await mk(fresh());
    const docs = Array.from({ length: 6 }, (_, i) => doc(i));
    await s.putDocs(
      docs,
      docs.map((_, i) => vec(i)),
    );
    const changed = { id: 'd2', text: 'zebra crossing' };
    await s.putDocs([changed], [vec(20)]);
    await s.deleteDocs(['d4']);
    const rows = (await s.loadIndex()).terms;
    expect(rows.map((r) => r.id)).toEqual(['d0', 'd1', 'd2', 'd3', 'd5']);
    expect((await storedTokens(s)).d2).toEqual(['cross', 'zebra']);
    const live = [docs[0], docs[1], changed, docs[3], docs[5]];
    const idx = new LexicalIndex({ analyzer: 'english' });
    for (const [i, row] of [0, 1, 2, 3, 5].entries()) idx.setRow(row, live[i].id, idx.termVector(docText(live[i])));
    expect(await storedResults(s)).toEqual(QUERIES.map((q) => idx.search(q, 10)));
    // the freed slot is reused with the new document's terms
    await s.putDocs([{ id: 'n', text: 'orbit orbit' }], [vec(9)]);
    expect((await storedTokens(s)).n).toEqual(['orbit', 'orbit']);
  });

  for (const failAt of [1, 2, 4]) {
    it(`a write failing at its put #${failAt} (QuotaExceededError) leaves documents, vectors, term rows and the lexicon unchanged`, async () => {
      const name = fresh();
      const s = await mk(name);
      await s.putDocs([doc(0), doc(1)], [vec(0), vec(1)]);
      const before = {
        tokens: await storedTokens(s),
        results: await storedResults(s),
        meta: { ...s.meta },
        lexicon: s.lexicon.size,
      };
      const proto = IDBObjectStore.prototype as unknown as { put: (...a: unknown[]) => unknown };
      const orig = proto.put;
      let calls = 0;
      proto.put = function (this: unknown, ...args: unknown[]) {
        if (++calls === failAt) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        return orig.apply(this, args);
      };
      try {
        // new terms (zebra, yak ...) so that the lexicon would grow
        await expectCode(
          s.putDocs([{ id: 'x', text: 'zebra yak quagga' }, doc(7, 3)], [vec(5), vec(7)]),
          'QUOTA_EXCEEDED',
        );
      } finally {
        proto.put = orig;
      }
      expect(calls).toBeGreaterThanOrEqual(failAt);
      expect(s.lexicon.size).toBe(before.lexicon); // the new terms were dropped again
      expect(s.lexicon.lookup('zebra')).toBeUndefined();
      expect(s.meta).toEqual(before.meta);
      expect(await storedTokens(s)).toEqual(before.tokens);
      expect(await storedResults(s)).toEqual(before.results);
      expect(await s.docCount()).toBe(2);
      // the next write commits consistent ids; a fresh instance decodes them to the right words
      await s.putDocs([{ id: 'y', text: 'yak zebra' }], [vec(3)]);
      const s2 = await mk(name);
      expect((await storedTokens(s2)).y).toEqual(['yak', 'zebra']);
      expect(s2.meta.lexiconSize).toBe(s2.lexicon.size);
    });
  }

  it('two instances adding new terms in turn never give one id to two terms', async () => {
    const name = fresh();
    const a = await mk(name);
    const b = await mk(name);
    await a.putDocs([{ id: 'a1', text: 'alpha beta' }], [vec(1)]);
    await b.putDocs([{ id: 'b1', text: 'gamma delta alpha' }], [vec(2)]); // b catches up with alpha, beta first
    await a.putDocs([{ id: 'a2', text: 'epsilon gamma' }], [vec(3)]);
    const c = await mk(name);
    expect(await storedTokens(c)).toEqual({
      a1: ['alpha', 'beta'],
      b1: ['alpha', 'delta', 'gamma'],
      a2: ['epsilon', 'gamma'],
    });
    expect(c.lexicon.size).toBe(5);
    expect(new Set([a.lexicon, b.lexicon].map((l) => l.since(0).slice(0, 4).join()))).toEqual(
      new Set(['alpha,beta,gamma,delta']),
    );
  });

  it('migrates a v2 collection: term vectors built once in the upgrade, then never again', async () => {
    const name = fresh();
    const db = await openDB<CollectionDB>(dbName(name), 2, {
      upgrade(d, _o, _n, tx) {
        MIGRATIONS[0](d, tx as never);
        MIGRATIONS[1](d, tx as never);
      },
    });
    const docs = Array.from({ length: 6 }, (_, i) => doc(i));
    const buf0 = new Float32Array(8);
    const buf1 = new Float32Array(8);
    await db.put(
      'meta',
      {
        name,
        schemaVersion: 2,
        fingerprint: 'fp',
        dim: 2,
        dtype: 'float32',
        chunkSize: 4,
        count: 5,
        nextSlot: 6,
        freeSlots: [3],
        createdAt: 1,
        updatedAt: 1,
      } as never,
      'collection',
    );
    for (const [i, d] of docs.entries()) await db.put('docs', { ...d, slot: i === 3 ? -1 : i }); // d3: stored without a vector
    await db.put('vectors', { chunk: 0, ids: ['d0', 'd1', 'd2', null], vectors: buf0.buffer });
    await db.put('vectors', { chunk: 1, ids: ['d4', 'd5', null, null], vectors: buf1.buffer });
    db.close();
    const s = await mk(name);
    expect(s.meta).toMatchObject({
      schemaVersion: 4,
      filterable: {},
      dtype: 'float32',
      count: 5,
      lexical: { analyzer: 'english' },
      lexiconEpoch: 0,
    });
    expect(s.analyzedDocuments).toBe(5); // the one re-analysis: documents with a slot
    const live = docs.filter((_, i) => i !== 3);
    expect(await storedTokens(s)).toEqual(Object.fromEntries(live.map((d) => [d.id, tokensOf(d)])));
    const idx = new LexicalIndex({ analyzer: 'english' });
    for (const [i, row] of [0, 1, 2, 4, 5].entries()) idx.setRow(row, live[i].id, idx.termVector(docText(live[i])));
    expect(await storedResults(s)).toEqual(QUERIES.map((q) => idx.search(q, 10)));
    s.close();
    const s2 = await mk(name);
    expect(s2.analyzedDocuments).toBe(0);
    expect(await storedResults(s2)).toEqual(QUERIES.map((q) => idx.search(q, 10)));
  });

  it('lexical options: stored; another analyzer is MODEL_MISMATCH unless rebuilt; scoring options are stored without analysis', async () => {
    const name = fresh();
    const s = await mk(name);
    const docs = Array.from({ length: 5 }, (_, i) => doc(i));
    await s.putDocs(
      docs,
      docs.map((_, i) => vec(i)),
    );
    s.close();
    const err = await expectCode(mk(name, { lexical: { analyzer: 'plain' } }), 'MODEL_MISMATCH');
    expect(err.message).toMatch(/onLexicalMismatch: 'rebuild'/);
    const k = await mk(name, { lexical: { k1: 1.2, uniqueQueryTerms: true } });
    expect(k.meta.lexical).toEqual({ analyzer: 'english', k1: 1.2, b: 0.4, uniqueQueryTerms: true });
    expect(k.analyzedDocuments).toBe(0);
    k.close();
    const r = await mk(name, { lexical: { analyzer: 'plain' }, onLexicalMismatch: 'rebuild' });
    expect(r.analyzedDocuments).toBe(5);
    expect(r.meta).toMatchObject({ lexical: { analyzer: 'plain', k1: 1.2 }, lexiconEpoch: 1 });
    const plain = new LexicalIndex({ analyzer: 'plain', k1: 1.2, uniqueQueryTerms: true });
    for (const [i, d] of docs.entries()) plain.setRow(i, d.id, plain.termVector(docText(d)));
    expect(await storedResults(r)).toEqual(QUERIES.map((q) => plain.search(q, 10)));
    r.close();
    const again = await mk(name);
    expect(again.analyzedDocuments).toBe(0);
    expect(again.meta.lexical.analyzer).toBe('plain');
    await expectCode(mk(fresh(), { lexical: { analyzer: 'porter' as never } }), 'INVALID_INPUT');
    const bad = await expectCode(mk(fresh(), { lexical: { b: 2 } }), 'INVALID_INPUT');
    expect(bad.message).toContain('lexical.b');
  });

  it('export/import: file version 2 with the lexical options and the fusion setting; the import rebuilds the term vectors; unknown versions are refused', async () => {
    const s = await mk(fresh(), { lexical: { analyzer: 'plain' } });
    const docs = Array.from({ length: 7 }, (_, i) => doc(i));
    await s.putDocs(
      docs,
      docs.map((_, i) => vec(i)),
    );
    const abstain = buildAbstainRule(
      ['e'],
      [{ queryEmbeddings: [vec(1), vec(2)], baseScores: [0, 0.5], scores: { e: [1, 0.25] } }],
    );
    const extras = { fusion: { method: 'rrf' as const, weight: 0.6, baseWeight: 0.7 }, abstain };
    await s.putPilots(new Map([['e', [vec(1)]]]), undefined, extras);
    expect(await s.getPilotExtras()).toEqual(extras);
    const file = await s.exportCollection();
    const { header, data } = decodeContainer(file);
    expect(header).toMatchObject({
      version: 2,
      lexical: { analyzer: 'plain' },
      fusion: { method: 'rrf', weight: 0.6, baseWeight: 0.7 },
    });
    const t = await CollectionStore.importCollection(fresh(), file);
    opened.push(t);
    expect(t.meta.lexical.analyzer).toBe('plain');
    // The pilot library's extras travel with the file: the fusion (baseWeight too) and the abstention rule.
    expect(await t.getPilotExtras()).toEqual(extras);
    expect(await storedResults(t)).toEqual(freshResults(docs, 'plain'));
    // a version 1 file (no lexical data) imports with the default options
    const v1 = encodeContainer({ ...header, version: 1, lexical: undefined, fusion: undefined }, [data]);
    const t1 = await CollectionStore.importCollection(fresh(), v1);
    opened.push(t1);
    expect(t1.meta.lexical.analyzer).toBe('english');
    expect(await storedResults(t1)).toEqual(freshResults(docs));
    const v3 = encodeContainer({ ...header, version: 3 as never }, [data]);
    const e = await expectCode(CollectionStore.importCollection(fresh(), v3), 'INVALID_INPUT');
    expect(e.message).toMatch(/version 3 is not supported.*newer SDK/);
  });

  it('reindex (another base model) clears the term rows with the vectors; re-put documents get them back', async () => {
    const name = fresh();
    const s = await mk(name);
    await s.putDocs([doc(0), doc(1)], [vec(0), vec(1)]);
    s.close();
    const r = await mk(name, { fingerprint: 'other', onModelMismatch: 'reindex' });
    expect((await r.loadIndex()).terms).toEqual([]);
    const pending = await r.pendingDocs();
    await r.putDocs(
      pending,
      pending.map((_, i) => vec(i)),
    );
    expect(await storedTokens(r)).toEqual({ d0: tokensOf(doc(0)), d1: tokensOf(doc(1)) });
  });
});
