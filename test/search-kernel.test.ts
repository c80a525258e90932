/**
 * The int8 WASM kernel dots_u7 (src/search/wasm-kernel.ts), both builds, against a plain
 * JS reference and golden numbers. Node 20 validates relaxed SIMD only behind a V8 flag,
 * set here before the first module is compiled: its relaxed dot then returns wrong sums
 * for some code shapes, which the runtime probe must reject (the plain build is used). The
 * relaxed build itself is checked in Chromium (e2e/index.spec.ts) and by the search bench.
 */
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
import { mulberry32 as rng } from '../src/router/random.js';
import { Int8Index, type VectorChunk } from '../src/search/index.js';
import { QUERY_BIAS, codeSum, quantizeQueryU7 } from '../src/search/int8.js';
import {
  buildU7Module,
  defaultU7Variant,
  instantiateDotsU7,
  u7Shape,
  type U7Shape,
  type U7Variant,
} from '../src/search/wasm-kernel.js';

function reference(q: Uint8Array, v: Int8Array, dim: number, rows: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += q[j] * v[r * dim + j];
    out.push(s);
  }
  return out;
}

/** Runs dots_u7 in a fresh memory: query at 0 (bytes, then int16), out at 16384, rows from 32768. */
function run(variant: U7Variant, q: Uint8Array, v: Int8Array, dim: number, rows: number, shape?: U7Shape): number[] {
  const mem = new WebAssembly.Memory({ initial: Math.ceil((32768 + v.length) / 65536) + 1 });
  new Uint8Array(mem.buffer, 0, dim).set(q);
  new Int16Array(mem.buffer, dim, dim).set(q);
  new Int8Array(mem.buffer, 32768, v.length).set(v);
  let fn: (a: number, b: number, c: number, d: number, e: number) => void;
  if (shape) {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(buildU7Module(dim, variant === 'relaxed', shape)), {
      env: { mem },
    });
    fn = inst.exports.dots_u7 as typeof fn;
  } else {
    const k = instantiateDotsU7(mem, dim, variant);
    expect(k.variant).toBe(variant);
    fn = k.fn;
  }
  fn(0, 32768, dim, rows, 16384);
  return Array.from(new Int32Array(mem.buffer, 16384, rows));
}

/** The relaxed build is exercised where the runtime runs it exactly for all these dims (Chromium: e2e/index.spec.ts). */
const variants: U7Variant[] = [32, 96, 768, 4096].every((d) => defaultU7Variant(d) === 'relaxed')
  ? ['plain', 'relaxed']
  : ['plain'];

