/** The hybrid query path (src/retriever/query.ts) with a fake encoder and an in-memory store. */
import { describe, expect, it } from 'vitest';
import type { Doc } from '../src/doc.js';
import {
  DEFAULT_FUSION,
  DEFAULT_LEXICAL_WEIGHT,
  DEFAULT_LEXICAL_WEIGHT_BASE,
  checkFusion,
  splitFusion,
  type FusionSetting,
} from '../src/hybrid/fusion-json.js';
import { ExpertRegistry } from '../src/retriever/experts.js';
import { writeLibraryFile } from '../src/router/library-file.js';
import { Indexing } from '../src/retriever/indexing.js';
import { LiveIndex } from '../src/retriever/live-index.js';
import { QueryEngine } from '../src/retriever/query.js';
import { DIM, FakeEncoder, MemoryStore, fakeEmbedding, routingDeps } from './helpers/fakes.js';

const TEXTS = [
  'vitamin d reduces fracture risk in older adults',
  'calcium and vitamin supplements',
  'fracture healing in bones',
  'the history of the roman empire',
  'risk factors of heart disease',
  'older adults and exercise',
  'quantum mechanics for beginners',
  'bone density measured in adults',
];
const docs: Doc[] = TEXTS.map((text, i) => ({ id: `d${i}`, text }));
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

async function setup(defaultFusion?: FusionSetting) {
  const encoder = new FakeEncoder();
  const store = new MemoryStore();
  const live = await LiveIndex.load(store, 'auto');
  const indexing = new Indexing({ encoder, store, live, changed: () => undefined });
  const experts = new ExpertRegistry({ encoder, store, dim: DIM, changed: () => undefined });
  const query = new QueryEngine({
    encoder,
    store,
    live,
    ...routingDeps(experts),
    defaultFusion: defaultFusion ? () => defaultFusion : undefined,
  });
  await indexing.upsert(docs, 3);
  return { encoder, store, live, indexing, experts, query };
}

