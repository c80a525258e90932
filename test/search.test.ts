import { describe, expect, it } from 'vitest';
import { Int8Index, SearchIndex, TopK, quantizeVector, type Hit, type VectorChunk } from '../src/search/index.js';
import { isRouterRetrieverError } from '../src/boundary/errors.js';
import { mulberry32 as rng } from '../src/router/random.js';

/** Chunks of small-integer vectors: dot products are exact, so ties are real ties. */
function intChunks(n: number, dim: number, chunkRows: number, seed: number, holes = false): VectorChunk[] {
  const r = rng(seed);
  const chunks: VectorChunk[] = [];
  for (let start = 0; start < n; start += chunkRows) {
    const rows = Math.min(chunkRows, n - start);
    const vectors = new Float32Array(chunkRows * dim); // capacity larger than rows on the last chunk
    const ids: (string | null)[] = [];
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < dim; j++) vectors[i * dim + j] = Math.floor(r() * 5) - 2;
      ids.push(holes && (start + i) % 7 === 3 ? null : `d${String(((start + i) * 7919) % 100003).padStart(6, '0')}`);
    }
    chunks.push({ dim, vectors, ids });
  }
  return chunks;
}

function fullSort(q: Float32Array, chunks: VectorChunk[], k: number): Hit[] {
  const all: Hit[] = [];
  for (const c of chunks) {
    c.ids.forEach((id, r) => {
      if (id === null) return;
      let s = 0;
      for (let j = 0; j < c.dim; j++) s += q[j] * c.vectors[r * c.dim + j];
      all.push({ id, score: s });
    });
  }
  all.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return all.slice(0, k);
}

describe('TopK heap', () => {
  it('keeps the k best, ties by id ascending', () => {
    const h = new TopK(3);
    for (const [s, id] of [
      [1, 'c'],
      [2, 'b'],
      [2, 'a'],
      [2, 'z'],
      [0, 'a'],
      [2, 'd'],
    ] as const)
      h.push(s, id);
    expect(h.sorted()).toEqual([
      { id: 'a', score: 2 },
      { id: 'b', score: 2 },
      { id: 'd', score: 2 },
    ]);
  });
  it('k = 0 keeps nothing; NaN is ignored', () => {
    const h = new TopK(0);
    h.push(1, 'a');
    expect(h.sorted()).toEqual([]);
    const g = new TopK(2);
    g.push(NaN, 'x');
    g.push(1, 'y');
    expect(g.sorted()).toEqual([{ id: 'y', score: 1 }]);
  });
});

/** The JS float64 kernel over chunks (the exact reference the other tests compare with). */
const jsIndex = (chunks: VectorChunk[]) => SearchIndex.fromChunks(chunks, undefined, { backend: 'js' });

describe('exact top-k (SearchIndex, JS kernel)', () => {
  for (const dim of [1, 3, 8, 17]) {
    it(`matches a full sort with many ties (dim ${dim}, holes, odd chunk sizes)`, async () => {
      const chunks = intChunks(2_345, dim, 300, dim, true);
      const index = jsIndex(chunks);
      const r = rng(99 + dim);
      for (let t = 0; t < 5; t++) {
        const q = new Float32Array(dim).map(() => Math.floor(r() * 3) - 1);
        for (const k of [1, 10, 57]) {
          const want = fullSort(q, chunks, k);
          expect(index.search(q, k)).toEqual(want);
          expect(await index.searchAsync(q, k, { yieldEvery: 256 })).toEqual(want);
        }
      }
    });
  }
  it('k larger than the collection returns everything, sorted', () => {
    const chunks = intChunks(10, 4, 4, 1);
    const q = new Float32Array([1, 0, -1, 2]);
    expect(jsIndex(chunks).search(q, 100)).toEqual(fullSort(q, chunks, 100));
    expect(jsIndex(chunks).search(q, 100)).toHaveLength(10);
  });
  it('rejects a wrong dimension, non-finite query and bad k', () => {
    const index = jsIndex(intChunks(10, 4, 4, 1));
    const bad = [
      () => index.search(new Float32Array(3), 1),
      () => index.search(new Float32Array([1, NaN, 0, 0]), 1),
      () => index.search(new Float32Array(4), -1),
      () => index.search(new Float32Array(4), 1.5),
      () => index.search([1, 0, 0, 0] as unknown as Float32Array, 1),
    ];
    for (const f of bad) {
      try {
        f();
        expect.fail('should throw');
      } catch (e) {
        expect(isRouterRetrieverError(e, 'INVALID_INPUT')).toBe(true);
      }
    }
  });
  it('the async variant yields and can be cancelled (float32 and int8 share the scan driver)', async () => {
    const chunks = intChunks(5_000, 16, 1024, 5);
    const q = new Float32Array(16).fill(1);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    for (const index of [jsIndex(chunks), Int8Index.fromChunks(chunks)]) {
      const ac = new AbortController();
      const p = index.searchAsync(q, 5, { yieldEvery: 1024, signal: ac.signal });
      ac.abort();
      await expect(p).rejects.toMatchObject({ code: 'CANCELLED' });
    }
    const hits = await jsIndex(chunks).searchAsync(q, 5, { yieldEvery: 1024 });
    clearInterval(timer);
    expect(hits).toEqual(fullSort(q, chunks, 5));
    expect(ticks).toBeGreaterThan(0);
  });
});

