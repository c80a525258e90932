import { describe, expect, it, beforeAll } from 'vitest';
import * as ort from 'onnxruntime-web';
import { buildBertGraph, linearWeightNames, useBaseInput, type GraphVariant } from '../workers/model/bert-graph.js';
import type { BertConfig } from '../workers/model/config.js';
import type { F32Tensor } from '../workers/model/tensor.js';
import { mergedTransposed, transpose } from '../workers/lora/merge.js';
import { isRouterRetrieverError } from '../src/boundary/errors.js';
import { existsSync, readFileSync } from 'node:fs';
import { parseSafetensors } from '../workers/model/safetensors.js';
import { parseTorchBinSync } from '../workers/model/torch-bin.js';
import { toFloat32 } from '../workers/model/tensor-convert.js';
import { parseBertConfig } from '../workers/model/config.js';
import { parseAdapterConfig, resolveAdapter } from '../workers/lora/adapter.js';
import type { StateDict } from '../workers/model/tensor.js';
import { mulberry32 as rng } from '../src/router/random.js';

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
});

// ---------------------------------------------------------------- random tiny BERT

const tiny = (over: Partial<BertConfig> = {}): BertConfig => ({
  modelType: 'bert',
  vocabSize: 50,
  hidden: 32,
  layers: 2,
  heads: 4,
  intermediate: 64,
  maxPositions: 40,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  hiddenAct: 'gelu',
  pooling: 'mean',
  normalize: false,
  maxLength: 40,
  ...over,
});

function randomWeights(c: BertConfig, seed = 1): Map<string, F32Tensor> {
  const r = rng(seed);
  const m = new Map<string, F32Tensor>();
  const t = (name: string, shape: number[], std = 0.2, mean = 0) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = mean + (r() * 2 - 1) * std;
    m.set(name, { shape, data });
  };
  const H = c.hidden;
  t('embeddings.word_embeddings.weight', [c.vocabSize, H], 1);
  t('embeddings.position_embeddings.weight', [c.maxPositions, H], 0.5);
  t('embeddings.token_type_embeddings.weight', [c.typeVocabSize, H], 0.5);
  t('embeddings.LayerNorm.weight', [H], 0.2, 1);
  t('embeddings.LayerNorm.bias', [H], 0.1);
  for (let l = 0; l < c.layers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const n of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
      t(`${p}${n}.weight`, [H, H], 0.4);
      t(`${p}${n}.bias`, [H], 0.1);
    }
    t(`${p}intermediate.dense.weight`, [c.intermediate, H], 0.3);
    t(`${p}intermediate.dense.bias`, [c.intermediate], 0.1);
    t(`${p}output.dense.weight`, [H, c.intermediate], 0.3);
    t(`${p}output.dense.bias`, [H], 0.1);
    for (const n of ['attention.output.LayerNorm', 'output.LayerNorm']) {
      t(`${p}${n}.weight`, [H], 0.2, 1);
      t(`${p}${n}.bias`, [H], 0.1);
    }
  }
  return m;
}

// ---------------------------------------------------------------- pure-TS reference (float64)