describe('dots_u7 int8 kernel', () => {
  it('relaxed SIMD is used only where it validates AND is exact for the dim (Node 20 + flag: wrong sums, rejected)', () => {
    expect(WebAssembly.validate(buildU7Module(768, false))).toBe(true);
    expect(() => buildU7Module(48, false)).toThrow(RangeError);
    const r = rng(3);
    for (const dim of [32, 96, 768]) {
      // the relaxed build run directly (instantiateDotsU7 refuses it where it is not exact)
      let exact = false;
      if (WebAssembly.validate(buildU7Module(dim, true))) {
        const q = Uint8Array.from({ length: dim }, () => Math.floor(r() * 128));
        const v = Int8Array.from({ length: 5 * dim }, () => Math.floor(r() * 256) - 128);
        exact = JSON.stringify(run('relaxed', q, v, dim, 5, u7Shape(dim))) === JSON.stringify(reference(q, v, dim, 5));
      }
      const chosen = defaultU7Variant(dim);
      if (!exact) expect(chosen).toBe('plain');
      expect(new Int8Index(dim).kernel).toBe(chosen);
      if (chosen === 'plain')
        expect(() => instantiateDotsU7(new WebAssembly.Memory({ initial: 1 }), dim, 'relaxed')).toThrow(RangeError);
    }
  });

  for (const variant of variants) {
    it(`${variant}: golden numbers at the extremes (no i16 saturation)`, () => {
      const dim = 32;
      const q = new Uint8Array(dim).fill(127);
      const v = new Int8Array(dim * 3);
      v.fill(-128, 0, dim); // 32 * 127 * -128
      v.fill(127, dim, 2 * dim); // 32 * 127 * 127
      for (let j = 0; j < dim; j++) v[2 * dim + j] = j % 2 ? 127 : -128; // 16 * 127 * (127 - 128)
      expect(run(variant, q, v, dim, 3)).toEqual([-520192, 516128, -2032]);
      const q2 = Uint8Array.from({ length: dim }, (_, j) => j * 4); // 0, 4, ..., 124
      const v2 = Int8Array.from({ length: dim }, (_, j) => (j % 3) - 1); // -1, 0, 1, ...
      // sum over j of 4j * ((j % 3) - 1) = 4 * (sum_{j%3==2} j - sum_{j%3==0} j) = 4 * (155 - 165)
      expect(run(variant, q2, v2, dim, 1)).toEqual([-40]);
    });

    it(`${variant}: equals the JS reference for random codes, row counts 0..5, every code shape`, () => {
      const r = rng(variant === 'plain' ? 5 : 6);
      const cases: [number, U7Shape | undefined][] = [
        [32, undefined], // default: fully unrolled, 2 steps
        [96, undefined],
        [768, undefined], // fully unrolled, 4 steps
        [4096, undefined], // above 2,048: loop of 4 steps
        [96, { unroll: 2, full: false }],
        [768, { unroll: 4, full: false }],
        [768, { unroll: 1, full: true }],
      ];
      expect(u7Shape(768)).toEqual({ unroll: 4, full: true });
      expect(u7Shape(4096)).toEqual({ unroll: 4, full: false });
      for (const [dim, shape] of cases) {
        for (let rows = 0; rows <= 5; rows++) {
          const q = Uint8Array.from({ length: dim }, () => Math.floor(r() * 128));
          const v = Int8Array.from({ length: rows * dim }, () => Math.floor(r() * 256) - 128);
          expect(run(variant, q, v, dim, rows, shape)).toEqual(reference(q, v, dim, rows));
        }
      }
    });
  }

  it('quantizeQueryU7: 7-bit codes biased by 64 (golden)', () => {
    const out = new Uint8Array(4);
    expect(quantizeQueryU7(new Float32Array([0.5, -1, 0.25, 0]), out)).toBeCloseTo(1 / 63, 12);
    expect(Array.from(out)).toEqual([32 + QUERY_BIAS, -63 + QUERY_BIAS, 16 + QUERY_BIAS, QUERY_BIAS]); // round(31.5) = 32, round(15.75) = 16
    expect(quantizeQueryU7(new Float32Array(4), out)).toBe(0);
    expect(Array.from(out)).toEqual([64, 64, 64, 64]);
    expect(codeSum(Int8Array.from([1, -2, 3, 127, -128]), 1, 3)).toBe(128);
  });

  it('Int8Index: the relaxed (where supported) and plain kernels give identical candidate scores, equal to a JS re-computation', () => {
    const dim = 96;
    const r = rng(21);
    const n = 3000;
    const chunk: VectorChunk = {
      dim,
      vectors: Float32Array.from({ length: n * dim }, () => r() - 0.5),
      ids: Array.from({ length: n }, (_, i) => (i % 17 === 3 ? null : `v${i}`)),
    };
    const plain = Int8Index.fromChunks([chunk], undefined, { kernel: 'plain' });
    const relaxed = Int8Index.fromChunks([chunk]); // the default build: relaxed where exact
    expect(plain.kernel).toBe('plain');
    const js = Int8Index.fromChunks([chunk], undefined, { backend: 'js' });
    const codes = (js as unknown as { codes: Int8Array }).codes;
    const scales = (js as unknown as { scales: Float32Array }).scales;
    for (let t = 0; t < 5; t++) {
      const q = Float32Array.from({ length: dim }, () => r() - 0.5);
      const a = plain.search(q, 50, { candidates: 50 });
      expect(relaxed.search(q, 50, { candidates: 50 })).toEqual(a);
      // the same scores from the 7-bit query and the row codes, computed in plain JS
      const qb = new Uint8Array(dim);
      const qs = quantizeQueryU7(q, qb, dim);
      const want = a.map((h) => {
        const row = Number(h.id.slice(1));
        let s = 0;
        for (let j = 0; j < dim; j++) s += (qb[j] - QUERY_BIAS) * codes[row * dim + j];
        return { id: h.id, score: s * qs * scales[row] };
      });
      expect(a).toEqual(want);
    }
  });
});
