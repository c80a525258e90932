import { expectCode } from './helpers/expect-code.js';
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import { buildPilotLibrary, pilotsOf, type PilotLibraryState } from '../src/router/index.js';
import { SearchIndex, type VectorChunk } from '../src/search/index.js';

const searchChunksSync = (q: Float32Array, chunks: VectorChunk[], k: number) =>
  SearchIndex.fromChunks(chunks, q.length, { backend: 'js' }).search(q, k);
import { CollectionStore, MIGRATIONS, SCHEMA_VERSION, dbName, type CollectionDB } from '../src/store/index.js';
import type { Doc } from '../src/doc.js';
import { REQUEST_BATCH } from '../src/store/collection.js';

let seq = 0;
const fresh = () => `test-${++seq}-${Math.random().toString(36).slice(2)}`;
const open: CollectionStore[] = [];
afterEach(() => {
  while (open.length) open.pop()!.close();
});

async function mk(name: string, dim = 3, chunkSize = 4, fingerprint = 'model-A'): Promise<CollectionStore> {
  const s = await CollectionStore.open(name, { fingerprint, dim, chunkSize });
  open.push(s);
  return s;
}

const doc = (i: number): Doc => ({ id: `d${i}`, title: `T${i}`, text: `text ${i}`, metadata: { i } });
const vec = (i: number, dim = 3) => Float32Array.from({ length: dim }, (_, j) => ((i * 7 + j * 3) % 11) - 5);

/** id -> vector as seen through loadAll() */
async function snapshot(s: CollectionStore): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const c of await s.loadAll()) {
    c.ids.forEach((id, r) => {
      if (id !== null) out[id] = Array.from(c.vectors.subarray(r * c.dim, (r + 1) * c.dim));
    });
  }
  return out;
}