function erf(x: number): number {
  // Abramowitz-Stegun 7.1.26 is too coarse; use a series / continued fraction with ~1e-15 accuracy.
  const ax = Math.abs(x);
  if (ax < 3) {
    let sum = x;
    let term = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

function refEncode(c: BertConfig, w: Map<string, F32Tensor>, ids: number[]): Float64Array {
  const H = c.hidden;
  const S = ids.length;
  const D = H / c.heads;
  const W = (n: string) => w.get(n)!.data;
  const ln = (x: Float64Array[], p: string) =>
    x.map((row) => {
      let mu = 0;
      for (const v of row) mu += v;
      mu /= H;
      let va = 0;
      for (const v of row) va += (v - mu) ** 2;
      va /= H;
      const g = W(`${p}.weight`);
      const b = W(`${p}.bias`);
      return row.map((v, j) => ((v - mu) / Math.sqrt(va + c.layerNormEps)) * g[j] + b[j]);
    });
  const lin = (x: Float64Array[], p: string, nIn: number, nOut: number) => {
    const wt = W(`${p}.weight`);
    const b = W(`${p}.bias`);
    return x.map((row) => {
      const o = new Float64Array(nOut);
      for (let j = 0; j < nOut; j++) {
        let s = b[j];
        for (let i = 0; i < nIn; i++) s += row[i] * wt[j * nIn + i];
        o[j] = s;
      }
      return o;
    });
  };
  const act = (v: number) => {
    if (c.hiddenAct === 'relu') return Math.max(0, v);
    if (c.hiddenAct === 'gelu_new') return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    return 0.5 * v * (1 + erf(v / Math.SQRT2));
  };
  let x: Float64Array[] = ids.map((id, s) => {
    const row = new Float64Array(H);
    const we = W('embeddings.word_embeddings.weight');
    const pe = W('embeddings.position_embeddings.weight');
    const te = W('embeddings.token_type_embeddings.weight');
    for (let j = 0; j < H; j++) row[j] = we[id * H + j] + pe[s * H + j] + te[j];
    return row;
  });
  x = ln(x, 'embeddings.LayerNorm');
  for (let l = 0; l < c.layers; l++) {
    const p = `encoder.layer.${l}.`;
    const q = lin(x, `${p}attention.self.query`, H, H);
    const k = lin(x, `${p}attention.self.key`, H, H);
    const v = lin(x, `${p}attention.self.value`, H, H);
    const ctx = x.map(() => new Float64Array(H));
    for (let h = 0; h < c.heads; h++) {
      for (let i = 0; i < S; i++) {
        const sc = new Float64Array(S);
        let mx = -Infinity;
        for (let j = 0; j < S; j++) {
          let s = 0;
          for (let d = 0; d < D; d++) s += q[i][h * D + d] * k[j][h * D + d];
          sc[j] = s / Math.sqrt(D);
          mx = Math.max(mx, sc[j]);
        }
        let z = 0;
        for (let j = 0; j < S; j++) z += sc[j] = Math.exp(sc[j] - mx);
        for (let j = 0; j < S; j++) for (let d = 0; d < D; d++) ctx[i][h * D + d] += (sc[j] / z) * v[j][h * D + d];
      }
    }
    const ao = lin(ctx, `${p}attention.output.dense`, H, H);
    x = ln(
      ao.map((r, i) => r.map((vv, j) => vv + x[i][j])),
      `${p}attention.output.LayerNorm`,
    );
    const inter = lin(x, `${p}intermediate.dense`, H, c.intermediate).map((r) => r.map(act));
    const out = lin(inter, `${p}output.dense`, c.intermediate, H);
    x = ln(
      out.map((r, i) => r.map((vv, j) => vv + x[i][j])),
      `${p}output.LayerNorm`,
    );
  }
  let pooled: Float64Array = new Float64Array(H);
  if (c.pooling === 'cls') pooled = x[0];
  else {
    for (const row of x) for (let j = 0; j < H; j++) pooled[j] += row[j] / S;
  }
  if (c.normalize) {
    const n = Math.max(Math.sqrt(pooled.reduce((a, b) => a + b * b, 0)), 1e-12);
    pooled = pooled.map((v) => v / n);
  }
  return pooled;
}

// ---------------------------------------------------------------- running the graph

async function run(
  model: Uint8Array,
  batch: number[][],
  extraFeeds: Record<string, ort.Tensor> = {},
): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
  try {
    const S = Math.max(...batch.map((b) => b.length));
    const ids = new BigInt64Array(batch.length * S);
    const mask = new BigInt64Array(batch.length * S);
    batch.forEach((seq, b) =>
      seq.forEach((id, s) => {
        ids[b * S + s] = BigInt(id);
        mask[b * S + s] = 1n;
      }),
    );
    const out = await session.run({
      input_ids: new ort.Tensor('int64', ids, [batch.length, S]),
      attention_mask: new ort.Tensor('int64', mask, [batch.length, S]),
      ...extraFeeds,
    });
    const e = out.embeddings;
    const H = e.dims[1];
    const data = e.data as Float32Array;
    return batch.map((_, b) => data.slice(b * H, (b + 1) * H));
  } finally {
    await session.release();
  }
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const SEQS = [
  [2, 17, 5, 33, 9, 3],
  [2, 49, 3],
  [2, 8, 8, 8, 11, 12, 13, 14, 15, 40, 41, 3],
];

const variants: [string, Partial<GraphVariant>][] = [
  ['plain', {}],
  ['plain+fused-qkv', { fuseQkv: true }],
  ['contrib', { attention: 'mha', layerNorm: 'skip', gelu: 'contrib' }],
];

describe('buildBertGraph vs a pure-TS reference (ORT WASM)', () => {
  for (const [vname, variant] of variants) {
    for (const [pooling, normalize] of [
      ['mean', false],
      ['cls', true],
      ['mean', true],
      ['cls', false],
    ] as const) {
      it(`${vname}: ${pooling} pooling, normalize=${normalize}: padded batch == reference == single runs`, async () => {
        const c = tiny({ pooling, normalize });
        const w = randomWeights(c, 7);
        const g = buildBertGraph(c, (n) => w.get(n), { weightInputs: [], variant });
        expect(g.inputNames).toEqual(['input_ids', 'attention_mask']);
        const batched = await run(g.model, SEQS);
        for (let i = 0; i < SEQS.length; i++) {
          const ref = refEncode(c, w, SEQS[i]);
          expect(maxDiff(batched[i], ref)).toBeLessThanOrEqual(1e-4);
          const [single] = await run(g.model, [SEQS[i]]);
          expect(maxDiff(batched[i], single)).toBeLessThanOrEqual(1e-5);
        }
      });
    }
  }

  for (const act of ['gelu_new', 'relu'] as const) {
    it(`hidden_act ${act}`, async () => {
      const c = tiny({ hiddenAct: act });
      const w = randomWeights(c, 3);
      for (const variant of [{}, { gelu: 'contrib' as const }]) {
        const g = buildBertGraph(c, (n) => w.get(n), { weightInputs: [], variant });
        const out = await run(g.model, SEQS);
        for (let i = 0; i < SEQS.length; i++)
          expect(maxDiff(out[i], refEncode(c, w, SEQS[i]))).toBeLessThanOrEqual(1e-4);
      }
    });
  }

  it('the mask handles long padding (one real token in a batch of 30)', async () => {
    const c = tiny();
    const w = randomWeights(c, 11);
    const g = buildBertGraph(c, (n) => w.get(n), { weightInputs: [] });
    const long = Array.from({ length: 30 }, (_, i) => (i * 7) % 50);
    const out = await run(g.model, [long, [2]]);
    expect(maxDiff(out[1], refEncode(c, w, [2]))).toBeLessThanOrEqual(1e-4);
    expect(maxDiff(out[0], refEncode(c, w, long))).toBeLessThanOrEqual(1e-4);
  });

  it("output 'last_hidden_state': [batch, seq, hidden] whose masked mean is the pooled embedding", async () => {
    const c = tiny();
    const w = randomWeights(c, 13);
    const g = buildBertGraph(c, (n) => w.get(n), { weightInputs: [], output: 'last_hidden_state' });
    expect(g.outputName).toBe('last_hidden_state');
    const pooled = await run(buildBertGraph(c, (n) => w.get(n), { weightInputs: [] }).model, SEQS);
    const session = await ort.InferenceSession.create(g.model, { executionProviders: ['wasm'] });
    const S = Math.max(...SEQS.map((q) => q.length));
    const ids = new BigInt64Array(SEQS.length * S);
    const mask = new BigInt64Array(SEQS.length * S);
    SEQS.forEach((q, b) => q.forEach((id, t) => ((ids[b * S + t] = BigInt(id)), (mask[b * S + t] = 1n))));
    const out = await session.run({
      input_ids: new ort.Tensor('int64', ids, [SEQS.length, S]),
      attention_mask: new ort.Tensor('int64', mask, [SEQS.length, S]),
    });
    const h = out.last_hidden_state;
    expect(h.dims).toEqual([SEQS.length, S, c.hidden]);
    const data = h.data as Float32Array;
    SEQS.forEach((q, b) => {
      const mean = new Float32Array(c.hidden);
      for (let t = 0; t < q.length; t++)
        for (let j = 0; j < c.hidden; j++) mean[j] += data[(b * S + t) * c.hidden + j] / q.length;
      expect(maxDiff(mean, pooled[b])).toBeLessThanOrEqual(1e-5);
    });
    await session.release();
  });
});

describe('weight inputs', () => {
  for (const [vname, variant] of variants) {
    it(`${vname}: a merged matrix fed as input == the graph built with it as an initializer`, async () => {
      const c = tiny();
      const w = randomWeights(c, 5);
      const r = rng(99);
      const targets = [
        'encoder.layer.0.attention.self.query.weight',
        'encoder.layer.0.attention.self.value.weight',
        'encoder.layer.1.attention.self.query.weight',
        'encoder.layer.1.attention.self.key.weight',
        'encoder.layer.1.intermediate.dense.weight',
        'encoder.layer.1.output.dense.weight',
      ];
      const merged = new Map<string, { t: Float32Array; dims: number[] }>();
      const mergedW = new Map(w);
      for (const name of targets) {
        const W = w.get(name)!;
        const [nOut, nIn] = W.shape;
        const rank = 2;
        const A = { shape: [rank, nIn], data: Float32Array.from({ length: rank * nIn }, () => r() - 0.5) };
        const B = { shape: [nOut, rank], data: Float32Array.from({ length: nOut * rank }, () => r() - 0.5) };
        const t = mergedTransposed(W, A, B, 2, false);
        merged.set(name, { t, dims: [nIn, nOut] });
        mergedW.set(name, { shape: [nOut, nIn], data: transpose(t, nIn, nOut) });
      }
      const gIn = buildBertGraph(c, (n) => w.get(n), { weightInputs: targets, variant });
      expect(gIn.inputNames).toEqual(['input_ids', 'attention_mask', ...targets]);
      expect(gIn.weightInputs.map((x) => x.name)).toEqual(targets);
      expect(gIn.weightInputs[4].dims).toEqual([c.hidden, c.intermediate]);
      const gInit = buildBertGraph(c, (n) => mergedW.get(n), { weightInputs: [], variant });
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, m] of merged) feeds[name] = new ort.Tensor('float32', m.t, m.dims);
      const a = await run(gIn.model, SEQS, feeds);
      const b = await run(gInit.model, SEQS);
      for (let i = 0; i < SEQS.length; i++) {
        expect(maxDiff(a[i], b[i])).toBeLessThanOrEqual(1e-5);
        expect(maxDiff(a[i], refEncode(c, mergedW, SEQS[i]))).toBeLessThanOrEqual(1e-4);
      }
      // Feeding the unmodified (transposed) base matrices gives the base model.
      const baseFeeds: Record<string, ort.Tensor> = {};
      for (const name of targets) {
        const W = w.get(name)!;
        baseFeeds[name] = new ort.Tensor('float32', transpose(W.data, W.shape[0], W.shape[1]), [
          W.shape[1],
          W.shape[0],
        ]);
      }
      const base = await run(gIn.model, SEQS, baseFeeds);
      for (let i = 0; i < SEQS.length; i++)
        expect(maxDiff(base[i], refEncode(c, w, SEQS[i]))).toBeLessThanOrEqual(1e-4);
    });
  }
});

