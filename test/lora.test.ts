import { describe, expect, it } from 'vitest';
import { addLoraDeltaTransposed, loraScale, mergedTransposed, transpose } from '../workers/lora/merge.js';
import { parseAdapterConfig, resolveAdapter, matchesTargetModules } from '../workers/lora/adapter.js';
import type { StateDict, StoredTensor } from '../workers/model/tensor.js';
import { isRouterRetrieverError } from '../src/boundary/errors.js';

const f32 = (shape: number[], values: number[]) => ({ shape, data: Float32Array.from(values) });

describe('merge math', () => {
  // W [out=2, in=3], r=1: A [1, 3], B [2, 1]
  const W = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  const A = f32([1, 3], [1, 0, -1]);
  const B = f32([2, 1], [2, 3]);
  // B@A = [[2, 0, -2], [3, 0, -3]]; W + 0.5 * B@A = [[2, 2, 2], [5.5, 5, 4.5]]
  it('(W + scale * B@A)^T on a hand-checked 2x3 example', () => {
    expect(Array.from(mergedTransposed(W, A, B, 0.5, false))).toEqual([2, 5.5, 2, 5, 2, 4.5]);
  });

  it('fan_in_fan_out: the stored weight is [in, out] and gets (B@A)^T added as is', () => {
    const Wt = f32([3, 2], [1, 4, 2, 5, 3, 6]);
    expect(Array.from(mergedTransposed(Wt, A, B, 0.5, true))).toEqual([2, 5.5, 2, 5, 2, 4.5]);
  });

  it('scale 0 gives the transposed base, and the input is not modified', () => {
    expect(Array.from(mergedTransposed(W, A, B, 0, false))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(W.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('matches a naive merge for odd ranks and sizes', () => {
    let s = 1;
    const rnd = () => (s = (s * 48271) % 2147483647) / 2147483647 - 0.5;
    for (const [nOut, nIn, r] of [
      [37, 45, 1],
      [64, 33, 5],
      [70, 70, 8],
      [3, 100, 7],
    ]) {
      const W2 = f32([nOut, nIn], Array.from({ length: nOut * nIn }, rnd));
      const A2 = f32([r, nIn], Array.from({ length: r * nIn }, rnd));
      const B2 = f32([nOut, r], Array.from({ length: nOut * r }, rnd));
      const got = mergedTransposed(W2, A2, B2, 1.7, false);
      for (let o = 0; o < nOut; o++)
        for (let i = 0; i < nIn; i++) {
          let d = 0;
          for (let k = 0; k < r; k++) d += B2.data[o * r + k] * A2.data[k * nIn + i];
          expect(got[i * nOut + o]).toBeCloseTo(W2.data[o * nIn + i] + 1.7 * d, 5);
        }
    }
  });

  it('transpose round-trips and scales', () => {
    const m = Float32Array.from({ length: 35 * 70 }, (_, i) => i);
    const t = transpose(m, 35, 70);
    expect(t[1 * 35 + 0]).toBe(1);
    expect(Array.from(transpose(t, 70, 35))).toEqual(Array.from(m));
    expect(Array.from(transpose(f32([2, 2], [1, 2, 3, 4]).data, 2, 2, undefined, 2))).toEqual([2, 6, 4, 8]);
  });

  it('scales: alpha / r, rslora alpha / sqrt(r)', () => {
    expect(loraScale(16, 8, false)).toBe(2);
    expect(loraScale(16, 4, true)).toBe(8);
  });

  it('rejects mismatched shapes', () => {
    expect(() => mergedTransposed(W, f32([1, 2], [1, 2]), B, 1, false)).toThrow(/LoRA delta/);
    expect(() => addLoraDeltaTransposed(new Float32Array(6), A, f32([2, 2], [1, 2, 3, 4]), 1)).toThrow(/rank/);
  });

  it('BERT-base: merging 24 768x768 r=8 matrices (timing)', () => {
    const H = 768;
    const r = 8;
    const W3 = { shape: [H, H], data: new Float32Array(H * H).fill(0.01) };
    const A3 = { shape: [r, H], data: new Float32Array(r * H).fill(0.02) };
    const B3 = { shape: [H, r], data: new Float32Array(H * r).fill(0.03) };
    mergedTransposed(W3, A3, B3, 2, false); // warm-up
    const t0 = performance.now();
    for (let i = 0; i < 24; i++) mergedTransposed(W3, A3, B3, 2, false);
    const ms = performance.now() - t0;
    console.log(`merge 24 x 768x768 r=8: ${ms.toFixed(1)} ms`);
    // Informational only (shared CI cores make wall-clock bounds flaky); ~100 ms warmed on an idle core.
    expect(ms).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------- adapters

const baseShapes = new Map<string, number[]>([
  ['encoder.layer.0.attention.self.query.weight', [4, 3]],
  ['encoder.layer.0.attention.self.value.weight', [4, 3]],
  ['encoder.layer.0.intermediate.dense.weight', [6, 3]],
]);
const st = (shape: number[], fill = 0.5): StoredTensor => ({
  dtype: 'float32',
  shape,
  data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill),
});

function adapter(entries: [string, StoredTensor][]): StateDict {
  return new Map(entries);
}
const q = 'base_model.model.encoder.layer.0.attention.self.query';
const v = 'base_model.model.encoder.layer.0.attention.self.value';
const cfg = (extra: Record<string, unknown> = {}) =>
  parseAdapterConfig({
    peft_type: 'LORA',
    r: 2,
    lora_alpha: 8,
    target_modules: ['query', 'value'],
    bias: 'none',
    base_model_name_or_path: 'facebook/contriever',
    ...extra,
  });

function expectCode(fn: () => unknown, code: string, re: RegExp) {
  try {
    fn();
    expect.unreachable();
  } catch (e) {
    expect(isRouterRetrieverError(e)).toBe(true);
    expect((e as { code: string }).code).toBe(code);
    expect((e as Error).message).toMatch(re);
  }
}

describe('parseAdapterConfig', () => {
  it('reads the PEFT fields', () => {
    const c = cfg({
      fan_in_fan_out: true,
      use_rslora: true,
      rank_pattern: { query: 4 },
      alpha_pattern: { 'layer\\.0\\..*value': 2 },
      modules_to_save: null,
    });
    expect(c).toMatchObject({
      r: 2,
      loraAlpha: 8,
      targetModules: ['query', 'value'],
      fanInFanOut: true,
      useRslora: true,
      useDora: false,
    });
    expect(c.rankPattern).toEqual({ query: 4 });
    expect(c.baseModelNameOrPath).toBe('facebook/contriever');
    expect(parseAdapterConfig({ r: 4, lora_alpha: 4, target_modules: '.*(query|value)' }).targetModules).toBe(
      '.*(query|value)',
    );
  });
  it('rejects DoRA, other PEFT types, bad r', () => {
    expectCode(() => cfg({ use_dora: true }), 'MODEL_FORMAT', /DoRA/);
    expectCode(() => cfg({ peft_type: 'IA3' }), 'MODEL_FORMAT', /IA3/);
    expectCode(() => cfg({ r: 0 }), 'MODEL_FORMAT', /r must be/);
  });
  it('target_modules semantics: suffix list or full-match regex', () => {
    expect(matchesTargetModules(['query'], 'encoder.layer.0.attention.self.query')).toBe(true);
    expect(matchesTargetModules(['query'], 'encoder.layer.0.attention.self.xquery')).toBe(false);
    expect(matchesTargetModules('.*layer\\.0\\..*query', 'encoder.layer.0.attention.self.query')).toBe(true);
    expect(matchesTargetModules('.*layer\\.1\\..*query', 'encoder.layer.0.attention.self.query')).toBe(false);
  });
});

describe('resolveAdapter', () => {
  const good: [string, StoredTensor][] = [
    [`${q}.lora_A.weight`, st([2, 3])],
    [`${q}.lora_B.weight`, st([4, 2])],
    [`${v}.lora_A.default.weight`, st([2, 3])],
    [`${v}.lora_B.default.weight`, st([4, 2])],
  ];

  it('maps PEFT keys (with/without adapter name, bert. prefix) to base weights with alpha/r', () => {
    const res = resolveAdapter(cfg(), adapter(good), baseShapes);
    expect(res.map((x) => x.target)).toEqual([
      'encoder.layer.0.attention.self.query.weight',
      'encoder.layer.0.attention.self.value.weight',
    ]);
    expect(res[0].scale).toBe(4);
    expect(res[0].A.shape).toEqual([2, 3]);
    const withBert = adapter([
      ['base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight', st([2, 3])],
      ['base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.weight', st([4, 2])],
    ]);
    expect(resolveAdapter(cfg(), withBert, baseShapes)[0].target).toBe('encoder.layer.0.attention.self.query.weight');
  });

  it('rslora, rank_pattern and alpha_pattern', () => {
    const c = cfg({ use_rslora: true, rank_pattern: { value: 1 }, alpha_pattern: { query: 2 } });
    const w = adapter([good[0], good[1], [`${v}.lora_A.weight`, st([1, 3])], [`${v}.lora_B.weight`, st([4, 1])]]);
    const [rq, rv] = resolveAdapter(c, w, baseShapes);
    expect(rq.scale).toBeCloseTo(2 / Math.sqrt(2), 12);
    expect(rv.r).toBe(1);
    expect(rv.scale).toBe(8);
  });

  it('converts float16 tensors', () => {
    const half = (shape: number[]): StoredTensor => ({
      dtype: 'float16',
      shape,
      data: new Uint16Array(shape[0] * shape[1]).fill(0x3c00),
    });
    const res = resolveAdapter(
      cfg(),
      adapter([
        [`${q}.lora_A.weight`, half([2, 3])],
        [`${q}.lora_B.weight`, half([4, 2])],
      ]),
      baseShapes,
    );
    expect(Array.from(res[0].A.data)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('fan_in_fan_out on Linear layers is turned off like PEFT does (with a warning)', () => {
    const warnings: string[] = [];
    const res = resolveAdapter(cfg({ fan_in_fan_out: true }), adapter(good), baseShapes, {
      onWarning: (m) => warnings.push(m),
    });
    expect(res[0].fanInFanOut).toBe(false);
    expect(warnings.join()).toMatch(/fan_in_fan_out/);
  });

  it('missing target in the base', () => {
    const w = adapter([
      ['base_model.model.encoder.layer.7.attention.self.query.lora_A.weight', st([2, 3])],
      ['base_model.model.encoder.layer.7.attention.self.query.lora_B.weight', st([4, 2])],
    ]);
    expectCode(
      () => resolveAdapter(cfg(), w, baseShapes),
      'ADAPTER_MISMATCH',
      /encoder\.layer\.7\.attention\.self\.query\.weight.*does not have.*facebook\/contriever/,
    );
  });

  it('A / B shape mismatches name the tensor, expected and actual', () => {
    expectCode(
      () => resolveAdapter(cfg(), adapter([[`${q}.lora_A.weight`, st([2, 5])], good[1]]), baseShapes),
      'ADAPTER_MISMATCH',
      /query\.lora_A\.weight" has shape \[2, 5\] but \[2, 3\]/,
    );
    expectCode(
      () => resolveAdapter(cfg(), adapter([good[0], [`${q}.lora_B.weight`, st([5, 2])]]), baseShapes),
      'ADAPTER_MISMATCH',
      /query\.lora_B\.weight" has shape \[5, 2\] but \[4, 2\]/,
    );
    // r in the config disagrees with the tensors
    expectCode(() => resolveAdapter(cfg({ r: 4 }), adapter(good), baseShapes), 'ADAPTER_MISMATCH', /r=4/);
  });

  it('lora_A without lora_B', () => {
    expectCode(
      () => resolveAdapter(cfg(), adapter([good[0]]), baseShapes),
      'ADAPTER_MISMATCH',
      /query\.lora_A\.weight" has no matching lora_B/,
    );
  });

  it('bias adapters, modules_to_save, embeddings, unknown keys, empty', () => {
    expectCode(
      () => resolveAdapter(cfg({ bias: 'all' }), adapter([...good, [`${q}.bias`, st([4])]]), baseShapes),
      'ADAPTER_MISMATCH',
      /bias/,
    );
    expectCode(() => resolveAdapter(cfg({ bias: 'lora_only' }), adapter(good), baseShapes), 'ADAPTER_MISMATCH', /bias/);
    expectCode(
      () =>
        resolveAdapter(
          cfg({ modules_to_save: ['intermediate'] }),
          adapter([
            ...good,
            ['base_model.model.encoder.layer.0.intermediate.dense.modules_to_save.default.weight', st([6, 3])],
          ]),
          baseShapes,
        ),
      'ADAPTER_MISMATCH',
      /modules_to_save/,
    );
    const warnings: string[] = [];
    resolveAdapter(
      cfg(),
      adapter([...good, ['base_model.model.classifier.modules_to_save.default.weight', st([2, 4])]]),
      baseShapes,
      {
        onWarning: (m) => warnings.push(m),
      },
    );
    expect(warnings.join()).toMatch(/task head/);
    expectCode(
      () =>
        resolveAdapter(
          cfg(),
          adapter([...good, ['base_model.model.embeddings.word_embeddings.lora_embedding_A', st([2, 3])]]),
          baseShapes,
        ),
      'ADAPTER_MISMATCH',
      /embedding/,
    );
    expectCode(
      () => resolveAdapter(cfg(), adapter([...good, ['something.else', st([1, 1])]]), baseShapes),
      'ADAPTER_MISMATCH',
      /something\.else/,
    );
    expectCode(() => resolveAdapter(cfg(), adapter([]), baseShapes), 'ADAPTER_MISMATCH', /no LoRA tensors/);
    expectCode(
      () => resolveAdapter(cfg(), adapter([[`${q}.lora_magnitude_vector`, st([4])]]), baseShapes),
      'MODEL_FORMAT',
      /DoRA/,
    );
  });
});
