/**
 * The q8 encoder against fp32 on the fixture model, both real onnxruntime-web WASM sessions:
 * cosine >= 0.995 per text for the base and each expert (the quality gate), experts
 * merged in fp32 then quantized, switched by feeds, a quarter of the fp32 memory.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncoderEngine } from '../workers/engine/encoder-engine.js';
import { FIXTURES, folderSpec, golden } from './helpers/fixtures.js';

const g = golden();
const dim = g.embeddings.base[0].length;
const GATE = 0.995;

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

const experts = ['expert-a', 'expert-b'];

describe.each([true, false])('q8 against fp32 on tiny-bert (base branches: %s)', (baseBranches) => {
  const fp32 = new EncoderEngine({ baseBranches });
  const q8 = new EncoderEngine({ baseBranches });
  beforeAll(async () => {
    await fp32.load(folderSpec(join(FIXTURES, 'tiny-bert')), { device: 'wasm', dtype: 'fp32' });
    const info = await q8.load(folderSpec(join(FIXTURES, 'tiny-bert')), { device: 'wasm', dtype: 'q8' });
    expect(info.dtype).toBe('q8');
    for (const e of [fp32, q8]) {
      for (const name of experts) await e.addExpert(name, folderSpec(join(FIXTURES, 'adapters', name)));
    }
  });
  afterAll(async () => {
    await fp32.dispose();
    await q8.dispose();
  });

  it.each([null, ...experts])(`cosine(q8, fp32) >= ${GATE} on every text, expert %s`, async (expert) => {
    const a = await fp32.embedQueries(g.texts, expert, { batchSize: 4 });
    const b = await q8.embedQueries(g.texts, expert, { batchSize: 4 });
    for (let i = 0; i < g.texts.length; i++) {
      const cos = cosine(a.subarray(i * dim, (i + 1) * dim), b.subarray(i * dim, (i + 1) * dim));
      expect(cos, `text ${i}`).toBeGreaterThanOrEqual(GATE);
    }
  });

  it('is int8, not fp32 in disguise: close to the reference but not equal to fp32', async () => {
    const a = await fp32.embedQuery(g.texts[0], 'expert-a');
    const b = await q8.embedQuery(g.texts[0], 'expert-a');
    expect(a).not.toEqual(b);
  });

  it('switches experts by feeds: base, a, b, base again give the same vectors as each alone', async () => {
    const t = g.texts[2];
    const alone = await Promise.all([null, 'expert-a', 'expert-b'].map((e) => q8.embedQuery(t, e)));
    const mixed = [];
    for (const e of [null, 'expert-a', 'expert-b', null]) mixed.push(await q8.embedQuery(t, e));
    expect(mixed[0]).toEqual(alone[0]);
    expect(mixed[1]).toEqual(alone[1]);
    expect(mixed[2]).toEqual(alone[2]);
    expect(mixed[3]).toEqual(alone[0]);
    expect(cosine(alone[0], alone[1])).toBeLessThan(0.9999);
  });

  it.each([null, 'expert-b'])(
    "a text's vector does not depend on its batch or its padding (expert %s)",
    async (expert) => {
      // Per-row activation scales: each text alone, and all of them in batches of 5 and 18 where
      // the longest text pads the others, give the same numbers up to fp32 rounding (measured:
      // 2.4e-7 at most, as fp32 itself: 7.2e-7). With one scale per batch every text moved, by up
      // to 0.025 (base) and 0.23 (expert-b).
      const alone = [];
      for (const t of g.texts) alone.push(await q8.embedQuery(t, expert));
      for (const batchSize of [5, g.texts.length]) {
        const batched = await q8.embedQueries(g.texts, expert, { batchSize });
        const worst = alone.map((v, i) => {
          let m = 0;
          for (let j = 0; j < dim; j++) m = Math.max(m, Math.abs(batched[i * dim + j] - v[j]));
          return m;
        });
        expect(Math.max(...worst)).toBeLessThan(1e-5);
      }
    },
  );

  it('keeps each expert as int8 levels plus a float scale per output column', async () => {
    const [a32, b32] = await fp32.listExperts();
    const [a8, b8] = await q8.listExperts();
    // expert-a: query + value of 2 layers, 32 x 32: 4096 int8 levels + 128 scales (fp32: 16384 bytes)
    expect(a8.residentBytes).toBe(2 * 2 * (32 * 32 + 32 * 4));
    expect(a32.residentBytes).toBe(2 * 2 * 32 * 32 * 4);
    // expert-b also targets key (the graph was widened once): 6 matrices
    expect(b8.targets).toHaveLength(6);
    expect(b8.residentBytes).toBe(6 * (32 * 32 + 32 * 4));
    expect(b32.residentBytes / b8.residentBytes).toBeCloseTo(4 / (1 + 4 / 32), 5);
  });
});