/** The convex fusion worked out independently: min-max of each full list, missing side 0. */
function convexByHand(q: string, w: number, live: LiveIndex, dense: { id: string; score: number }[]) {
  const lex = live.lexical.search(q, 100);
  const norm = (xs: { id: string; score: number }[]) => {
    const lo = Math.min(...xs.map((x) => x.score));
    const hi = Math.max(...xs.map((x) => x.score));
    return new Map(xs.map((x) => [x.id, hi > lo ? (x.score - lo) / (hi - lo) : 1]));
  };
  const dn = norm(dense);
  const ln = norm(lex);
  const ids = new Set([...dn.keys(), ...ln.keys()]);
  return [...ids]
    .map((id) => ({ id, score: (1 - w) * (dn.get(id) ?? 0) + w * (ln.get(id) ?? 0) }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
}

describe('hybrid search', () => {
  it("'lexical' never calls the encoder and ranks by BM25; dense scores are null", async () => {
    const { encoder, live, query } = await setup();
    const before = encoder.embedded.length;
    const r = await query.search('vitamin d fracture', { mode: 'lexical', k: 3 });
    expect(encoder.embedded.length).toBe(before);
    expect(r.hits.map((h) => [h.id, h.score])).toEqual(
      live.lexical.search('vitamin d fracture', 3).map((h) => [h.id, h.score]),
    );
    expect(r.hits[0]).toMatchObject({ id: 'd0', scores: { dense: null, fused: r.hits[0].score } });
    expect(r.hits[0].scores.lexical).toBe(r.hits[0].score);
    expect(r.route).toEqual({ expert: null, mode: 'mean', scores: {}, abstained: false });
    expect(r.timings.encode).toBe(0);
    expect(typeof r.timings.lexical).toBe('number');
  });

  it("'dense' is the embedding ranking alone: score = dot product, lexical null", async () => {
    const { query } = await setup();
    const q = 'roman history';
    const r = await query.search(q, { mode: 'dense', k: 8, expert: 'none' });
    const want = docs
      .map((d) => ({ id: d.id, score: dot(fakeEmbedding(q, null), fakeEmbedding(d.text, null)) }))
      .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
    expect(r.hits.map((h) => h.id)).toEqual(want.map((h) => h.id));
    r.hits.forEach((h, i) => {
      expect(h.score).toBeCloseTo(want[i].score, 4);
      expect(h.scores).toEqual({ dense: h.score, lexical: null, fused: h.score });
    });
    expect(r.timings.lexical).toBe(0);
  });

  it("'hybrid' (the default) fuses min-max normalised lists with the default weight; each hit carries both sides", async () => {
    const { query, live } = await setup();
    const q = 'vitamin fracture adults';
    const dense = (await query.search(q, { mode: 'dense', k: 100, expert: 'none' })).hits.map((h) => ({
      id: h.id,
      score: h.score,
    }));
    const r = await query.search(q, { k: 5 });
    // No expert is routable here, so the query stays on the base encoder: the base weight applies.
    const want = convexByHand(q, DEFAULT_LEXICAL_WEIGHT_BASE, live, dense).slice(0, 5);
    const other = convexByHand(q, DEFAULT_LEXICAL_WEIGHT, live, dense).slice(0, 5);
    expect(other.map((h) => h.score)).not.toEqual(want.map((h) => h.score));
    expect(r.hits.map((h) => h.id)).toEqual(want.map((h) => h.id));
    for (const [i, h] of r.hits.entries()) expect(h.score).toBeCloseTo(want[i].score, 10);
    const top = r.hits[0];
    expect(top.scores.fused).toBe(top.score);
    expect(top.scores.dense).toBeCloseTo(dense.find((d) => d.id === top.id)!.score, 6);
    expect(top.scores.lexical).toBe(live.lexical.search(q, 100).find((h) => h.id === top.id)!.score);
    // a document with none of the query's terms has no lexical score
    const noTerms = r.hits.find((h) => !/vitamin|fractur|adult/.test(docs[Number(h.id.slice(1))].text));
    if (noTerms) expect(noTerms.scores.lexical).toBeNull();
  });

  it('fusion per call: weight 0 = the dense order, weight 1 = the BM25 order, rrf by reciprocal ranks', async () => {
    const { query, live } = await setup();
    const q = 'older adults risk';
    const dense = (await query.search(q, { mode: 'dense', k: 8, expert: 'none' })).hits.map((h) => h.id);
    const lex = live.lexical.search(q, 8).map((h) => h.id);
    expect(
      (await query.search(q, { k: 8, fusion: { method: 'convex', weight: 0 } })).hits
        .map((h) => h.id)
        .slice(0, dense.length),
    ).toEqual(dense);
    // weight 1: the BM25 order (its last document normalises to 0, as a document it lacks does: compare the others)
    const lexOnly = (await query.search(q, { k: lex.length, fusion: { method: 'convex', weight: 1 } })).hits;
    expect(lexOnly.map((h) => h.id).slice(0, lex.length - 1)).toEqual(lex.slice(0, -1));
    expect(lexOnly.at(-1)!.score).toBe(0);
    const rrf = await query.search(q, { k: 8, fusion: { method: 'rrf', weight: 0.5 } });
    const rank = (list: string[], id: string) => list.indexOf(id);
    const byHand = [...new Set([...dense, ...lex])]
      .map((id) => ({
        id,
        s:
          (rank(dense, id) >= 0 ? 0.5 / (61 + rank(dense, id)) : 0) +
          (rank(lex, id) >= 0 ? 0.5 / (61 + rank(lex, id)) : 0),
      }))
      .sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : 1));
    expect(rrf.hits.map((h) => h.id)).toEqual(byHand.map((h) => h.id));
  });

  it('the default fusion comes from the deps (open option / pilot library)', async () => {
    const { query, live } = await setup({ method: 'convex', weight: 1 });
    const q = 'bone fracture';
    const lex = live.lexical.search(q, 10).map((h) => h.id);
    expect((await query.search(q, { k: lex.length })).hits.map((h) => h.id).slice(0, -1)).toEqual(lex.slice(0, -1));
  });

  it('the route is computed once: one base pass serves routing and, with no expert, the dense side; with an expert, one more pass', async () => {
    const { encoder, query, experts } = await setup();
    let before = encoder.embedded.length;
    const r = await query.search('vitamin d', { k: 3 });
    expect(r.route.expert).toBeNull();
    expect(encoder.embedded.slice(before)).toEqual([{ text: 'vitamin d', expert: null }]);
    const unit = Float32Array.from({ length: DIM }, (_, i) => (i === 0 ? 1 : 0));
    await experts.add('xa', { files: {} } as never, { pilotEmbeddings: [Array.from(unit)] });
    before = encoder.embedded.length;
    const routed = await query.search('bone density', { k: 3 });
    expect(routed.route.expert).toBe('xa');
    expect(encoder.embedded.slice(before)).toEqual([
      { text: 'bone density', expert: null },
      { text: 'bone density', expert: 'xa' },
    ]);
    // the dense side is the expert's: same hits' dense scores as forcing it in dense mode
    const forced = await query.search('bone density', { k: 100, mode: 'dense', expert: 'xa' });
    for (const h of routed.hits)
      if (h.scores.dense !== null) expect(h.scores.dense).toBe(forced.hits.find((f) => f.id === h.id)!.score);
  });

  it('k above the fusion depth returns k hits; k 0 returns none', async () => {
    const { query } = await setup();
    expect((await query.search('adults', { k: 0 })).hits).toEqual([]);
    expect((await query.search('adults', { k: 8 })).hits).toHaveLength(8);
  });

  it('bad options are INVALID_INPUT naming the field, before any encoder pass', async () => {
    const { encoder, query } = await setup();
    const before = encoder.embedded.length;
    const cases: [unknown, string][] = [
      [{ mode: 'sparse' }, 'mode'],
      [{ fusion: { method: 'max', weight: 0.5 } }, 'fusion.method'],
      [{ fusion: { method: 'convex', weight: 1.5 } }, 'fusion.weight'],
      [{ fusion: { method: 'convex' } }, 'fusion.weight'],
      [{ fusion: 0.3 }, 'fusion'],
      [{ k: 2.5 }, 'k'],
    ];
    for (const [opts, field] of cases) {
      const e = await query.search('x', opts as never).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'INVALID_INPUT', details: { field } });
      expect((e as Error).message).toContain(field);
    }
    expect(encoder.embedded.length).toBe(before);
  });

  it('a write that fails leaves both live indexes and the lexicon as they were', async () => {
    const { store, live, indexing, query } = await setup();
    const lexBefore = store.lexicon.size;
    const q = 'zebra vitamin';
    const before = await query.search(q, { k: 8 });
    store.failNextWrite = true;
    await expect(indexing.upsert([{ id: 'z', text: 'zebra zebra vitamin' }], 3)).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
    });
    expect(store.lexicon.size).toBe(lexBefore);
    expect(live.lexical.documents).toBe(docs.length);
    expect(live.index.rows).toBe(docs.length);
    expect(await query.search(q, { k: 8 })).toMatchObject({ hits: before.hits });
    await indexing.upsert([{ id: 'z', text: 'zebra zebra vitamin' }], 3);
    expect((await query.search(q, { k: 1, mode: 'lexical' })).hits[0].id).toBe('z');
    await indexing.delete(['z']);
    expect((await query.search('zebra', { k: 8 })).hits.map((h) => h.id)).not.toContain('z');
    expect((await query.search('zebra', { k: 8, mode: 'lexical' })).hits).toEqual([]);
  });
});

