import { describe, expect, it } from 'vitest';
import { Int8Index, SearchIndex, wasmSimdSupported, type Hit, type VectorChunk } from '../src/search/index.js';
import { isRouterRetrieverError } from '../src/boundary/errors.js';
import { mulberry32 as rng } from '../src/router/random.js';

function chunks(n: number, dim: number, size: number, seed: number, int: boolean): VectorChunk[] {
  const r = rng(seed);
  const out: VectorChunk[] = [];
  for (let s = 0; s < n; s += size) {
    const rows = Math.min(size, n - s);
    const v = new Float32Array(rows * dim).map(() => (int ? Math.floor(r() * 5) - 2 : r() - 0.5));
    out.push({
      dim,
      vectors: v,
      ids: Array.from({ length: rows }, (_, i) => ((s + i) % 13 === 5 ? null : `id${((s + i) * 31) % 4001}`)),
    });
  }
  return out;
}

function fullSort(q: Float32Array, cs: VectorChunk[], k: number): Hit[] {
  const all: Hit[] = [];
  for (const c of cs)
    c.ids.forEach((id, r) => {
      if (id === null) return;
      let s = 0;
      for (let j = 0; j < c.dim; j++) s += q[j] * c.vectors[r * c.dim + j];
      all.push({ id, score: s });
    });
  return all.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1)).slice(0, k);
}

describe('SearchIndex', () => {
  it('uses WASM SIMD in Node 20', () => {
    expect(wasmSimdSupported()).toBe(true);
    expect(new SearchIndex(768).backend).toBe('wasm-simd');
    expect(new SearchIndex(17).backend).toBe('js');
    expect(new SearchIndex(768, { backend: 'js' }).backend).toBe('js');
    try {
      new SearchIndex(17, { backend: 'wasm' });
      expect.fail();
    } catch (e) {
      expect(isRouterRetrieverError(e, 'BACKEND')).toBe(true);
    }
  });

  for (const backend of ['wasm', 'js'] as const) {
    it(`${backend}: exact top-k equals a full sort, with ties (integer data)`, async () => {
      const cs = chunks(3_000, 32, 700, 1, true);
      const index = SearchIndex.fromChunks(cs, undefined, { backend });
      expect(index.rows).toBe(3_000);
      const r = rng(2);
      for (let t = 0; t < 5; t++) {
        const q = new Float32Array(32).map(() => Math.floor(r() * 3) - 1);
        for (const k of [1, 10, 100]) {
          const want = fullSort(q, cs, k);
          expect(index.search(q, k)).toEqual(want);
          expect(await index.searchAsync(q, k, { yieldEvery: 1024 })).toEqual(want);
        }
      }
    });

    it(`${backend}: setRow upserts, frees and grows`, () => {
      const index = new SearchIndex(16, { backend });
      const v = (x: number) => new Float32Array(16).fill(x);
      index.setRow(0, 'a', v(1));
      index.setRow(50_000, 'far', v(3)); // grows memory
      index.setRow(1, 'b', v(2));
      expect(index.search(v(1), 3).map((h) => h.id)).toEqual(['far', 'b', 'a']);
      index.setRow(50_000, null);
      index.setRow(0, 'a', v(5));
      expect(index.search(v(1), 3)).toEqual([
        { id: 'a', score: 80 },
        { id: 'b', score: 32 },
      ]);
      expect(index.size).toBe(2);
    });
  }

  it('float data: WASM (float32 sums) agrees with the JS kernel', () => {
    const cs = chunks(5_000, 768, 1024, 9, false);
    const w = SearchIndex.fromChunks(cs);
    const r = rng(4);
    for (let t = 0; t < 3; t++) {
      const q = new Float32Array(768).map(() => r() - 0.5);
      const a = w.search(q, 10);
      const b = SearchIndex.fromChunks(cs, undefined, { backend: 'js' }).search(q, 10);
      expect(a.map((h) => h.id)).toEqual(b.map((h) => h.id));
      a.forEach((h, i) => expect(Math.abs(h.score - b[i].score)).toBeLessThan(1e-4));
    }
  });

  it('concurrent async searches do not corrupt each other', async () => {
    const cs = chunks(8_000, 32, 1024, 5, true);
    const index = SearchIndex.fromChunks(cs);
    const q1 = new Float32Array(32).fill(1);
    const q2 = new Float32Array(32).map((_, i) => (i % 2 ? 1 : -1));
    const [a, b] = await Promise.all([
      index.searchAsync(q1, 7, { yieldEvery: 1024 }),
      index.searchAsync(q2, 7, { yieldEvery: 1024 }),
    ]);
    expect(a).toEqual(fullSort(q1, cs, 7));
    expect(b).toEqual(fullSort(q2, cs, 7));
  });
});

