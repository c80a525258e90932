import { RouterRetrieverError } from '../../src/boundary/errors.js';
import type { DType, StoredTensor } from './tensor.js';

/** Bytes per element for each stored dtype. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** Number of elements of a shape (1 for a scalar). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

// Lookup tables for float16 -> float32 (exact; every half value is representable in float32).
let halfTable: Float32Array | null = null;
function getHalfTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) t[h] = float16BitsToNumber(h);
  halfTable = t;
  return t;
}

/** Converts one IEEE 754 binary16 bit pattern to a number (subnormals, ±inf, NaN included). */
export function float16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero / subnormal
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Converts a number to IEEE 754 binary16 bits with round-to-nearest-even
 * (overflow -> ±inf, NaN -> quiet NaN, tiny values -> subnormals / ±0).
 */
export function float32ToFloat16Bits(value: number): number {
  const f = Math.fround(value);
  if (Number.isNaN(f)) return 0x7e00;
  const sign = f < 0 || Object.is(f, -0) ? 0x8000 : 0;
  const a = Math.abs(f);
  if (a === Infinity) return sign | 0x7c00;
  if (a === 0) return sign;
  // Largest half is 65504; values >= 65520 round to infinity.
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) {
    // Subnormal half: value = m * 2^-24, m in [0, 1023] (may round up to the smallest normal 0x400).
    const m = roundHalfEven(a * 2 ** 24);
    return sign | m;
  }
  let e = Math.floor(Math.log2(a));
  // Guard against log2 rounding at exact powers of two.
  if (2 ** e > a) e -= 1;
  else if (2 ** (e + 1) <= a) e += 1;
  const mant = roundHalfEven((a / 2 ** e - 1) * 1024);
  // mant may be 1024 after rounding: that carries into the exponent, which the bit layout handles.
  return sign | (((e + 15) << 10) + mant);
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Converts an array of float16 bit patterns to float32. */
export function float16ToFloat32(bits: Uint16Array): Float32Array {
  const table = getHalfTable();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]];
  return out;
}

/** Converts an array of bfloat16 bit patterns to float32 (exact: bf16 is the top half of a float32). */
export function bfloat16ToFloat32(bits: Uint16Array): Float32Array {
  const u = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) u[i] = bits[i] << 16;
  return new Float32Array(u.buffer);
}

/**
 * Converts any stored tensor to float32 values. float32 data is copied, so the
 * result never aliases the checkpoint buffer. int64 values beyond 2^53 lose precision.
 */
export function toFloat32(t: StoredTensor): Float32Array {
  const d = t.data;
  switch (t.dtype) {
    case 'float32':
      return Float32Array.from(d as Float32Array);
    case 'float16':
      return float16ToFloat32(d as Uint16Array);
    case 'bfloat16':
      return bfloat16ToFloat32(d as Uint16Array);
    case 'float64':
      return Float32Array.from(d as Float64Array);
    case 'int64': {
      const src = d as BigInt64Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
      return out;
    }
    case 'int32':
    case 'int16':
    case 'int8':
    case 'uint8':
    case 'bool':
      return Float32Array.from(d as Int32Array | Int16Array | Int8Array | Uint8Array);
    default:
      throw new RouterRetrieverError(
        'MODEL_FORMAT',
        `Cannot convert a tensor of dtype "${String((t as { dtype: unknown }).dtype)}" to float32.`,
      );
  }
}

/**
 * Builds the typed array for `dtype` from raw little-endian bytes. With `copy` (default)
 * the bytes go into a fresh buffer; without it, a view on `bytes` is returned when the
 * data is suitably aligned (and the host little-endian), else a copy (misaligned data works).
 */
export function typedArrayFromBytes(dtype: DType, bytes: Uint8Array, copy = true): StoredTensor['data'] {
  const size = DTYPE_BYTES[dtype];
  if (bytes.byteLength % size !== 0) {
    throw new RouterRetrieverError(
      'MODEL_FORMAT',
      `Tensor byte length ${bytes.byteLength} is not a multiple of ${size} (${dtype}).`,
    );
  }
  let src = bytes;
  if (copy || !LITTLE_ENDIAN || bytes.byteOffset % size !== 0) {
    src = new Uint8Array(bytes.byteLength);
    src.set(bytes);
    if (!LITTLE_ENDIAN && size > 1) swapBytes(src, size);
  }
  const buf = src.buffer;
  const off = src.byteOffset;
  const n = src.byteLength / size;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf, off, n);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(buf, off, n);
    case 'float64':
      return new Float64Array(buf, off, n);
    case 'int64':
      return new BigInt64Array(buf, off, n);
    case 'int32':
      return new Int32Array(buf, off, n);
    case 'int16':
      return new Int16Array(buf, off, n);
    case 'int8':
      return new Int8Array(buf, off, n);
    case 'uint8':
    case 'bool':
      return src;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swapBytes(b: Uint8Array, size: number): void {
  for (let i = 0; i < b.length; i += size) {
    for (let j = 0; j < size >> 1; j++) {
      const t = b[i + j];
      b[i + j] = b[i + size - 1 - j];
      b[i + size - 1 - j] = t;
    }
  }
}
