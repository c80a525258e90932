import 'fake-indexeddb/auto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouterRetriever } from '../src/router-retriever.js';
import { readLibraryFile } from '../src/router/library-file.js';
import type { Doc } from '../src/types.js';
import { EncoderEngine } from '../workers/engine/encoder-engine.js';
import { FIXTURES, folderSpec } from './helpers/fixtures.js';

const model = folderSpec(join(FIXTURES, 'tiny-bert'));
const expertA = folderSpec(join(FIXTURES, 'adapters', 'expert-a'));
const expertB = folderSpec(join(FIXTURES, 'adapters', 'expert-b'));
const DIM = 32;
const WORDS = 'apple banana cherry river mountain ocean protein cell gene market stock bond court law judge star'.split(
  ' ',
);
const corpus: Doc[] = Array.from({ length: 30 }, (_, i) => ({
  id: `p${i}`,
  title: `${WORDS[i % WORDS.length]} ${i}`,
  text: `${WORDS[(i * 7) % WORDS.length]} ${WORDS[(i * 3 + 1) % WORDS.length]} number ${i}`,
}));
const queries = corpus.slice(0, 10).map((d) => ({ text: `${d.title} ${d.text}`, relevant: { [d.id]: 1 } }));

let seq = 0;
const fresh = () => `abstain-${++seq}-${Date.now()}`;