describe('CollectionStore', () => {
  it('round trips documents and chunked vectors, across reopen', async () => {
    const name = fresh();
    const s = await mk(name);
    const docs = Array.from({ length: 10 }, (_, i) => doc(i));
    await s.putDocs(
      docs,
      docs.map((_, i) => vec(i)),
    );
    const chunks = await s.loadAll();
    expect(chunks.map((c) => c.ids.length)).toEqual([4, 4, 2]); // 10 rows in chunks of 4, last trimmed
    expect(chunks[0].ids).toEqual(['d0', 'd1', 'd2', 'd3']);
    expect(Array.from(chunks[2].vectors.subarray(3, 6))).toEqual(Array.from(vec(9)));
    expect(s.meta).toMatchObject({
      count: 10,
      nextSlot: 10,
      dim: 3,
      dtype: 'float32',
      schemaVersion: 4,
      fingerprint: 'model-A',
    });
    s.close();
    const s2 = await mk(name);
    expect(await snapshot(s2)).toEqual(Object.fromEntries(docs.map((d, i) => [d.id, Array.from(vec(i))])));
    expect(await s2.getDoc('d3')).toEqual({ id: 'd3', title: 'T3', text: 'text 3', metadata: { i: 3 }, slot: 3 });
    const q = new Float32Array([1, -1, 0.5]);
    const want = docs
      .map((d, i) => ({ id: d.id, score: vec(i)[0] - vec(i)[1] + 0.5 * vec(i)[2] }))
      .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
      .slice(0, 5);
    expect(searchChunksSync(q, await s2.loadAll(), 5)).toEqual(want);
    expect([...(await s2.storedIds())].sort()).toEqual(docs.map((d) => d.id).sort());
  });

  it('putDocs returns the slots; batches larger than REQUEST_BATCH round trip in order (upserts keep slots)', async () => {
    const s = await mk(fresh());
    const n = REQUEST_BATCH * 3 + 5;
    const docs = Array.from({ length: n }, (_, i) => doc(i));
    expect(
      await s.putDocs(
        docs,
        docs.map((_, i) => vec(i)),
      ),
    ).toEqual(docs.map((_, i) => i));
    const got = await s.getDocs(docs.map((d) => d.id).reverse());
    expect(got.map((r) => r?.slot)).toEqual(docs.map((_, i) => n - 1 - i));
    expect(await s.deleteDocs(['d3', 'd40'])).toBe(2);
    // an existing id keeps its slot; new ids take the freed slots, lowest first, then new ones
    expect(await s.putDocs([doc(7), doc(1000), doc(1001), doc(1002)], [vec(70), vec(1), vec(2), vec(3)])).toEqual([
      7,
      3,
      40,
      n,
    ]);
    expect((await snapshot(s)).d7).toEqual(Array.from(vec(70)));
    expect(s.meta).toMatchObject({ count: n + 1, nextSlot: n + 1, freeSlots: [] });
  });

  it('accepts one flat Float32Array for a batch', async () => {
    const s = await mk(fresh());
    await s.putDocs([doc(0), doc(1)], new Float32Array([1, 2, 3, 4, 5, 6]));
    expect(await snapshot(s)).toEqual({ d0: [1, 2, 3], d1: [4, 5, 6] });
  });

  it('delete frees slots; new ids reuse the lowest free slot; upsert keeps the slot', async () => {
    const s = await mk(fresh());
    await s.putDocs(
      [0, 1, 2, 3, 4, 5].map(doc),
      [0, 1, 2, 3, 4, 5].map((i) => vec(i)),
    );
    expect(await s.deleteDocs(['d4', 'd1', 'nope'])).toBe(2);
    expect(s.meta).toMatchObject({ count: 4, freeSlots: [1, 4], nextSlot: 6 });
    let chunks = await s.loadAll();
    expect(chunks[0].ids).toEqual(['d0', null, 'd2', 'd3']);
    expect(Array.from(chunks[1].vectors.subarray(0, 3))).toEqual([0, 0, 0]); // zeroed
    expect(
      searchChunksSync(new Float32Array([1, 1, 1]), chunks, 10)
        .map((h) => h.id)
        .sort(),
    ).toEqual(['d0', 'd2', 'd3', 'd5']);
    // upsert d2 (keeps slot 2) and add d7, d8, d9 (slots 1, 4, then 6)
    await s.putDocs([{ id: 'd2', text: 'new' }, doc(7), doc(8), doc(9)], [vec(20), vec(7), vec(8), vec(9)]);
    expect(s.meta).toMatchObject({ count: 7, freeSlots: [], nextSlot: 7 });
    chunks = await s.loadAll();
    expect(chunks.flatMap((c) => c.ids)).toEqual(['d0', 'd7', 'd2', 'd3', 'd8', 'd5', 'd9']);
    expect((await snapshot(s)).d2).toEqual(Array.from(vec(20)));
    expect(await s.getDoc('d2')).toEqual({ id: 'd2', text: 'new', slot: 2 });
    expect(await s.getDoc('d1')).toBeUndefined();
    expect(await s.docCount()).toBe(7);
  });

  it('validates a batch before writing anything', async () => {
    const s = await mk(fresh());
    await s.putDocs([doc(0)], [vec(0)]);
    const before = await snapshot(s);
    await expectCode(s.putDocs([doc(1), doc(1)], [vec(1), vec(1)]), 'INVALID_INPUT'); // duplicate in batch
    await expectCode(s.putDocs([doc(1)], [new Float32Array(2)]), 'INVALID_INPUT'); // wrong dim
    await expectCode(s.putDocs([doc(1)], [new Float32Array([1, NaN, 0])]), 'INVALID_INPUT');
    await expectCode(s.putDocs([{ id: 5 as unknown as string, text: 'x' }], [vec(1)]), 'INVALID_INPUT');
    await expectCode(s.putDocs([{ id: 'x' } as Doc], [vec(1)]), 'INVALID_INPUT');
    await expectCode(s.putDocs([doc(1)], []), 'INVALID_INPUT');
    expect(await snapshot(s)).toEqual(before);
    expect(await s.docCount()).toBe(1);
  });

  it('QuotaExceededError mid-batch aborts only that transaction', async () => {
    const s = await mk(fresh());
    await s.putDocs(
      [0, 1, 2, 3, 4].map(doc),
      [0, 1, 2, 3, 4].map((i) => vec(i)),
    );
    const before = await snapshot(s);
    const metaBefore = { ...s.meta };
    const proto = IDBObjectStore.prototype as unknown as { put: (...a: unknown[]) => unknown };
    const orig = proto.put;
    let calls = 0;
    proto.put = function (this: unknown, ...args: unknown[]) {
      if (++calls === 3) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return orig.apply(this, args);
    };
    let err: Error;
    try {
      err = await expectCode(
        s.putDocs(
          [5, 6, 7, 8, 9, 10].map(doc),
          [5, 6, 7, 8, 9, 10].map((i) => vec(i)),
        ),
        'QUOTA_EXCEEDED',
      );
    } finally {
      proto.put = orig;
    }
    expect(calls).toBe(3); // the first writes of the batch had been issued before the failure
    const details = (err as unknown as { details: { neededBytes: number } }).details;
    expect(details.neededBytes).toBeGreaterThanOrEqual(6 * 3 * 4);
    expect(err.message).toMatch(/needed about .* MB/);
    expect(await snapshot(s)).toEqual(before);
    expect(s.meta).toEqual(metaBefore);
    expect(await s.docCount()).toBe(5);
    // a fresh instance sees the same consistent state, and indexing can resume
    const s2 = await mk(s.name);
    expect(await snapshot(s2)).toEqual(before);
    const have = await s2.storedIds();
    const todo = [5, 6, 7, 8, 9, 10].filter((i) => !have.has(`d${i}`));
    await s2.putDocs(
      todo.map(doc),
      todo.map((i) => vec(i)),
    );
    expect(s2.meta).toMatchObject({ count: 11, nextSlot: 11 });
    expect(searchChunksSync(new Float32Array([1, 0, 0]), await s2.loadAll(), 20)).toHaveLength(11);
  });

  it('a transaction aborted with QuotaExceededError (as browsers do at commit) maps the same way', async () => {
    const s = await mk(fresh());
    await s.putDocs([doc(0)], [vec(0)]);
    const before = await snapshot(s);
    const proto = IDBObjectStore.prototype as unknown as { put: (...a: unknown[]) => unknown; transaction: unknown };
    const orig = proto.put;
    proto.put = function (this: { transaction: { _abort(n: string): void } }, ...args: unknown[]) {
      const req = orig.apply(this, args);
      this.transaction._abort('QuotaExceededError'); // fake-indexeddb internal: abort with that error name
      return req;
    };
    try {
      const err = await expectCode(s.putDocs([doc(1), doc(2)], [vec(1), vec(2)]), 'QUOTA_EXCEEDED');
      expect((err as unknown as { details: { neededBytes: number } }).details.neededBytes).toBeGreaterThan(0);
    } finally {
      proto.put = orig;
    }
    expect(await snapshot(s)).toEqual(before);
    expect(s.meta.count).toBe(1);
  });

  it('migrates a v1 database to v4 (through v2 and v3)', async () => {
    const name = fresh();
    const db = await openDB<CollectionDB>(dbName(name), 1, {
      upgrade(d, _o, _n, tx) {
        MIGRATIONS[0](d, tx as never);
      },
    });
    const buf = new Float32Array(4 * 2);
    buf.set([1, 2], 0);
    await db.put(
      'meta',
      {
        name,
        schemaVersion: 1,
        fingerprint: 'fp',
        dim: 2,
        chunkSize: 4,
        count: 1,
        nextSlot: 1,
        freeSlots: [],
        createdAt: 1,
        updatedAt: 1,
      },
      'collection',
    );
    await db.put('docs', { id: 'a', text: 'hello', slot: 0 });
    await db.put('vectors', { chunk: 0, ids: ['a', null, null, null], vectors: buf.buffer });
    db.close();
    const s = await CollectionStore.open(name, { fingerprint: 'fp', dim: 2 });
    open.push(s);
    expect(s.meta).toMatchObject({ schemaVersion: 4, filterable: {}, dtype: 'float32', count: 1, chunkSize: 4 });
    expect(await snapshot(s)).toEqual({ a: [1, 2] });
    await s.putExpert({ name: 'e', source: 'hf:x' }); // v2 stores exist
    expect((await s.getExperts()).map((e) => e.name)).toEqual(['e']);
  });

  it('model fingerprint mismatch: error, or reindex on request', async () => {
    const name = fresh();
    const s = await mk(name);
    await s.putDocs([doc(0), doc(1)], [vec(0), vec(1)]);
    await s.putExpert({ name: 'sci', source: 'hf:sci', config: { r: 8 } });
    await s.putPilots(new Map([['sci', [vec(3)]]]));
    s.close();
    await expectCode(CollectionStore.open(name, { fingerprint: 'model-B', dim: 3 }), 'MODEL_MISMATCH');
    await expectCode(CollectionStore.open(name, { fingerprint: 'model-A', dim: 4 }), 'MODEL_MISMATCH');
    const r = await CollectionStore.open(name, { fingerprint: 'model-B', dim: 2, onModelMismatch: 'reindex' });
    open.push(r);
    expect(r.meta).toMatchObject({ fingerprint: 'model-B', dim: 2, count: 0, nextSlot: 0 });
    expect(await r.loadAll()).toEqual([]);
    expect((await r.getPilots()).size).toBe(0);
    expect((await r.getExperts()).map((e) => e.name)).toEqual(['sci']);
    const pending = await r.pendingDocs();
    expect(pending.map((d) => d.id)).toEqual(['d0', 'd1']);
    await r.putDocs(pending, [new Float32Array([1, 2]), new Float32Array([3, 4])]);
    expect(await snapshot(r)).toEqual({ d0: [1, 2], d1: [3, 4] });
    expect(await r.pendingDocs()).toEqual([]);
    expect((await r.getDoc('d0'))?.title).toBe('T0');
  });

  it('experts and pilots: order kept, expert removal drops its pilots, builder state round trips', async () => {
    const s = await mk(fresh(), 2);
    const state = buildPilotLibrary(
      ['zeta', 'alpha'],
      [
        {
          name: 'D',
          queryEmbeddings: [new Float32Array([1, 0]), new Float32Array([0, 1])],
          scores: { zeta: [1, 0], alpha: [0, 1] },
        },
      ],
    );
    await s.putPilots(pilotsOf(state), state);
    const p = await s.getPilots();
    expect([...p.keys()]).toEqual(['zeta', 'alpha']);
    expect(p.get('alpha')).toEqual([new Float32Array([0, 1])]);
    const st = await s.getPilotState<PilotLibraryState>();
    expect(st && pilotsOf(st)).toEqual(pilotsOf(state));
    await s.putExpert({
      name: 'zeta',
      config: { r: 8 },
      files: { 'adapter_model.safetensors': new Uint8Array([1, 2, 3]).buffer },
    });
    await s.deleteExpert('zeta');
    expect([...(await s.getPilots()).keys()]).toEqual(['alpha']);
    await expectCode(s.putPilots(new Map([['x', [new Float32Array(3)]]])), 'INVALID_INPUT');
  });

  it('exports and imports a whole collection as one file', async () => {
    const s = await mk(fresh());
    await s.putDocs(
      [0, 1, 2, 3, 4, 5, 6].map(doc),
      [0, 1, 2, 3, 4, 5, 6].map((i) => vec(i)),
    );
    await s.deleteDocs(['d2']);
    await s.putExpert({
      name: 'sci',
      source: 'hf:sci',
      config: { r: 8, lora_alpha: 32 },
      files: { 'a.bin': new Uint8Array([9, 8, 7]).buffer },
    });
    await s.putPilots(
      new Map([
        ['sci', [vec(1), vec(2)]],
        ['fiqa', [vec(3)]],
      ]),
    );
    const file = await s.exportCollection();
    expect(Array.from(new Uint8Array(file, 0, 6))).toEqual([...'RRCOLL'].map((c) => c.charCodeAt(0)));

    const name2 = fresh();
    const t = await CollectionStore.importCollection(name2, file, { fingerprint: 'model-A' });
    open.push(t);
    expect(await snapshot(t)).toEqual(await snapshot(s));
    expect(await t.getDoc('d5')).toMatchObject({ id: 'd5', title: 'T5', text: 'text 5', metadata: { i: 5 } });
    expect(t.meta).toMatchObject({ fingerprint: 'model-A', dim: 3, count: 6 });
    expect(await t.getPilots()).toEqual(await s.getPilots());
    const [ex] = await t.getExperts();
    expect(ex).toMatchObject({ name: 'sci', source: 'hf:sci', config: { r: 8, lora_alpha: 32 } });
    expect(Array.from(new Uint8Array(ex.files!['a.bin']))).toEqual([9, 8, 7]);

    // existing collection without overwrite, fingerprint mismatch, corrupt files
    await expectCode(CollectionStore.importCollection(name2, file), 'INVALID_INPUT');
    await expectCode(CollectionStore.importCollection(fresh(), file, { fingerprint: 'other' }), 'MODEL_MISMATCH');
    await expectCode(CollectionStore.importCollection(fresh(), file.slice(0, file.byteLength - 4)), 'INVALID_INPUT');
    const badMagic = new Uint8Array(file.slice(0));
    badMagic[0] = 0;
    await expectCode(CollectionStore.importCollection(fresh(), badMagic), 'INVALID_INPUT');
    const nan = new Uint8Array(file.slice(0));
    const hlen = new DataView(nan.buffer).getUint32(8, true);
    new Float32Array(nan.buffer, Math.ceil((12 + hlen) / 8) * 8, 1)[0] = NaN;
    await expectCode(CollectionStore.importCollection(fresh(), nan), 'INVALID_INPUT');
    const over = await CollectionStore.importCollection(name2, file, { overwrite: true });
    open.push(over);
    expect(over.meta.count).toBe(6);
  });

  it('a second tab works, and versionchange closes and reopens', async () => {
    const name = fresh();
    const a = await mk(name);
    const b = await mk(name);
    await a.putDocs([doc(0)], [vec(0)]);
    await b.putDocs([doc(1)], [vec(1)]); // b reads the meta inside its transaction: no slot clash
    expect(Object.keys(await snapshot(a)).sort()).toEqual(['d0', 'd1']);
    expect(b.meta.count).toBe(2);
    // another tab upgrades the database (a newer SDK): a and b must not block it
    const newer = await openDB(dbName(name), SCHEMA_VERSION + 1, { upgrade() {} });
    newer.close();
    await expectCode(a.loadAll(), 'NOT_READY');
    // deleting the collection elsewhere: a closes, later calls say NOT_FOUND
    const c = fresh();
    const x = await mk(c);
    await x.putDocs([doc(0)], [vec(0)]);
    await CollectionStore.deleteCollection(c); // would hang if x did not close on versionchange
    await expectCode(x.loadAll(), 'NOT_FOUND');
  });

  it('reopens transparently after another connection forced a close', async () => {
    const name = fresh();
    const a = await mk(name);
    await a.putDocs([doc(0)], [vec(0)]);
    // a same-version open with a blocked upgrade is not possible; simulate the close event path:
    (a as unknown as { lost(): void }).lost();
    expect(await snapshot(a)).toEqual({ d0: Array.from(vec(0)) });
  });
});