describe('base branches (weights switched per target between the base constant and a fed matrix)', () => {
  const targets = [
    'encoder.layer.0.attention.self.query.weight',
    'encoder.layer.0.attention.self.value.weight',
    'encoder.layer.1.attention.self.query.weight',
    'encoder.layer.1.intermediate.dense.weight',
  ];
  const on = () => new ort.Tensor('bool', new Uint8Array([1]), []);
  const off = () => new ort.Tensor('bool', new Uint8Array([0]), []);
  const placeholder = () => new ort.Tensor('float32', new Float32Array(1), [1, 1]);

  for (const [vname, variant] of variants) {
    it(`${vname}: all switches on base == the all-initializer graph; some fed == that graph with those merged`, async () => {
      const c = tiny();
      const w = randomWeights(c, 11);
      const r = rng(7);
      const g = buildBertGraph(c, (n) => w.get(n), { weightInputs: targets, variant, baseBranches: true });
      expect(g.baseBranches).toBe(true);
      expect(g.inputNames).toEqual(['input_ids', 'attention_mask', ...targets.flatMap((t) => [t, useBaseInput(t)])]);

      const baseFeeds: Record<string, ort.Tensor> = {};
      for (const t of targets) Object.assign(baseFeeds, { [t]: placeholder(), [useBaseInput(t)]: on() });
      const plain = buildBertGraph(c, (n) => w.get(n), { weightInputs: [], variant });
      const [a, b] = [await run(g.model, SEQS, baseFeeds), await run(plain.model, SEQS)];
      // Not bit-equal: with the query weight switchable, 1/sqrt(d) is folded into the key weight instead.
      for (let i = 0; i < SEQS.length; i++) expect(maxDiff(a[i], b[i])).toBeLessThanOrEqual(1e-5);

      // Two of the four targets take a merged matrix; the other two stay on base.
      const mergedW = new Map(w);
      const feeds = { ...baseFeeds };
      for (const name of [targets[1], targets[3]]) {
        const W = w.get(name)!;
        const [nOut, nIn] = W.shape;
        const A = { shape: [2, nIn], data: Float32Array.from({ length: 2 * nIn }, () => r() - 0.5) };
        const B = { shape: [nOut, 2], data: Float32Array.from({ length: nOut * 2 }, () => r() - 0.5) };
        const t = mergedTransposed(W, A, B, 2, false);
        mergedW.set(name, { shape: [nOut, nIn], data: transpose(t, nIn, nOut) });
        Object.assign(feeds, { [name]: new ort.Tensor('float32', t, [nIn, nOut]), [useBaseInput(name)]: off() });
      }
      const expert = await run(g.model, SEQS, feeds);
      const expected = await run(buildBertGraph(c, (n) => mergedW.get(n), { weightInputs: [], variant }).model, SEQS);
      for (let i = 0; i < SEQS.length; i++) {
        expect(maxDiff(expert[i], expected[i])).toBeLessThanOrEqual(1e-5);
        expect(maxDiff(expert[i], a[i])).toBeGreaterThan(1e-3);
      }
    });
  }
});

