/**
 * The remote dense index (src/retriever/remote-index.ts) against the real reference service
 * (server/: PGlite + pgvector over the wire protocol, pg, HTTP on free ports): the query path and
 * indexing with it answer what they answer with the local index (dense, hybrid and lexical, with
 * filters); writes reach the service first and a refused one stores nothing here; the service
 * down is NETWORK and says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRouterRetrieverError, RouterRetrieverError } from '../src/boundary/errors.js';
import type { Doc } from '../src/doc.js';
import { checkFilter } from '../src/filter/check.js';
import { Indexing } from '../src/retriever/indexing.js';
import { LiveIndex } from '../src/retriever/live-index.js';
import { QueryEngine } from '../src/retriever/query.js';
import { RemoteVectorIndex } from '../src/retriever/remote-index.js';
import type { DenseIndex } from '../src/retriever/dense-index.js';
import type { Filter, SearchMode } from '../src/types.js';
import { type RunningService, startLocalService } from '../server/service.js';
import { DIM, FakeEncoder, MemoryStore, NO_EXPERTS } from './helpers/fakes.js';

const KEY = 'remote-test-key';
const FIELDS = { lang: 'string', year: 'number', reviewed: 'boolean' } as const;

/** A unit vector from a text's hash: no ties between documents, unlike the letter counts of FakeEncoder. */
function hashed(text: string): Float32Array {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  const v = new Float32Array(DIM);
  for (let i = 0; i < DIM; i++) {
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
    v[i] = h / 2 ** 32 - 0.5;
  }
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

class HashEncoder extends FakeEncoder {
  override async embedDocuments(texts: string[]): Promise<Float32Array> {
    const out = new Float32Array(texts.length * DIM);
    texts.forEach((t, i) => out.set(hashed(t), i * DIM));
    return out;
  }
  override async embedQuery(text: string): Promise<Float32Array> {
    return hashed(text);
  }
}

const WORDS = 'vitamin fracture bone heart risk adults calcium roman empire quantum density exercise'.split(' ');
const LANGS = ['en', 'de', 'fr'];
const docs: Doc[] = Array.from({ length: 300 }, (_, i) => ({
  id: `d${String(i).padStart(3, '0')}`,
  text: `${WORDS[i % 12]} ${WORDS[(i * 5 + 1) % 12]} ${WORDS[(i * 7 + 3) % 12]} ${i}`,
  ...(i % 10 === 9 ? {} : { metadata: { lang: LANGS[i % 3], year: 1990 + (i % 35), reviewed: i % 4 === 0 } }),
}));

async function setup(dense?: DenseIndex) {
  const encoder = new HashEncoder();
  const store = new MemoryStore();
  store.meta = { ...store.meta, filterable: { ...FIELDS } };
  const live = await LiveIndex.load(store, false);
  const indexing = new Indexing({ encoder, store, live, dense, changed: () => undefined });
  const query = new QueryEngine({
    encoder,
    store,
    live,
    dense,
    ...NO_EXPERTS,
  });
  return { store, indexing, query };
}

let svc: RunningService;
let down: string;

beforeAll(async () => {
  svc = await startLocalService({ dim: DIM, apiKey: KEY, filterable: { ...FIELDS }, efSearch: 400 });
  // A port that answered once and is closed now: "the service down".
  const gone = await startLocalService({ dim: DIM });
  down = gone.url;
  await gone.stop();
}, 60_000);

afterAll(async () => {
  await svc?.stop();
});

const count = async () => ((await (await fetch(`${svc.url}/health`)).json()) as { count: number }).count;

describe('RemoteVectorIndex against the reference service', () => {
  it('a remote collection answers like the local one: dense, hybrid and lexical, with and without filters', async () => {
    const local = await setup();
    await local.indexing.upsert(docs, 64);
    const remote = await setup(await RemoteVectorIndex.connect({ url: svc.url, apiKey: KEY }, DIM));
    await remote.indexing.upsert(docs, 64);
    expect(await count()).toBe(docs.length);

    const filters: (Filter | undefined)[] = [
      undefined,
      { lang: 'fr' },
      { year: { gte: 2000, lt: 2010 }, reviewed: true },
      { or: [{ lang: { in: ['de'] } }, { year: 1990 }] },
    ];
    const modes: SearchMode[] = ['dense', 'hybrid', 'lexical'];
    for (const q of ['vitamin bone risk', 'roman empire', 'quantum density exercise'])
      for (const filter of filters)
        for (const mode of modes) {
          const a = await local.query.search(q, { k: 10, mode, filter });
          const b = await remote.query.search(q, { k: 10, mode, filter });
          const label = `${q} ${mode} ${JSON.stringify(filter)}`;
          expect(
            b.hits.map((h) => h.id),
            label,
          ).toEqual(a.hits.map((h) => h.id));
          b.hits.forEach((h, i) => expect(h.score, label).toBeCloseTo(a.hits[i].score, 5));
        }
  });

  it('a visitor holding none of the documents gets them from the service (dense search, filtered)', async () => {
    const local = await setup();
    await local.indexing.upsert(docs, 64);
    const visitor = await setup(new RemoteVectorIndex({ url: svc.url }));
    for (const filter of [undefined, { lang: 'de' }]) {
      const a = await local.query.search('heart risk adults', { k: 10, mode: 'dense', filter });
      const b = await visitor.query.search('heart risk adults', { k: 10, mode: 'dense', filter });
      expect(b.hits.map((h) => h.id)).toEqual(a.hits.map((h) => h.id));
      expect(b.hits.map((h) => h.doc)).toEqual(a.hits.map((h) => h.doc));
    }
    expect(visitor.store.docs.size).toBe(0);
  });

  it('sends the checked filter as the service reads it (eq and in intersected, bounds)', async () => {
    const remote = new RemoteVectorIndex({ url: svc.url });
    const q = hashed('vitamin');
    const filter = checkFilter({ lang: { eq: 'en', in: ['en', 'fr'] }, year: { gt: 1995, lte: 2005 } }, FIELDS);
    const hits = await remote.search(q, 50, { filter });
    expect(hits.length).toBeGreaterThan(0);
    const byId = new Map(docs.map((d) => [d.id, d.metadata as { lang: string; year: number }]));
    for (const h of hits) {
      const m = byId.get(h.id)!;
      expect(m.lang).toBe('en');
      expect(m.year > 1995 && m.year <= 2005).toBe(true);
    }
    expect(await remote.search(q, 5, { filter: checkFilter({ lang: { eq: 'en', in: ['fr'] } }, FIELDS) })).toEqual([]);
  });

  it('deletes reach the service before the local store', async () => {
    const remote = await setup(new RemoteVectorIndex({ url: svc.url, apiKey: KEY }));
    await remote.indexing.upsert(docs.slice(0, 20), 64);
    const before = await count();
    expect(await remote.indexing.delete(['d000', 'd001'])).toBe(2);
    expect(await count()).toBe(before - 2);
    const hits = await remote.query.search(docs[0].text, { k: 5, mode: 'dense' });
    expect(hits.hits.map((h) => h.id)).not.toContain('d000');
    await remote.indexing.upsert(docs.slice(0, 2), 64);
  });

  it('a write the service refuses (no key, wrong key) stores nothing here either', async () => {
    for (const apiKey of [undefined, 'wrong']) {
      const remote = await setup(new RemoteVectorIndex({ url: svc.url, apiKey }));
      const before = await count();
      const err = await remote.indexing.upsert([{ id: 'refused', text: 'refused doc' }], 64).catch((e) => e);
      expect(isRouterRetrieverError(err, 'INVALID_INPUT'), String(err)).toBe(true);
      expect((err as RouterRetrieverError).message).toMatch(/refused documents: Writes need the service API key/);
      expect((err as RouterRetrieverError).details.status).toBe(401);
      expect(remote.store.docs.size).toBe(0);
      expect(await count()).toBe(before);
    }
  });

  it('the service down is NETWORK, at open, on search and on writes, and says so', async () => {
    const open = await RemoteVectorIndex.connect({ url: down }, DIM).catch((e) => e);
    expect(isRouterRetrieverError(open, 'NETWORK')).toBe(true);
    expect(open.message).toMatch(/search service at .* could not be reached.*is it running\?/);
    const remote = await setup(new RemoteVectorIndex({ url: down, apiKey: KEY }));
    const search = await remote.query.search('vitamin', { k: 5, mode: 'dense' }).catch((e) => e);
    expect(isRouterRetrieverError(search, 'NETWORK')).toBe(true);
    expect(search.details.url).toBe(`${down}/`);
    const write = await remote.indexing.upsert(docs.slice(0, 3), 64).catch((e) => e);
    expect(isRouterRetrieverError(write, 'NETWORK')).toBe(true);
    expect(write.message).toMatch(/0 of 3 documents of this call were stored/);
    expect(remote.store.docs.size).toBe(0);
    // Lexical search never needs the service.
    expect((await remote.query.search('vitamin', { k: 5, mode: 'lexical' })).hits).toEqual([]);
  });

  it('checks the URL and the dimension at connect', async () => {
    expect(() => new RemoteVectorIndex({ url: 'ftp://x' })).toThrow(/http\(s\) URL/);
    expect(() => new RemoteVectorIndex({ url: 'not a url' })).toThrow(RouterRetrieverError);
    const err = await RemoteVectorIndex.connect({ url: svc.url }, DIM + 1).catch((e) => e);
    expect(isRouterRetrieverError(err, 'MODEL_MISMATCH')).toBe(true);
    expect(err.message).toMatch(/holds 8-dimensional vectors; the model embeds 9/);
  });
});
