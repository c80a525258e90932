import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncoderEngine } from '../workers/engine/encoder-engine.js';
import { isRouterRetrieverError } from '../src/boundary/errors.js';
import { FIXTURES, folderSpec, golden, maxAbsDiff } from './helpers/fixtures.js';

const g = golden();
const dim = g.embeddings.base[0].length;
const rows = (flat: Float32Array, i: number) => flat.subarray(i * dim, (i + 1) * dim);

describe.each(['model.safetensors', 'pytorch_model.bin'])(
  'EncoderEngine on WASM in Node, weights from %s',
  (weightsFile) => {
    const engine = new EncoderEngine();
    beforeAll(async () => {
      const spec = folderSpec(join(FIXTURES, 'tiny-bert'));
      const other = weightsFile === 'model.safetensors' ? 'pytorch_model.bin' : 'model.safetensors';
      delete spec.files[other];
      const info = await engine.load(spec, { device: 'wasm', dtype: 'fp32' });
      expect(info.backend).toBe('wasm');
      expect(info.dim).toBe(dim);
      await engine.addExpert('expert-a', folderSpec(join(FIXTURES, 'adapters', 'expert-a')));
      await engine.addExpert('expert-b', folderSpec(join(FIXTURES, 'adapters', 'expert-b')));
    });
    afterAll(() => engine.dispose());

    it('matches the PyTorch reference for the base encoder, batched and bucketed', async () => {
      const out = await engine.embedDocuments(g.texts, { batchSize: 4 });
      g.texts.forEach((_, i) => expect(maxAbsDiff(rows(out, i), g.embeddings.base[i])).toBeLessThanOrEqual(1e-4));
    });

    it.each(['expert-a', 'expert-b'])('matches the reference for %s, one query at a time', async (name) => {
      for (let i = 0; i < g.texts.length; i++) {
        const v = await engine.embedQuery(g.texts[i], name);
        expect(maxAbsDiff(v, g.embeddings[name][i])).toBeLessThanOrEqual(1e-4);
      }
    });

    it('keeps the base encoder unchanged while experts are registered', async () => {
      const v = await engine.embedQuery(g.texts[0], null);
      expect(maxAbsDiff(v, g.embeddings.base[0])).toBeLessThanOrEqual(1e-4);
      const a = await engine.embedQuery(g.texts[0], 'expert-a');
      expect(maxAbsDiff(a, v)).toBeGreaterThan(1e-3);
    });

    it('counts calls, texts and the time spent inside onnxruntime', async () => {
      const before = await engine.stats();
      await engine.embedQuery(g.texts[1], 'expert-a');
      await engine.embedDocuments(g.texts.slice(0, 3), { batchSize: 2 });
      const after = await engine.stats();
      expect(after.calls - before.calls).toBe(2);
      expect(after.texts - before.texts).toBe(4);
      expect(after.inferenceMs).toBeGreaterThan(before.inferenceMs);
    });

    it('lists resident experts with their memory and removes them', async () => {
      const list = await engine.listExperts();
      expect(list.map((e) => e.name)).toEqual(['expert-a', 'expert-b']);
      expect(list[0].residentBytes).toBe(2 * 2 * 32 * 32 * 4); // query + value of 2 layers, 32x32 floats
      expect(list[1].targets).toHaveLength(6); // query, key, value of 2 layers
    });

    it('reports progress with counts, rate and ETA, and honours cancellation', async () => {
      const seen: number[] = [];
      await engine.embedDocuments(g.texts, { batchSize: 3 }, (p) => {
        seen.push(p.done);
        expect(p.total).toBe(g.texts.length);
        expect(p.docsPerSec).toBeGreaterThan(0);
      });
      expect(seen.at(-1)).toBe(g.texts.length);
      const job = engine.embedDocuments(g.texts, { batchSize: 1, jobId: 'j1' }, (p) => {
        if (p.done === 2) void engine.cancel('j1');
      });
      await expect(job).rejects.toMatchObject({ code: 'CANCELLED' });
    });

    it('rejects an unknown expert and an adapter with a wrong shape, with typed errors', async () => {
      await expect(engine.embedQuery('x', 'nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      const err = await engine.addExpert('bad', folderSpec(join(FIXTURES, 'adapters', 'bad-shape'))).catch((e) => e);
      expect(isRouterRetrieverError(err, 'ADAPTER_MISMATCH')).toBe(true);
      expect(String(err.message)).toMatch(/lora_B|shape/);
      expect((await engine.listExperts()).map((e) => e.name)).not.toContain('bad');
    });
  },
);

describe('EncoderEngine pooling options', () => {
  it('CLS pooling with normalisation matches the reference', async () => {
    const engine = new EncoderEngine();
    await engine.load(folderSpec(join(FIXTURES, 'tiny-bert')), {
      device: 'wasm',
      dtype: 'fp32',
      pooling: 'cls',
      normalize: true,
    });
    const out = await engine.embedDocuments(g.texts);
    g.texts.forEach((_, i) =>
      expect(maxAbsDiff(rows(out, i), g.embeddings['base-cls-normalized'][i])).toBeLessThanOrEqual(1e-4),
    );
    await engine.dispose();
  });
});