describe('buildBertGraph validation', () => {
  it('names a missing tensor', () => {
    const c = tiny();
    const w = randomWeights(c);
    w.delete('encoder.layer.1.output.dense.bias');
    try {
      buildBertGraph(c, (n) => w.get(n), { weightInputs: [] });
      expect.unreachable();
    } catch (e) {
      expect(isRouterRetrieverError(e, 'MODEL_FORMAT')).toBe(true);
      expect((e as Error).message).toContain('encoder.layer.1.output.dense.bias');
    }
  });

  it('names a tensor with the wrong shape', () => {
    const c = tiny();
    const w = randomWeights(c);
    w.set('encoder.layer.0.intermediate.dense.weight', { shape: [32, 64], data: new Float32Array(32 * 64) });
    expect(() => buildBertGraph(c, (n) => w.get(n), { weightInputs: [] })).toThrow(
      /intermediate\.dense\.weight.*\[32, 64\].*\[64, 32\]/,
    );
  });

  it('rejects a weight input that is not a Linear weight', () => {
    const c = tiny();
    const w = randomWeights(c);
    expect(() =>
      buildBertGraph(c, (n) => w.get(n), { weightInputs: ['encoder.layer.5.attention.self.query.weight'] }),
    ).toThrow(/not a Linear weight/);
    expect(linearWeightNames(0)).toHaveLength(6);
  });
});