describe('routing that can abstain (RouterRetriever, tiny model, fake-indexeddb)', () => {
  const engine = new EncoderEngine();
  beforeAll(async () => {
    await engine.load(model, { device: 'wasm' });
  });
  afterAll(() => engine.dispose());
  const open = (name: string, extra: Partial<Parameters<typeof RouterRetriever.open>[0]> = {}) =>
    RouterRetriever.open({ name, model, encoder: engine, device: 'wasm', ...extra });

  /** Per training query, nDCG@10 (one relevant document) of an encoder retrieving from the corpus, from first principles. */
  async function ndcg(expert: string | null): Promise<number[]> {
    const docs = await engine.embedDocuments(corpus.map((d) => `${d.title} ${d.text}`));
    const qe = await engine.embedQueries(
      queries.map((q) => q.text),
      expert,
    );
    return queries.map((_, i) => {
      const s = corpus.map((_, j) => {
        let x = 0;
        for (let t = 0; t < DIM; t++) x += qe[i * DIM + t] * docs[j * DIM + t];
        return x;
      });
      const order = [...s.keys()].sort((a, b) => s[b] - s[a] || (corpus[a].id < corpus[b].id ? -1 : 1));
      const rank = order.indexOf(i);
      return rank < 10 ? 1 / Math.log2(rank + 2) : 0;
    });
  }

  it('buildPilotLibrary builds the rule; route() says why; minGain decides between an expert and the base', async () => {
    const rr = await open(fresh(), { experts: { 'expert-a': expertA, 'expert-b': expertB } });
    const [base, a, b] = [await ndcg(null), await ndcg('expert-a'), await ndcg('expert-b')];
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    // Ten training queries, k 50: every query's neighbours are all ten, so the gains are the means.
    const gainA = mean(a.map((x, i) => x - base[i]));
    const gainB = mean(b.map((x, i) => x - base[i]));
    const best = Math.max(gainA, gainB);
    const json = await rr.buildPilotLibrary([{ name: 'toy', queries, corpus }], { weighting: 'none' });
    const rule = readLibraryFile(json, DIM).abstain!;
    expect(rule).toMatchObject({ method: 'knn', k: 50, minGain: 0.02, experts: ['expert-a', 'expert-b'], dim: DIM });
    expect(rule.scales).toHaveLength(queries.length);
    const r = await rr.route(queries[0].text);
    expect(r.mode).toBe('knn');
    expect(r.knn!.k).toBe(queries.length);
    expect(r.knn!.gains['expert-a']).toBeCloseTo(gainA, 6);
    expect(r.knn!.gains['expert-b']).toBeCloseTo(gainB, 6);
    expect(r.knn!.margin).toBeCloseTo(best - 0.02, 6);
    expect(r.expert).toBe(best > 0.02 ? (gainA >= gainB ? 'expert-a' : 'expert-b') : null);
    expect(r.abstained).toBe(r.expert === null);
    expect(Object.keys(r.scores).sort()).toEqual(
      Object.keys(json)
        .filter((k) => !k.startsWith('_') && json[k].length > 0)
        .sort(),
    );

    // A threshold above the best gain keeps every query on the base; one below it routes.
    for (const minGain of [best + 0.05, best - 0.05]) {
      await rr.buildPilotLibrary([{ name: 'toy', queries, corpus }], { weighting: 'none', abstain: { minGain } });
      const s = await rr.search(queries[1].text, { k: 3 });
      expect(s.route.abstained).toBe(minGain > best);
      expect(s.route.expert === null).toBe(minGain > best);
      // The dense side is the chosen encoder's: on the base, exactly the base encoder's scores.
      if (s.route.expert === null) {
        const plain = await rr.search(queries[1].text, { k: 3, expert: 'none' });
        expect(s.hits.map((h) => h.scores)).toEqual(plain.hits.map((h) => h.scores));
      }
    }
    // routing 'knn' asked for explicitly is the same rule; 'mean' ignores it; abstain: false builds none.
    const knn = await open(rr.name, { routing: 'knn', experts: { 'expert-a': expertA, 'expert-b': expertB } });
    expect((await knn.route(queries[0].text)).mode).toBe('knn');
    await knn.close();
    const mean2 = await open(rr.name, { routing: 'mean', experts: { 'expert-a': expertA, 'expert-b': expertB } });
    const m = await mean2.route(queries[0].text);
    expect(m).toMatchObject({ mode: 'mean', abstained: false });
    expect(m.expert).not.toBeNull();
    await mean2.close();
    const none = await rr.buildPilotLibrary([{ name: 'toy', queries, corpus }], { weighting: 'none', abstain: false });
    expect('_abstain' in none).toBe(false);
    expect((await rr.route(queries[0].text)).mode).toBe('mean');
    await rr.close();
  });

  it('the rule is stored, exported, imported and reopened with the library; experts changing keep it true', async () => {
    const name = fresh();
    const rr = await open(name, { experts: { 'expert-a': expertA, 'expert-b': expertB } });
    const json = await rr.buildPilotLibrary([{ name: 'toy', queries, corpus }], { weighting: 'none' });
    const before = await rr.route(queries[2].text);
    await rr.close();
    // Reopened: the rule comes back from IndexedDB.
    const again = await open(name, { experts: { 'expert-a': expertA, 'expert-b': expertB } });
    expect(await again.route(queries[2].text)).toEqual(before);
    expect(again.exportPilotLibrary()).toEqual(json);
    // Removing an expert drops its gain column; the other keeps its gains.
    await again.removeExpert('expert-b');
    const after = await again.route(queries[2].text);
    expect(Object.keys(after.knn!.gains)).toEqual(['expert-a']);
    expect(after.knn!.gains['expert-a']).toBeCloseTo(before.knn!.gains['expert-a'], 12);
    // An expert added with hand-given pilots has no gains: the rule is dropped (routing by the mean).
    await again.addExpert('expert-b', expertB, { pilotEmbeddings: [Array.from({ length: DIM }, () => 0.1)] });
    expect('_abstain' in again.exportPilotLibrary()).toBe(false);
    expect((await again.route(queries[2].text)).mode).toBe('mean');
    // Importing the file brings it back, in another collection too.
    await again.importPilotLibrary(JSON.stringify(json));
    expect(await again.route(queries[2].text)).toEqual(before);
    // A rule that misses one of the library's experts is refused, and nothing changes.
    const { _abstain, ...rest } = json as Record<string, unknown>;
    const broken = { ...rest, 'expert-c': [Array.from({ length: DIM }, () => 0)], _abstain };
    await expect(again.importPilotLibrary(broken as never)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(again.exportPilotLibrary()).toEqual(json);
    await again.close();
  });
});
