import 'fake-indexeddb/auto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouterRetriever } from '../src/router-retriever.js';
import { isRouterRetrieverError, type RouterRetrieverError } from '../src/boundary/errors.js';
import { CollectionStore } from '../src/store/collection.js';
import type { Doc } from '../src/types.js';
import { EncoderEngine } from '../workers/engine/encoder-engine.js';
import { FIXTURES, folderSpec } from './helpers/fixtures.js';

const model = folderSpec(join(FIXTURES, 'tiny-bert'));
const expertA = folderSpec(join(FIXTURES, 'adapters', 'expert-a'));
const expertB = folderSpec(join(FIXTURES, 'adapters', 'expert-b'));

const WORDS =
  'apple banana cherry river mountain ocean protein cell gene market stock bond court law judge star planet orbit'.split(
    ' ',
  );
function makeDocs(n: number, prefix = 'd'): Doc[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${i}`,
    title: `${WORDS[i % WORDS.length]} ${i}`,
    text: `${WORDS[(i * 7) % WORDS.length]} ${WORDS[(i * 3 + 1) % WORDS.length]} ${WORDS[(i * 5 + 2) % WORDS.length]} number ${i}`,
  }));
}

let seq = 0;
const fresh = () => `c${++seq}-${Date.now()}`;

async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<RouterRetrieverError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(isRouterRetrieverError(e, code as never), `${(e as Error).message}`).toBe(true);
    return e as RouterRetrieverError;
  }
  throw new Error(`expected ${code}`);
}

describe('RouterRetriever (Node, in-process encoder, fake-indexeddb)', () => {
  const engine = new EncoderEngine();
  const texts = async () => (await engine.stats()).texts;
  beforeAll(async () => {
    await engine.load(model, { device: 'wasm' });
  });
  afterAll(() => engine.dispose());
  const open = (name: string, extra: Partial<Parameters<typeof RouterRetriever.open>[0]> = {}) =>
    RouterRetriever.open({ name, model, encoder: engine, device: 'wasm', ...extra });

  it('adds in committed slices with progress, searches with the base encoder, fetches docs of the hits only', async () => {
    const rr = await open(fresh());
    const docs = makeDocs(300);
    const progress: { phase: string; done: number }[] = [];
    const res = await rr.add(docs, {
      sliceSize: 128,
      onProgress: (p) => progress.push({ phase: p.phase, done: p.done }),
    });
    expect(res).toEqual({ added: 300, replaced: 0, skipped: 0 });
    expect(progress.filter((p) => p.phase === 'store').map((p) => p.done)).toEqual([128, 256, 300]);
    expect(progress.some((p) => p.phase === 'embed')).toBe(true);
    // A document's own text (title + text) as the query finds it first.
    const target = docs[42];
    const r = await rr.search(`${target.title} ${target.text}`, { k: 5, expert: 'none' });
    expect(r.hits).toHaveLength(5);
    expect(r.hits[0].id).toBe(target.id);
    expect(r.hits[0].doc).toEqual(target);
    expect(r.route).toEqual({ expert: null, mode: 'mean', scores: {}, abstained: false });
    expect(r.timings.total).toBeGreaterThanOrEqual(r.timings.search);
    for (let i = 1; i < r.hits.length; i++) expect(r.hits[i - 1].score).toBeGreaterThanOrEqual(r.hits[i].score);
    const st = await rr.stats();
    expect(st.documents).toBe(300);
    expect(st.dim).toBe(32);
    await rr.close();
  });

  it('upsert replaces, skips identical content without embedding, delete removes from search', async () => {
    const rr = await open(fresh());
    const docs = makeDocs(20);
    await rr.add(docs);
    const before = await texts();
    const same = await rr.upsert(docs);
    expect(same).toEqual({ added: 0, replaced: 0, skipped: 20 });
    expect(await texts()).toBe(before); // nothing embedded
    const changed = { ...docs[3], text: 'completely different words about zebras' };
    const up = await rr.upsert([changed, { id: 'new1', text: 'brand new document' }]);
    expect(up).toEqual({ added: 1, replaced: 1, skipped: 0 });
    expect(await texts()).toBe(before + 2);
    const qtext = `${changed.title} ${changed.text}`;
    const r = await rr.search(qtext, { k: 21, expert: 'none' });
    const hit = r.hits.find((h) => h.id === docs[3].id)!;
    expect(hit.doc.text).toBe(changed.text);
    // its vector is the new content's: dense score = dot(query, embed(new content))
    const qv = await engine.embedQuery(qtext, null);
    const dv = await engine.embedDocuments([qtext]);
    expect(hit.scores.dense).toBeCloseTo(
      qv.reduce((s, x, i) => s + x * dv[i], 0),
      3,
    );
    expect((await rr.stats()).documents).toBe(21);
    expect(await rr.delete([docs[3].id, 'nope'])).toBe(1);
    const r2 = await rr.search(changed.text, { k: 21, expert: 'none' });
    expect(r2.hits.map((h) => h.id)).not.toContain(docs[3].id);
    expect(r2.hits).toHaveLength(20);
    // The freed slot is reused and searchable.
    await rr.add([{ id: 'reuse', text: 'reused slot text' }]);
    const r3 = await rr.search('reused slot text', { k: 30, expert: 'none' });
    expect(r3.hits.map((h) => h.id)).toContain('reuse');
    expect(r3.hits).toHaveLength(21);
    await rr.close();
  });

  it('reopening restores documents, experts (URL source) and pilots with zero re-embedding', async () => {
    const name = fresh();
    const rr = await open(name, {
      experts: { 'expert-a': { adapter: expertA, pilots: { pilotQueries: ['apple banana', 'cherry'] } } },
    });
    await rr.add(makeDocs(150));
    const q = 'river mountain';
    const first = await rr.search(q, { k: 10 });
    expect(first.route.expert).toBe('expert-a');
    await rr.close();
    const rr2 = await open(name, { experts: { 'expert-a': expertA } });
    const afterOpen = await texts();
    expect(afterOpen).toBe(0); // load() reset the counters; opening embedded nothing
    const again = await rr2.search(q, { k: 10 });
    expect(await texts()).toBe(2); // one base pass (routing) + one expert pass, no document
    expect(again.hits.map((h) => h.id)).toEqual(first.hits.map((h) => h.id));
    expect(again.route.expert).toBe('expert-a');
    expect((await rr2.stats()).documents).toBe(150);
    await rr2.close();
  });

  it('an in-memory adapter must be passed again: its pilots stay stored, routing skips it until then', async () => {
    const name = fresh();
    const rr = await open(name);
    await rr.add(makeDocs(10));
    await rr.addExpert('expert-a', expertA, { pilotEmbeddings: [Array.from({ length: 32 }, () => 1)] });
    await rr.close();
    const rr2 = await open(name);
    expect(rr2.listExperts()).toEqual([{ name: 'expert-a', loaded: false, source: undefined, pilots: 1 }]);
    expect((await rr2.route('apple')).expert).toBeNull();
    await rr2.addExpert('expert-a', expertA);
    expect((await rr2.route('apple')).expert).toBe('expert-a'); // pilots kept
    await rr2.close();
  });

  it('routes with given pilot embeddings to the expected expert (mean and max), forced and none', async () => {
    const rr = await open(fresh());
    await rr.add(makeDocs(30));
    const qa = 'apple banana cherry';
    const qb = 'court law judge';
    const ea = await engine.embedQuery(qa, null);
    const eb = await engine.embedQuery(qb, null);
    // Pilots of equal norm: by Cauchy-Schwarz each query is closest to its own direction.
    const unit = (v: Float32Array) => {
      const n = Math.hypot(...v);
      return Array.from(v, (x) => x / n);
    };
    await rr.addExpert('expert-a', expertA, { pilotEmbeddings: [unit(ea)] });
    await rr.addExpert('expert-b', expertB, { pilotEmbeddings: [unit(eb)] });
    const ra = await rr.route(qa);
    expect(ra.expert).toBe('expert-a');
    expect(ra.scores['expert-a']).toBeGreaterThan(ra.scores['expert-b']);
    expect((await rr.route(qb)).expert).toBe('expert-b');
    const s = await rr.search(qb, { k: 3 });
    expect(s.route.expert).toBe('expert-b');
    // the query embedding of the chosen expert was used: same hits as forcing it
    const forced = await rr.search(qb, { k: 3, expert: 'expert-b' });
    expect(forced.hits.map((h) => [h.id, h.score])).toEqual(s.hits.map((h) => [h.id, h.score]));
    expect(forced.route.expert).toBe('expert-b');
    await expectCode(rr.search(qa, { expert: 'nope' }), 'NOT_FOUND');
    // base embedding cached: routing + 'none' on the same query need no new base pass
    const t = await texts();
    await rr.route(qa);
    await rr.search(qa, { k: 3, expert: 'none' });
    expect(await texts()).toBe(t);
    // max mode
    const rm = await open(fresh(), {
      routing: 'max',
      experts: { 'expert-a': { adapter: expertA, pilots: { pilotEmbeddings: [unit(ea)] } } },
    });
    expect((await rm.route(qa)).mode).toBe('max');
    await rm.close();
    await rr.close();
  });

  it('addExpert / removeExpert never re-embed documents nor touch vectors', async () => {
    const rr = await open(fresh());
    const docs = makeDocs(50);
    await rr.add(docs);
    const t0 = await texts();
    const before = await rr.search('ocean protein', { k: 10, expert: 'none' });
    await rr.addExpert('expert-a', expertA, { pilotQueries: ['ocean', 'protein cell'] });
    expect(await texts()).toBe(t0 + 1 + 2); // the query above + 2 pilot queries, no document
    expect((await rr.route('ocean')).expert).toBe('expert-a');
    await rr.removeExpert('expert-a');
    expect(rr.listExperts()).toEqual([]);
    expect(rr.exportPilotLibrary()).toEqual({});
    expect((await rr.route('ocean')).expert).toBeNull();
    const after = await rr.search('ocean protein', { k: 10, expert: 'none' });
    expect(after.hits).toEqual(before.hits);
    expect((await rr.stats()).documents).toBe(50);
    await expectCode(rr.removeExpert('expert-a'), 'NOT_FOUND');
    await rr.close();
  });

  it('validates before writing anything and names the offending document', async () => {
    const rr = await open(fresh());
    let e = await expectCode(
      () =>
        rr.add([
          { id: 'a', text: 'x' },
          { id: '', text: 'y' },
        ]),
      'INVALID_INPUT',
    );
    expect(e.message).toContain('Document 1');
    e = await expectCode(
      () =>
        rr.add([
          { id: 'a', text: 'x' },
          { id: 'a', text: 'y' },
        ]),
      'INVALID_INPUT',
    );
    expect(e.message).toContain('"a"');
    e = await expectCode(() => rr.add([{ id: 'b', text: 3 as unknown as string }]), 'INVALID_INPUT');
    expect(e.details.id).toBe('b');
    await expectCode(() => rr.add('nope' as unknown as Doc[]), 'INVALID_INPUT');
    expect((await rr.stats()).documents).toBe(0);
    await expectCode(rr.search('x', { k: -1 }), 'INVALID_INPUT');
    await expectCode(rr.importPilotLibrary({ x: [[1, 2]] }), 'INVALID_INPUT'); // wrong dim
    await rr.close();
    await expectCode(rr.search('x'), 'NOT_READY');
  });

  it('cancellation keeps the committed slices and reports CANCELLED', async () => {
    const rr = await open(fresh());
    const ac = new AbortController();
    const err = await expectCode(
      rr.add(makeDocs(200), {
        sliceSize: 50,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.phase === 'store' && p.done === 100) ac.abort();
        },
      }),
      'CANCELLED',
    );
    expect(err.details.done).toBe(100);
    expect((await rr.stats()).documents).toBe(100);
    // resume: the first 100 are skipped without embedding
    const res = await rr.add(makeDocs(200));
    expect(res).toEqual({ added: 100, replaced: 0, skipped: 100 });
    await rr.close();
  });

  it('opening with another base model is MODEL_MISMATCH; reindex re-embeds', async () => {
    const name = fresh();
    const store = await CollectionStore.open(name, { fingerprint: 'other-model', dim: 32 });
    await store.putDocs([{ id: 'x', text: 'apple' }], [new Float32Array(32)]);
    store.close();
    await expectCode(open(name), 'MODEL_MISMATCH');
    const rr = await open(name, { onModelMismatch: 'reindex' });
    expect((await rr.stats()).documents).toBe(1);
    const r = await rr.search('apple', { k: 1, expert: 'none' });
    expect(r.hits[0].id).toBe('x');
    expect(r.hits[0].score).not.toBe(0);
    await rr.close();
  });

  it('buildPilotLibrary: the paper algorithm on a hand-made domain, export/import JSON', async () => {
    const rr = await open(fresh(), { experts: { 'expert-a': expertA, 'expert-b': expertB } });
    const corpus = makeDocs(40, 'p');
    const queries = corpus.slice(0, 8).map((d) => ({ text: `${d.title} ${d.text}`, relevant: { [d.id]: 1 } }));
    const json = await rr.buildPilotLibrary([{ name: 'toy', queries, corpus }], { weighting: 'none' });
    // Golden from first principles: recompute with the engine directly.
    const dim = 32;
    const base = await engine.embedQueries(
      queries.map((q) => q.text),
      null,
    );
    const docs = await engine.embedDocuments(corpus.map((d) => `${d.title} ${d.text}`));
    const ndcg = async (expert: string) => {
      const qe = await engine.embedQueries(
        queries.map((q) => q.text),
        expert,
      );
      return queries.map((q, i) => {
        const scores = corpus.map((_, j) => {
          let s = 0;
          for (let t = 0; t < dim; t++) s += qe[i * dim + t] * docs[j * dim + t];
          return s;
        });
        const rank = [...scores.keys()]
          .sort((a, b) => scores[b] - scores[a] || (corpus[a].id < corpus[b].id ? -1 : 1))
          .indexOf(Number(Object.keys(q.relevant)[0].slice(1)));
        return rank < 10 ? 1 / Math.log2(rank + 2) : 0;
      });
    };
    const sa = await ndcg('expert-a');
    const sb = await ndcg('expert-b');
    const groups: Record<string, number[]> = { 'expert-a': [], 'expert-b': [] };
    sa.forEach((a, i) => groups[sb[i] > a ? 'expert-b' : 'expert-a'].push(i));
    for (const [e, members] of Object.entries(groups)) {
      if (members.length === 0) {
        expect(json[e] ?? []).toEqual([]);
        continue;
      }
      expect(json[e]).toHaveLength(1);
      const want = Array.from(
        { length: dim },
        (_, t) => members.reduce((s, i) => s + base[i * dim + t], 0) / members.length,
      );
      json[e][0].forEach((x, t) => expect(x).toBeCloseTo(want[t], 4));
    }
    // export / import round trip
    const exported = rr.exportPilotLibrary();
    expect(exported).toEqual(json);
    await rr.importPilotLibrary(JSON.stringify({ 'expert-b': exported['expert-b'] ?? exported['expert-a'] }));
    expect(Object.keys(rr.exportPilotLibrary())).toEqual(['expert-b']);
    // domain over the collection's own vectors (corpus omitted)
    await rr.add(corpus);
    const json2 = await rr.buildPilotLibrary([{ name: 'own', queries }], { weighting: 'none' });
    expect(json2).toEqual(json);

    // The default, gain weighting: one pilot per expert = the gain-weighted mean of its group
    // centroids. One domain, k = 1: the centroid of the queries the expert wins outright
    // (gain > 0); queries where both experts tie gain nothing and join no group.
    const gainJson = await rr.buildPilotLibrary([{ name: 'own', queries }]);
    for (const [e, own, other] of [
      ['expert-a', sa, sb],
      ['expert-b', sb, sa],
    ] as const) {
      const members = own.flatMap((x, i) => (x > other[i] ? [i] : []));
      if (members.length === 0) {
        expect(gainJson[e] ?? []).toEqual([]);
        continue;
      }
      expect(gainJson[e]).toHaveLength(1);
      const want = Array.from(
        { length: dim },
        (_, t) => members.reduce((s, i) => s + base[i * dim + t], 0) / members.length,
      );
      gainJson[e][0].forEach((x, t) => expect(x).toBeCloseTo(want[t], 4));
    }
    await rr.close();
  });

  it('buildPilotLibrary with gain weighting refuses a library without pilots and keeps the old one', async () => {
    const rr = await open(fresh(), { experts: { 'expert-a': expertA } });
    const corpus = makeDocs(20, 'g');
    const queries = corpus.slice(0, 4).map((d) => ({ text: d.text, relevant: { [d.id]: 1 } }));
    const before = await rr.buildPilotLibrary([{ name: 'toy', queries, corpus }], { weighting: 'none' });
    // One expert: its gain over the mean expert (itself) is 0 on every query.
    const err = await rr.buildPilotLibrary([{ name: 'toy', queries, corpus }]).catch((e: unknown) => e);
    expect(isRouterRetrieverError(err) && err.code).toBe('INVALID_INPUT');
    expect((err as Error).message).toMatch(/No training query separates the experts.*weighting: 'none'/);
    expect(rr.exportPilotLibrary()).toEqual(before);
    await rr.close();
  });

  it('exports the whole collection as one file and imports it elsewhere without embedding', async () => {
    const rr = await open(fresh(), {
      experts: { 'expert-a': { adapter: expertA, pilots: { pilotQueries: ['apple'] } } },
    });
    await rr.add(makeDocs(60));
    const want = await rr.search('star planet', { k: 5, expert: 'none' });
    const blob = await rr.exportCollection();
    await rr.close();
    const name = fresh();
    const rr2 = await RouterRetriever.importCollection(name, blob, {
      model,
      encoder: engine,
      experts: { 'expert-a': expertA },
    });
    expect(await texts()).toBe(0);
    expect((await rr2.stats()).documents).toBe(60);
    const got = await rr2.search('star planet', { k: 5, expert: 'none' });
    expect(got.hits).toEqual(want.hits);
    expect(Object.keys(rr2.exportPilotLibrary())).toEqual(['expert-a']);
    await rr2.clear();
    expect((await rr2.stats()).documents).toBe(0);
    expect((await rr2.search('star', { expert: 'none' })).hits).toEqual([]);
    await rr2.close();
  });

  it('int8 mode gives the same top hits as float32', async () => {
    const name = fresh();
    const rr = await open(name);
    await rr.add(makeDocs(200));
    const want = await rr.search('gene market', { k: 5, expert: 'none' });
    await rr.close();
    const r8 = await open(name, { int8: true });
    expect((await r8.stats()).dtype).toBe('int8');
    const got = await r8.search('gene market', { k: 5, expert: 'none' });
    expect(got.hits.map((h) => h.id)).toEqual(want.hits.map((h) => h.id));
    got.hits.forEach((h, i) => expect(h.score).toBeCloseTo(want.hits[i].score, 3));
    await r8.add([{ id: 'late', text: 'gene market gene market' }]);
    expect((await r8.search('gene market gene market', { k: 1, expert: 'none' })).hits[0].id).toBe('late');
    await r8.close();
  });

  it("a second instance on the same collection sees the first one's writes", async () => {
    const name = fresh();
    const a = await open(name);
    await a.add(makeDocs(10));
    const b = await open(name);
    expect((await b.search('apple', { k: 20, expert: 'none' })).hits).toHaveLength(10);
    await a.add([{ id: 'from-a', text: 'written by the first instance' }]);
    await new Promise((r) => setTimeout(r, 20)); // BroadcastChannel delivery
    const r = await b.search('written by the first instance', { k: 1, expert: 'none' });
    expect(r.hits[0].id).toBe('from-a');
    await a.close();
    await b.close();
  });

  it('hybrid by default; lexical needs no encoder pass; reopening restores the lexical hits with no document analyzed', async () => {
    const name = fresh();
    const rr = await open(name);
    const docs = [...makeDocs(120), { id: 'needle', text: 'a xylophone quartet' }];
    await rr.add(docs);
    expect((await rr.stats()).lexical).toMatchObject({ analyzedDocuments: 121 });
    const q = 'xylophone';
    // lexical weight 0.6: the only document with the term scores >= 0.6, any other <= 0.4 (dense side only)
    const hybrid = await rr.search(q, { k: 10, fusion: { method: 'convex', weight: 0.6 } });
    expect(hybrid.hits[0].id).toBe('needle');
    expect(hybrid.hits[0].scores.lexical).toBeGreaterThan(0);
    expect(hybrid.hits[1].scores.lexical).toBeNull();
    expect(hybrid.hits[1].scores.dense).not.toBeNull();
    expect(hybrid.hits).toHaveLength(10);
    const t = await texts();
    const lexical = await rr.search('court law judge number 17', { k: 10, mode: 'lexical' });
    expect(await texts()).toBe(t);
    expect(lexical.hits[0].id).toBe('d17'); // its number is the rarest term
    await rr.close();
    const rr2 = await open(name);
    const st = await rr2.stats();
    expect(st.lexical.analyzedDocuments).toBe(0);
    expect(st.lexical.terms).toBeGreaterThan(100);
    expect(await texts()).toBe(0);
    expect((await rr2.search('court law judge number 17', { k: 10, mode: 'lexical' })).hits).toEqual(lexical.hits);
    expect((await rr2.search(q, { k: 10, fusion: { method: 'convex', weight: 0.6 } })).hits).toEqual(hybrid.hits);
    expect(await rr2.delete(['needle'])).toBe(1);
    expect((await rr2.search(q, { k: 200 })).hits.map((h) => h.id)).not.toContain('needle');
    expect((await rr2.search(q, { k: 200, mode: 'lexical' })).hits).toEqual([]);
    await rr2.close();
  });

  it('the default fusion: the open option, else the pilot library\'s "_fusion", else DEFAULT_LEXICAL_WEIGHT; bad ones are INVALID_INPUT', async () => {
    const name = fresh();
    const pilot = Array.from({ length: 32 }, () => 1);
    const rr = await open(name, { pilotLibrary: { x: [pilot], _fusion: { method: 'rrf', weight: 0.7 } } as never });
    expect(rr.defaultFusion()).toEqual({ method: 'rrf', weight: 0.7 });
    expect(rr.exportPilotLibrary()).toEqual({ x: [pilot], _fusion: { method: 'rrf', weight: 0.7 } });
    await rr.close();
    const again = await open(name);
    expect(again.defaultFusion()).toEqual({ method: 'rrf', weight: 0.7 }); // stored with the library
    await again.close();
    const given = await open(name, { fusion: { method: 'convex', weight: 0.1 } });
    expect(given.defaultFusion()).toEqual({ method: 'convex', weight: 0.1 });
    await given.importPilotLibrary({ x: [pilot] });
    await given.close();
    const plain = await open(name);
    expect(plain.defaultFusion()).toEqual({ method: 'convex', weight: 0.65, baseWeight: 0.8 });
    const e = await expectCode(plain.search('x', { fusion: { method: 'convex', weight: 3 } }), 'INVALID_INPUT');
    expect(e.message).toContain('fusion.weight');
    await plain.close();
    const bad = await expectCode(open(fresh(), { fusion: { method: 'sum' as never, weight: 0.3 } }), 'INVALID_INPUT');
    expect(bad.message).toContain('fusion.method');
    await expectCode(open(fresh(), { lexical: { analyzer: 'x' as never } }), 'INVALID_INPUT');
  });
});
