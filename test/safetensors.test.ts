import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isRouterRetrieverError, type ErrorCode } from '../src/boundary/errors.js';
import {
  parseSafetensors,
  parseSafetensorsFile,
  readSafetensorsMetadata,
  serializeSafetensors,
} from '../workers/model/safetensors.js';
import type { StateDict, StoredTensor } from '../workers/model/tensor.js';
import {
  bfloat16ToFloat32,
  float16BitsToNumber,
  float16ToFloat32,
  float32ToFloat16Bits,
  toFloat32,
} from '../workers/model/tensor-convert.js';
import { parseTorchBin } from '../workers/model/torch-bin.js';

function expectCode(fn: () => unknown, code: ErrorCode, match?: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(isRouterRetrieverError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
    if (match) expect((e as Error).message).toMatch(match);
    return;
  }
  throw new Error(`expected a ${code} error`);
}

/** Builds a safetensors file from a raw header object and data bytes. */
function rawFile(header: unknown, data: Uint8Array, headerLen?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLen ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('tensor-convert', () => {
  it('converts float16 bits exactly, including subnormals, inf and nan', () => {
    expect(float16BitsToNumber(0x3c00)).toBe(1);
    expect(float16BitsToNumber(0xc000)).toBe(-2);
    expect(float16BitsToNumber(0x7bff)).toBe(65504);
    expect(float16BitsToNumber(0x0001)).toBe(2 ** -24);
    expect(float16BitsToNumber(0x03ff)).toBe(1023 * 2 ** -24);
    expect(float16BitsToNumber(0x0400)).toBe(2 ** -14);
    expect(float16BitsToNumber(0x7c00)).toBe(Infinity);
    expect(float16BitsToNumber(0xfc00)).toBe(-Infinity);
    expect(Number.isNaN(float16BitsToNumber(0x7e00))).toBe(true);
    expect(Object.is(float16BitsToNumber(0x8000), -0)).toBe(true);
    const f = float16ToFloat32(new Uint16Array([0x3555, 0x8001, 0x7c01]));
    expect(f[0]).toBeCloseTo(0.333251953125, 12);
    expect(f[1]).toBe(-(2 ** -24));
    expect(Number.isNaN(f[2])).toBe(true);
  });

  it('round-trips every float16 bit pattern through float32ToFloat16Bits', () => {
    for (let h = 0; h < 65536; h++) {
      const v = float16BitsToNumber(h);
      const back = float32ToFloat16Bits(v);
      if (Number.isNaN(v)) expect(back & 0x7c00).toBe(0x7c00);
      else expect(back).toBe(h);
    }
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(float32ToFloat16Bits(70000)).toBe(0x7c00);
    expect(float32ToFloat16Bits(2 ** -26)).toBe(0); // below half the smallest subnormal... tie to even 0
    expect(float32ToFloat16Bits(3 * 2 ** -26)).toBe(1);
  });

  it('converts bfloat16, float64 and integer tensors', () => {
    expect(Array.from(bfloat16ToFloat32(new Uint16Array([0x3f80, 0xc040, 0x7f80, 0x0001])))).toEqual([
      1,
      -3,
      Infinity,
      2 ** -133,
    ]);
    const t = (dtype: StoredTensor['dtype'], data: StoredTensor['data']): StoredTensor => ({
      dtype,
      shape: [data.length],
      data,
    });
    expect(Array.from(toFloat32(t('float64', new Float64Array([1.5, -2]))))).toEqual([1.5, -2]);
    expect(Array.from(toFloat32(t('int64', new BigInt64Array([3n, -4n]))))).toEqual([3, -4]);
    expect(Array.from(toFloat32(t('int8', new Int8Array([-128, 127]))))).toEqual([-128, 127]);
    expect(Array.from(toFloat32(t('bool', new Uint8Array([0, 1]))))).toEqual([0, 1]);
    const src = new Float32Array([1, 2]);
    const out = toFloat32(t('float32', src));
    out[0] = 9;
    expect(src[0]).toBe(1); // never aliases the checkpoint
  });
});

describe('parseSafetensors', () => {
  it('round-trips all dtypes and the metadata', () => {
    const dict: StateDict = new Map<string, StoredTensor>([
      ['a.f32', { dtype: 'float32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) }],
      ['b.f16', { dtype: 'float16', shape: [2], data: new Uint16Array([0x3c00, 0xc000]) }],
      ['c.bf16', { dtype: 'bfloat16', shape: [1], data: new Uint16Array([0x3f80]) }],
      ['d.f64', { dtype: 'float64', shape: [], data: new Float64Array([Math.PI]) }],
      ['e.i64', { dtype: 'int64', shape: [1, 2], data: new BigInt64Array([-1n, 2n ** 40n]) }],
      ['f.i32', { dtype: 'int32', shape: [1], data: new Int32Array([-7]) }],
      ['g.i16', { dtype: 'int16', shape: [1], data: new Int16Array([-300]) }],
      ['h.i8', { dtype: 'int8', shape: [3], data: new Int8Array([-1, 0, 1]) }],
      ['i.u8', { dtype: 'uint8', shape: [1], data: new Uint8Array([200]) }],
      ['j.bool', { dtype: 'bool', shape: [2], data: new Uint8Array([1, 0]) }],
      ['k.empty', { dtype: 'float32', shape: [0, 4], data: new Float32Array(0) }],
    ]);
    const bytes = serializeSafetensors(dict, { format: 'pt' });
    const { tensors, metadata } = parseSafetensorsFile(bytes);
    expect(metadata).toEqual({ format: 'pt' });
    expect(readSafetensorsMetadata(bytes)).toEqual({ format: 'pt' });
    expect([...tensors.keys()].sort()).toEqual([...dict.keys()].sort());
    for (const [k, t] of dict) {
      const r = tensors.get(k)!;
      expect(r.dtype).toBe(t.dtype);
      expect(r.shape).toEqual(t.shape);
      expect(r.data.constructor).toBe(t.data.constructor);
      expect(Array.from(r.data as ArrayLike<number | bigint>)).toEqual(
        Array.from(t.data as ArrayLike<number | bigint>),
      );
    }
    expect(toFloat32(tensors.get('b.f16')!)).toEqual(new Float32Array([1, -2]));
  });

  it('reads misaligned data and from a subarray view', () => {
    // Header length 3 mod 8 -> data starts at an odd offset; the file itself sits at offset 1.
    const payload = new Float32Array([1.25, -2.5, 3]);
    const header = { w: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } };
    const f = rawFile(header, new Uint8Array(payload.buffer));
    expect((8 + f.length - 12) % 4).not.toBe(0);
    const backing = new Uint8Array(f.length + 1);
    backing.set(f, 1);
    const t = parseSafetensors(backing.subarray(1)).get('w')!;
    expect(Array.from(t.data as Float32Array)).toEqual([1.25, -2.5, 3]);
    expect(t.data.byteOffset % 4).toBe(0);
  });

  it('returns views on aligned data unless asked to copy', () => {
    const bytes = serializeSafetensors(
      new Map([['w', { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) }]]),
    );
    expect(parseSafetensors(bytes).get('w')!.data.buffer).toBe(bytes.buffer);
    const copied = parseSafetensors(bytes, { copy: true }).get('w')!;
    expect(copied.data.buffer).not.toBe(bytes.buffer);
    expect(Array.from(copied.data as Float32Array)).toEqual([1, 2]);
  });

  it('rejects truncated files and wrong header lengths', () => {
    expectCode(() => parseSafetensors(new Uint8Array(5)), 'MODEL_FORMAT', /too short/);
    const good = serializeSafetensors(new Map([['w', { dtype: 'float32', shape: [4], data: new Float32Array(4) }]]));
    expectCode(() => parseSafetensors(good.subarray(0, good.length - 3)), 'MODEL_FORMAT', /beyond the .*data area/);
    expectCode(() => parseSafetensors(good.subarray(0, 20)), 'MODEL_FORMAT', /header claims/);
    const big = good.slice();
    new DataView(big.buffer).setBigUint64(0, BigInt(big.length), true);
    expectCode(() => parseSafetensors(big), 'MODEL_FORMAT', /header claims/);
    const absurd = good.slice();
    new DataView(absurd.buffer).setBigUint64(0, 2n ** 60n, true);
    expectCode(() => parseSafetensors(absurd), 'MODEL_FORMAT', /absurd/);
    const max = good.slice();
    new DataView(max.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
    expectCode(() => parseSafetensors(max), 'MODEL_FORMAT', /absurd/);
  });

  it('rejects bad JSON, unknown dtypes and shape/size mismatches, naming the tensor', () => {
    const data = new Uint8Array(16);
    expectCode(() => parseSafetensors(rawFile('not json', data, 3n)), 'MODEL_FORMAT', /JSON/);
    const bad = new Uint8Array(12);
    new DataView(bad.buffer).setBigUint64(0, 4n, true);
    bad.set([0x7b, 0xff, 0xfe, 0x7d], 8);
    expectCode(() => parseSafetensors(bad), 'MODEL_FORMAT', /UTF-8/);
    expectCode(() => parseSafetensors(rawFile([1, 2], data)), 'MODEL_FORMAT', /not an object/);
    expectCode(
      () => parseSafetensors(rawFile({ w: { dtype: 'C64', shape: [2], data_offsets: [0, 16] } }, data)),
      'MODEL_FORMAT',
      /"w".*dtype "C64"/,
    );
    expectCode(
      () => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, data)),
      'MODEL_FORMAT',
      /"w".*needs 12 bytes/,
    );
    expectCode(
      () => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [-4], data_offsets: [0, 16] } }, data)),
      'MODEL_FORMAT',
      /invalid dimension/,
    );
    expectCode(
      () => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 16] } }, data)),
      'MODEL_FORMAT',
      /invalid dimension/,
    );
    expectCode(
      () => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 16] } }, data)),
      'MODEL_FORMAT',
      /absurd shape/,
    );
    expectCode(
      () => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: 4, data_offsets: [0, 16] } }, data)),
      'MODEL_FORMAT',
      /shape/,
    );
    expectCode(
      () => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [4] } }, data)),
      'MODEL_FORMAT',
      /data_offsets/,
    );
    expectCode(() => parseSafetensors(rawFile({ w: 'x' }, data)), 'MODEL_FORMAT', /"w"/);
    expectCode(() => parseSafetensors(rawFile({ __metadata__: { a: 1 } }, data)), 'MODEL_FORMAT', /__metadata__/);
  });

  it('rejects out-of-range, reversed and overlapping offsets', () => {
    const data = new Uint8Array(16);
    expectCode(
      () => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [4], data_offsets: [4, 20] } }, data)),
      'MODEL_FORMAT',
      /beyond/,
    );
    expectCode(
      () => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, data)),
      'MODEL_FORMAT',
      /end before/,
    );
    expectCode(
      () => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [2 ** 53, 2 ** 53 + 4] } }, data)),
      'MODEL_FORMAT',
      /data_offsets/,
    );
    expectCode(
      () =>
        parseSafetensors(
          rawFile(
            {
              a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
              b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
            },
            data,
          ),
        ),
      'MODEL_FORMAT',
      /overlapping/,
    );
  });
});

