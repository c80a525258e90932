/** The retriever's parts (src/retriever/) with a fake encoder and an in-memory store: no IndexedDB, no model. */
import { describe, expect, it } from 'vitest';
import type { Doc } from '../src/doc.js';
import { ExpertRegistry } from '../src/retriever/experts.js';
import { Indexing } from '../src/retriever/indexing.js';
import { LiveIndex } from '../src/retriever/live-index.js';
import { QueryEngine } from '../src/retriever/query.js';
import { DIM, FakeEncoder, MemoryStore, fakeEmbedding, routingDeps } from './helpers/fakes.js';

const docs = (n: number, prefix = 'd'): Doc[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, text: `${'abcdefgh'[i % 8]} doc ${i}` }));

async function setup() {
  const encoder = new FakeEncoder();
  const store = new MemoryStore();
  const live = await LiveIndex.load(store, 'auto');
  let changes = 0;
  const indexing = new Indexing({ encoder, store, live, changed: () => changes++ });
  const experts = new ExpertRegistry({ encoder, store, dim: DIM, changed: () => changes++ });
  const query = new QueryEngine({
    encoder,
    store,
    live,
    ...routingDeps(experts),
  });
  return { encoder, store, live, indexing, experts, query, changes: () => changes };
}

describe('Indexing', () => {
  it('commits one store write per slice, in order, each searchable at once; progress per slice', async () => {
    const { store, live, indexing, changes } = await setup();
    const stored: number[] = [];
    const res = await indexing.upsert(docs(10), 4, { onProgress: (p) => p.phase === 'store' && stored.push(p.done) });
    expect(res).toEqual({ added: 10, replaced: 0, skipped: 0 });
    expect(store.commits).toBe(3);
    expect(stored).toEqual([4, 8, 10]);
    expect(changes()).toBe(3);
    expect(live.index.rows).toBe(10);
    const hits = await live.index.searchAsync(fakeEmbedding('a doc 0', null), 1);
    expect(hits[0].id).toBe('d0');
  });

  it('counts added and replaced from what the write found: ids another tab stored meanwhile are replacements', async () => {
    const { encoder, store, indexing } = await setup();
    // While this call embeds, "another tab" stores two of its ids (the fake store writes at once).
    encoder.onDocuments = (call) => {
      if (call === 1) void store.writeDocs(docs(2), new Float32Array(2 * DIM).fill(0.5));
    };
    expect(await indexing.upsert(docs(5), 10)).toEqual({ added: 3, replaced: 2, skipped: 0 });
    expect(store.docs.size).toBe(5);
  });

  it('skips identical content without embedding it; a changed document is re-embedded and keeps its slot', async () => {
    const { encoder, store, indexing } = await setup();
    await indexing.upsert(docs(6), 4);
    const n = encoder.embedded.length;
    expect(await indexing.upsert(docs(6), 4)).toEqual({ added: 0, replaced: 0, skipped: 6 });
    expect(encoder.embedded.length).toBe(n);
    const slot = store.docs.get('d2')!.slot;
    const changed = { id: 'd2', text: 'zzz new words' };
    expect(await indexing.upsert([changed, ...docs(2)], 4)).toEqual({ added: 0, replaced: 1, skipped: 2 });
    expect(encoder.embedded.slice(n).map((e) => e.text)).toEqual(['zzz new words']);
    expect(store.docs.get('d2')!.slot).toBe(slot);
  });

  it('cancellation mid-run keeps the committed slices and reports CANCELLED with done/total', async () => {
    const { encoder, store, live, indexing } = await setup();
    const ac = new AbortController();
    encoder.onDocuments = (call) => {
      if (call === 3) ac.abort(); // while the third slice embeds
    };
    const err = await indexing.upsert(docs(10), 4, { signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CANCELLED', details: { done: 8, total: 10 } });
    expect(store.commits).toBe(2);
    expect([...(await store.storedIds())].sort()).toEqual(
      docs(8)
        .map((d) => d.id)
        .sort(),
    );
    expect(live.index.rows).toBe(8);
  });

  it('delete frees the rows in the live index; clear empties it; get returns the Doc without the slot', async () => {
    const { live, indexing } = await setup();
    await indexing.upsert(docs(5), 4);
    expect(await indexing.get('d1')).toEqual({ id: 'd1', text: 'b doc 1' });
    expect(await indexing.delete(['d1', 'nope'])).toBe(1);
    const ids = (await live.index.searchAsync(fakeEmbedding('b doc 1', null), 10)).map((h) => h.id);
    expect(ids).not.toContain('d1');
    expect(ids).toHaveLength(4);
    await indexing.clear();
    expect(await live.index.searchAsync(fakeEmbedding('b', null), 10)).toEqual([]);
  });

  it('check() refuses bad documents and slice sizes before anything runs', () => {
    expect(() =>
      Indexing.check(
        [
          { id: 'a', text: 'x' },
          { id: 'a', text: 'y' },
        ],
        {},
      ),
    ).toThrow(/appears twice/);
    expect(() => Indexing.check([{ id: '', text: 'x' }], {})).toThrow(/non-empty string id/);
    expect(() => Indexing.check(docs(1), { sliceSize: 0 })).toThrow(/sliceSize/);
  });
});

describe('QueryEngine', () => {
  it('caches the base-encoder query embedding: route() then search(none) embed the query once', async () => {
    const { encoder, indexing, query } = await setup();
    await indexing.upsert(docs(5), 4);
    const before = encoder.embedded.length;
    await query.route('c doc');
    const r = await query.search('c doc', { expert: 'none', k: 2 });
    expect(encoder.embedded.slice(before)).toEqual([{ text: 'c doc', expert: null }]);
    expect(r.hits.map((h) => h.id)[0]).toBe('d2');
    expect(r.hits[0].doc).toEqual({ id: 'd2', text: 'c doc 2' });
    expect(r.route).toEqual({ expert: null, mode: 'mean', scores: {}, abstained: false });
  });

  it('routes only to loaded experts; a stored expert whose adapter was in-memory keeps its pilots but is skipped until added again', async () => {
    const { store, indexing, experts, query } = await setup();
    await indexing.upsert(docs(5), 4);
    const unit = (j: number) => Float32Array.from({ length: DIM }, (_, i) => (i === j ? 1 : 0));
    // as a previous session left it: xa came from a URL (re-added on open), xb from in-memory files
    await store.putExpert({ name: 'xa', source: 'mem://xa' });
    await store.putExpert({ name: 'xb' });
    await store.putPilots(
      new Map([
        ['xa', [unit(0)]],
        ['xb', [unit(1)]],
      ]),
    );
    await experts.restore({});
    expect(experts.list()).toEqual([
      { name: 'xa', loaded: true, source: 'mem://xa', pilots: 1 },
      { name: 'xb', loaded: false, source: undefined, pilots: 1 },
    ]);
    expect((await query.route('bbbb')).expert).toBe('xa');
    await expect(query.search('bbbb', { expert: 'xb' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await experts.add('xb', { files: {} } as never, undefined); // passed again: its stored pilots count again
    expect((await query.route('bbbb')).expert).toBe('xb');
    expect((await query.search('bbbb', { k: 1 })).route.expert).toBe('xb');
    await expect(query.search('bbbb', { k: -1 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