describe('the pilot library\'s "_fusion"', () => {
  it('splitFusion takes it out (string or object), checks it, and writeLibraryFile puts it back', () => {
    const json = { a: [[1, 0]], _fusion: { method: 'rrf', weight: 0.25 } };
    expect(splitFusion(json)).toEqual({ pilots: { a: [[1, 0]] }, fusion: { method: 'rrf', weight: 0.25 } });
    expect(splitFusion(JSON.stringify(json))).toEqual(splitFusion(json));
    expect(splitFusion({ a: [[1]] })).toEqual({ pilots: { a: [[1]] }, fusion: undefined });
    expect(writeLibraryFile({ a: [[1]] }, { fusion: { method: 'convex', weight: 0.4 } })).toEqual({
      a: [[1]],
      _fusion: { method: 'convex', weight: 0.4 },
    });
    expect(() => splitFusion({ _fusion: { method: 'convex', weight: -1 } })).toThrow(/_fusion"\.weight/);
    expect(() => splitFusion('{')).toThrow(/not valid JSON/);
    expect(checkFusion({ method: 'convex', weight: 0 })).toEqual({ method: 'convex', weight: 0 });
    expect(DEFAULT_FUSION).toEqual({ method: 'convex', weight: 0.65, baseWeight: 0.8 });
    expect(checkFusion({ method: 'rrf', weight: 0.5, baseWeight: 0.7 })).toEqual({
      method: 'rrf',
      weight: 0.5,
      baseWeight: 0.7,
    });
    expect(() => checkFusion({ method: 'convex', weight: 0.5, baseWeight: 2 })).toThrow(/fusion\.baseWeight/);
  });

  it('importLibrary keeps it beside the pilots (not an expert), stores it, exports it back; a library without it clears it', async () => {
    const { experts, store } = await setup();
    const pilot = Array.from({ length: DIM }, (_, i) => (i === 1 ? 1 : 0));
    await experts.importLibrary({ xa: [pilot], _fusion: { method: 'convex', weight: 0.45 } } as never);
    expect(experts.fusion()).toEqual({ method: 'convex', weight: 0.45 });
    expect([...(await store.getPilots()).keys()]).toEqual(['xa']);
    expect((await store.getPilotExtras()).fusion).toEqual({ method: 'convex', weight: 0.45 });
    expect(experts.exportLibrary()).toEqual({ xa: [pilot], _fusion: { method: 'convex', weight: 0.45 } });
    // kept when experts change, restored from the store
    await experts.add('xb', { files: {} } as never, { pilotEmbeddings: [pilot] });
    const again = new ExpertRegistry({ encoder: new FakeEncoder(), store, dim: DIM, changed: () => undefined });
    await again.restore({});
    expect(again.fusion()).toEqual({ method: 'convex', weight: 0.45 });
    await expect(
      experts.importLibrary({ xa: [pilot], _fusion: { method: 'convex', weight: 'high' } } as never),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(experts.fusion()).toEqual({ method: 'convex', weight: 0.45 });
    await experts.importLibrary({ xa: [pilot] });
    expect(experts.fusion()).toBeUndefined();
    expect(experts.exportLibrary()).toEqual({ xa: [pilot] });
  });
});