const FIXTURE = new URL('./fixtures/tiny-bert/', import.meta.url);
const haveFixtures =
  existsSync(new URL('model.safetensors', FIXTURE)) && existsSync(new URL('pytorch_model.bin', FIXTURE));

describe.skipIf(!haveFixtures)('tiny-bert fixtures written by PyTorch', () => {
  it('model.safetensors and pytorch_model.bin hold identical float32 weights', async () => {
    const st = parseSafetensorsFile(readFileSync(new URL('model.safetensors', FIXTURE)));
    const bin = await parseTorchBin(readFileSync(new URL('pytorch_model.bin', FIXTURE)));
    expect(st.tensors.size).toBeGreaterThan(10);
    for (const [k, t] of st.tensors) {
      const b = bin.get(k);
      expect(b, k).toBeDefined();
      expect(b!.shape, k).toEqual(t.shape);
      const x = toFloat32(b!);
      const y = toFloat32(t);
      expect(x.length, k).toBe(y.length);
      let same = 0;
      for (let i = 0; i < x.length; i++) if (Object.is(x[i], y[i])) same++;
      expect(same, k).toBe(x.length);
    }
    for (const k of bin.keys()) if (!st.tensors.has(k)) expect(k).toMatch(/position_ids$/);
    expect(st.tensors.get('embeddings.word_embeddings.weight')?.shape[0]).toBe(30522);
  });
});