describe('int8 quantization', () => {
  /** Clustered float data: 50 centers, points = center + noise, 64-d. */
  function clustered(n: number, dim: number, seed: number): VectorChunk[] {
    const r = rng(seed);
    const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
    const centers = Array.from({ length: 50 }, () => Float32Array.from({ length: dim }, gauss));
    const chunks: VectorChunk[] = [];
    for (let s = 0; s < n; s += 1024) {
      const rows = Math.min(1024, n - s);
      const v = new Float32Array(rows * dim);
      const ids: string[] = [];
      for (let i = 0; i < rows; i++) {
        const c = centers[Math.floor(r() * centers.length)];
        for (let j = 0; j < dim; j++) v[i * dim + j] = c[j] + 0.5 * gauss();
        ids.push(`doc-${s + i}`);
      }
      chunks.push({ dim, vectors: v, ids });
    }
    return chunks;
  }

  it('per-vector codes reconstruct within scale/2', () => {
    const vectors = new Float32Array([1, -0.5, 0.25, 0, 0, 0, 0, 0]);
    const codes = new Int8Array(8).fill(9);
    const scales = [quantizeVector(vectors, codes, 0, 0, 4), quantizeVector(vectors, codes, 4, 4, 4)];
    // -0.5*127 = -63.5 rounds half up (Math.round) to -63; 0.25*127 = 31.75 -> 32
    expect(Array.from(codes)).toEqual([127, -63, 32, 0, 0, 0, 0, 0]);
    expect(scales[0]).toBeCloseTo(1 / 127, 7);
    expect(scales[1]).toBe(0);
  });

  it('recall@10 vs exact >= 0.99 with rescoring (synthetic clustered data)', async () => {
    const dim = 64;
    const chunks = clustered(20_000, dim, 7);
    const exactIndex = jsIndex(chunks);
    const rows = chunks.flatMap((c) => c.ids.map((_, i) => c.vectors.subarray(i * dim, (i + 1) * dim)));
    const int8 = Int8Index.fromChunks(chunks, undefined, { backend: 'js' });
    const withFloats = Int8Index.fromChunks(chunks, undefined, { backend: 'js', floatBlock: 1024 });
    const r = rng(3);
    let hit = 0;
    let total = 0;
    let hitNoRescore = 0;
    for (let t = 0; t < 50; t++) {
      // queries: perturbed copies of random documents
      const c = chunks[Math.floor(r() * chunks.length)];
      const row = Math.floor(r() * c.ids.length);
      const q = c.vectors.slice(row * dim, row * dim + dim).map((x) => x + 0.3 * (r() - 0.5));
      const exact = new Set(exactIndex.search(q, 10).map((h) => h.id));
      const approx = int8.search(q, 10, { rescore: (i) => rows[i] });
      const plain = int8.search(q, 10, { candidates: 10 });
      for (const h of approx) if (exact.has(h.id)) hit++;
      for (const h of plain) if (exact.has(h.id)) hitNoRescore++;
      total += 10;
      if (t < 5) {
        expect(await int8.searchAsync(q, 10, { rescore: (i) => rows[i], sliceMs: 0 })).toEqual(approx);
        // the float rows kept by the index (the SDK's int8 mode) rescore the same
        expect(await withFloats.searchAsync(q, 10, { sliceMs: 0 })).toEqual(approx);
      }
    }
    const recall = hit / total;
    expect(recall).toBeGreaterThanOrEqual(0.99);
    expect(hitNoRescore / total).toBeLessThanOrEqual(recall);
  });
});
