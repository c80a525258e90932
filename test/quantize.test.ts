import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../workers/model/graph-builder.js';
import { DataType, encodeModel } from '../workers/model/onnx-proto.js';
import { q8ConstLinear } from '../workers/model/q8-graph.js';
import {
  dequantizeWeights,
  q8MatMul,
  quantizeWeights,
  ROW_ZERO_POINT,
  roundHalfEven,
  rowQuantize,
} from '../workers/model/quantize.js';
import { FIXTURES } from './helpers/fixtures.js';

/** Written by tools/reference/q8_reference.py (numpy, float32, rint). */
interface Golden {
  k: number;
  n: number;
  m: number;
  w: number[];
  x: number[];
  per_column: { q: number[]; scale: number[]; y: number[] };
  per_tensor: { q: number[]; scale: number[]; y: number[] };
  w_ties: { input: number[]; rows: number; cols: number; q: number[]; scale: number[] };
  y_fp32: number[];
  rows_x: { input: number[]; m: number; q: number[]; scale: number[] };
  rows_ties: { input: number[]; m: number; q: number[]; scale: number[] };
}
const g = JSON.parse(readFileSync(join(FIXTURES, 'q8-golden.json'), 'utf8')) as Golden;
const f32 = (a: number[]) => Float32Array.from(a);

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
});

describe('int8 weight quantization (numpy goldens)', () => {
  it.each(['per_column', 'per_tensor'] as const)('%s: levels and scales as the reference', (name) => {
    const q = quantizeWeights(f32(g.w), g.k, g.n, name === 'per_column' ? 'per-column' : 'per-tensor');
    expect([...q.data]).toEqual(g[name].q);
    expect([...q.scale]).toEqual(g[name].scale);
  });

  it('an all-zero column gets scale 1 and a column led by a negative weight reaches -127', () => {
    const q = quantizeWeights(f32(g.w), g.k, g.n, 'per-column');
    expect(q.scale[3]).toBe(1);
    expect(q.data[1]).toBe(-127); // w[0, 1] = -1, the largest |w| of column 1
  });

  it('ties round half to even, as ONNX and numpy do', () => {
    const t = g.w_ties;
    const q = quantizeWeights(f32(t.input), t.rows, t.cols, 'per-column');
    expect([...q.scale]).toEqual(t.scale);
    expect([...q.data]).toEqual(t.q);
    expect([0.5, 1.5, 2.5, -0.5, -2.5, 3.2, -3.7].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, 3, -4]);
  });

  it('dequantized weights are within half a level of the original', () => {
    const w = f32(g.w);
    const q = quantizeWeights(w, g.k, g.n, 'per-column');
    const back = dequantizeWeights(q, g.k, g.n);
    for (let i = 0; i < w.length; i++)
      expect(Math.abs(back[i] - w[i])).toBeLessThanOrEqual(q.scale[i % g.n] / 2 + 1e-7);
  });

  it('bad sizes are a RangeError (a programming error, never user input)', () => {
    expect(() => quantizeWeights(new Float32Array(5), 2, 3, 'per-column')).toThrow(RangeError);
  });
});

describe('per-row activation quantization (numpy goldens)', () => {
  it.each(['rows_x', 'rows_ties'] as const)('%s: levels and scales as the reference', (name) => {
    const r = rowQuantize(f32(g[name].input), g[name].m, g[name].input.length / g[name].m);
    expect([...r.data]).toEqual(g[name].q);
    expect([...r.scale]).toEqual(g[name].scale);
  });

  it('each row has its own scale; an all-zero row is all zero point; max |x| maps to 1 and 255', () => {
    const r = rowQuantize(f32(g.x), g.m, g.k);
    expect(new Set(r.scale).size).toBe(g.m);
    expect([...r.data.subarray(4 * g.k)]).toEqual(new Array(g.k).fill(ROW_ZERO_POINT));
    expect(Math.max(...r.data.subarray(3 * g.k, 4 * g.k))).toBe(255); // the all-positive row
    // A row quantized alone is the same as among the others.
    const alone = rowQuantize(f32(g.x).subarray(g.k, 2 * g.k), 1, g.k);
    expect([...alone.data]).toEqual([...r.data.subarray(g.k, 2 * g.k)]);
    expect(() => rowQuantize(f32(g.x), g.m + 1, g.k)).toThrow(RangeError);
  });
});

describe('the q8 linear layer', () => {
  it.each(['per_column', 'per_tensor'] as const)('%s: q8MatMul matches the reference', (name) => {
    const q = quantizeWeights(f32(g.w), g.k, g.n, name === 'per_column' ? 'per-column' : 'per-tensor');
    const y = q8MatMul(f32(g.x), g.m, g.k, q, g.n);
    y.forEach((v, i) => expect(v).toBeCloseTo(g[name].y[i], 9));
    // and stays near the fp32 product: per column within 2 % of the output range here
    const range = Math.max(...g.y_fp32.map(Math.abs));
    y.forEach((v, i) => expect(Math.abs(v - g.y_fp32[i])).toBeLessThan(0.02 * range));
  });

  /** The golden weight's q8 linear layer alone, on x of the given leading dimensions. */
  function linearModel(lead: string[]): Uint8Array {
    const gb = new GraphBuilder();
    const y = q8ConstLinear(gb, 'x', 'w', f32(g.w), g.k, g.n);
    gb.nodes.push({ opType: 'Identity', inputs: [y], outputs: ['y'], name: 'out' });
    return encodeModel({
      graphName: 'q8',
      nodes: gb.nodes,
      initializers: gb.initializers,
      inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [...lead, g.k] }],
      outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [...lead, g.n] }],
    });
  }

  it('onnxruntime-web (WASM) runs the emitted nodes as the reference computes them', async () => {
    const model = linearModel(['m']);
    for (const level of ['disabled', 'all'] as const) {
      // Optimized ('all') and as written ('disabled'): both must agree with the reference.
      const session = await ort.InferenceSession.create(model, {
        executionProviders: ['wasm'],
        graphOptimizationLevel: level,
      });
      const out = await session.run({ x: new ort.Tensor('float32', f32(g.x), [g.m, g.k]) });
      const got = out.y.data as Float32Array;
      const scale = Math.max(...g.per_column.y.map(Math.abs));
      got.forEach((v, i) => expect(Math.abs(v - g.per_column.y[i])).toBeLessThanOrEqual(1e-5 * scale));
      // A row's output is the same run alone as among the others: nothing depends on the batch.
      for (let i = 0; i < g.m; i++) {
        const row = f32(g.x).subarray(i * g.k, (i + 1) * g.k);
        const one = await session.run({ x: new ort.Tensor('float32', row, [1, g.k]) });
        expect([...(one.y.data as Float32Array)]).toEqual([...got.subarray(i * g.n, (i + 1) * g.n)]);
      }
      await session.release();
    }
  });

  it('three-dimensional activations [batch, tokens, in] keep their shape', async () => {
    const session = await ort.InferenceSession.create(linearModel(['b', 't']), { executionProviders: ['wasm'] });
    const x = f32(g.x).subarray(0, 4 * g.k); // [2, 2, k]: the first four rows
    const out = await session.run({ x: new ort.Tensor('float32', x, [2, 2, g.k]) });
    expect(out.y.dims).toEqual([2, 2, g.n]);
    const scale = Math.max(...g.per_column.y.map(Math.abs));
    (out.y.data as Float32Array).forEach((v, i) =>
      expect(Math.abs(v - g.per_column.y[i])).toBeLessThanOrEqual(1e-5 * scale),
    );
    await session.release();
  });
});