describe('Int8Index', () => {
  function clustered(n: number, dim: number, seed: number): VectorChunk[] {
    const r = rng(seed);
    const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
    const centers = Array.from({ length: 40 }, () => Float32Array.from({ length: dim }, gauss));
    const out: VectorChunk[] = [];
    for (let s = 0; s < n; s += 1024) {
      const rows = Math.min(1024, n - s);
      const v = new Float32Array(rows * dim);
      for (let i = 0; i < rows; i++) {
        const c = centers[Math.floor(r() * centers.length)];
        for (let j = 0; j < dim; j++) v[i * dim + j] = c[j] + 0.6 * gauss();
      }
      out.push({ dim, vectors: v, ids: Array.from({ length: rows }, (_, i) => `doc-${s + i}`) });
    }
    return out;
  }

  for (const backend of ['wasm', 'js'] as const) {
    it(`${backend}: recall@10 vs exact >= 0.99 after rescoring; exact scores`, async () => {
      const dim = 96;
      const cs = clustered(12_000, dim, 11);
      const exact = SearchIndex.fromChunks(cs, undefined, { backend: 'js' });
      const idx = Int8Index.fromChunks(cs, undefined, { backend });
      expect(idx.backend).toBe(backend === 'wasm' ? 'wasm-simd' : 'js');
      const rows: Float32Array[] = cs.flatMap((c) => c.ids.map((_, r) => c.vectors.subarray(r * dim, (r + 1) * dim)));
      const rescore = (row: number) => rows[row];
      const r = rng(12);
      let hit = 0;
      for (let t = 0; t < 40; t++) {
        const base = rows[Math.floor(r() * rows.length)];
        const q = base.map((x) => x + 0.4 * (r() - 0.5));
        const want = exact.search(q, 10);
        const got = idx.search(q, 10, { rescore });
        const ids = new Set(want.map((h) => h.id));
        hit += got.filter((h) => ids.has(h.id)).length;
        for (const h of got) {
          const w = want.find((x) => x.id === h.id);
          if (w) expect(h.score).toBe(w.score); // rescored exactly with the JS float64 dot
        }
        if (t < 3) expect(await idx.searchAsync(q, 10, { rescore, sliceMs: 0 })).toEqual(got);
      }
      expect(hit / 400).toBeGreaterThanOrEqual(0.99);
    });
  }

  it('setRow equals fromChunks; setRow frees and grows', () => {
    const cs = clustered(100, 32, 3);
    const a = Int8Index.fromChunks(cs);
    const b = new Int8Index(32);
    cs[0].ids.forEach((id, r) => b.setRow(r, id, cs[0].vectors.subarray(r * 32, (r + 1) * 32)));
    const q = cs[0].vectors.subarray(0, 32);
    expect(b.search(q, 5)).toEqual(a.search(q, 5));
    b.setRow(0, null);
    b.setRow(
      200,
      'new',
      Float32Array.from(q, (x) => 3 * x),
    );
    const hits = b.search(q, 3).map((h) => h.id);
    expect(hits[0]).toBe('new');
    expect(hits).not.toContain('doc-0');
  });
});