// ---------------------------------------------------------------- PyTorch-written fixtures

describe('golden embeddings from the PyTorch reference (test/fixtures)', () => {
  const fx = (p: string) => new URL(`./fixtures/${p}`, import.meta.url);
  const golden = JSON.parse(readFileSync(fx('golden.json'), 'utf8')) as {
    input_ids: number[][];
    embeddings: Record<'base' | 'expert-a' | 'expert-b' | 'base-cls-normalized', number[][]>;
  };
  const base = parseSafetensors(new Uint8Array(readFileSync(fx('tiny-bert/model.safetensors'))));
  const f32 = (sd: StateDict, n: string): F32Tensor | undefined => {
    const t = sd.get(n);
    return t && { shape: t.shape, data: toFloat32(t) };
  };
  const config = parseBertConfig(JSON.parse(readFileSync(fx('tiny-bert/config.json'), 'utf8')));
  const targets = [0, 1].flatMap((l) => linearWeightNames(l).slice(0, 3));
  const shapes = new Map(targets.map((n) => [n, base.get(n)!.shape]));

  function feedsFor(adapterDir: string | null): Record<string, ort.Tensor> {
    const merged = new Map<string, Float32Array>();
    if (adapterDir) {
      const bytes = (name: string) => new Uint8Array(readFileSync(fx(`adapters/${adapterDir}/${name}`)));
      let weights: StateDict;
      if (existsSync(fx(`adapters/${adapterDir}/adapter_model.safetensors`)))
        weights = parseSafetensors(bytes('adapter_model.safetensors'));
      else weights = parseTorchBinSync(bytes('adapter_model.bin'));
      const cfg = parseAdapterConfig(
        JSON.parse(readFileSync(fx(`adapters/${adapterDir}/adapter_config.json`), 'utf8')),
      );
      for (const l of resolveAdapter(cfg, weights, shapes)) {
        merged.set(l.target, mergedTransposed(f32(base, l.target)!, l.A, l.B, l.scale, l.fanInFanOut));
      }
    }
    const feeds: Record<string, ort.Tensor> = {};
    for (const n of targets) {
      const W = f32(base, n)!;
      const data = merged.get(n) ?? transpose(W.data, W.shape[0], W.shape[1]);
      feeds[n] = new ort.Tensor('float32', data, [W.shape[1], W.shape[0]]);
    }
    return feeds;
  }

  for (const [vname, variant] of variants) {
    it(`${vname}: base, expert-a (safetensors), expert-b (adapter_model.bin) match golden.json within 1e-4`, async () => {
      const g = buildBertGraph(config, (n) => f32(base, n), { weightInputs: targets, variant });
      for (const [key, dir] of [
        ['base', null],
        ['expert-a', 'expert-a'],
        ['expert-b', 'expert-b'],
      ] as const) {
        const out = await run(g.model, golden.input_ids, feedsFor(dir));
        out.forEach((e, i) =>
          expect(maxDiff(e, golden.embeddings[key][i]), `${key} text ${i}`).toBeLessThanOrEqual(1e-4),
        );
      }
    });
  }

  it('base-cls-normalized matches golden.json', async () => {
    const c = { ...config, pooling: 'cls' as const, normalize: true };
    const g = buildBertGraph(c, (n) => f32(base, n), { weightInputs: [] });
    const out = await run(g.model, golden.input_ids);
    out.forEach((e, i) => expect(maxDiff(e, golden.embeddings['base-cls-normalized'][i])).toBeLessThanOrEqual(1e-4));
  });

  it('the bad-shape adapter is rejected with ADAPTER_MISMATCH', () => {
    const weights = parseSafetensors(new Uint8Array(readFileSync(fx('adapters/bad-shape/adapter_model.safetensors'))));
    const cfg = parseAdapterConfig(JSON.parse(readFileSync(fx('adapters/bad-shape/adapter_config.json'), 'utf8')));
    try {
      resolveAdapter(cfg, weights, shapes);
      expect.unreachable();
    } catch (e) {
      expect(isRouterRetrieverError(e, 'ADAPTER_MISMATCH')).toBe(true);
      expect((e as Error).message).toMatch(/lora_[AB]\.weight" has shape/);
    }
  });
});
