import { RouterRetrieverError } from '../../src/boundary/errors.js';
import type { DType, StateDict } from './tensor.js';
import { DTYPE_BYTES, typedArrayFromBytes } from './tensor-convert.js';

/** safetensors dtype names we read, and the StoredTensor dtype each becomes. */
const SAFETENSORS_DTYPES: Readonly<Record<string, DType>> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

/** The safetensors reference implementation refuses headers above 100 MB; so do we. */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;

export interface SafetensorsFile {
  tensors: StateDict;
  /** The optional `__metadata__` map (string -> string), {} when absent. */
  metadata: Record<string, string>;
}

export interface SafetensorsOptions {
  /** File name used in error messages (default "model.safetensors"). */
  fileName?: string;
  /**
   * Copy every tensor into its own buffer (default false: aligned tensors are views on
   * `bytes`, which saves memory for large models; misaligned ones are always copied).
   */
  copy?: boolean;
}

function fail(file: string, problem: string, details: Record<string, unknown> = {}): never {
  throw new RouterRetrieverError(
    'MODEL_FORMAT',
    `${file} is not a valid safetensors file: ${problem}. Re-download the file, or re-save it with ` +
      `safetensors.torch.save_file / model.save_pretrained(safe_serialization=True).`,
    { file, ...details },
  );
}

/** Parses a safetensors file into a StateDict (aligned tensors are views on `bytes` unless options.copy). */
export function parseSafetensors(bytes: Uint8Array, options: SafetensorsOptions = {}): StateDict {
  return parseSafetensorsFile(bytes, options).tensors;
}

/** Reads only the `__metadata__` of a safetensors file (validates the header framing). */
export function readSafetensorsMetadata(bytes: Uint8Array, options: SafetensorsOptions = {}): Record<string, string> {
  return readHeader(bytes, options.fileName ?? 'model.safetensors').metadata;
}

interface RawHeader {
  header: Record<string, unknown>;
  metadata: Record<string, string>;
  dataStart: number;
}

function readHeader(bytes: Uint8Array, file: string): RawHeader {
  if (!(bytes instanceof Uint8Array)) fail(file, 'expected the file contents as a Uint8Array');
  if (bytes.byteLength < 8)
    fail(
      file,
      `the file is only ${bytes.byteLength} bytes long, too short for the 8-byte header length (truncated download?)`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) {
    fail(
      file,
      `the header length ${n} is absurd (limit ${MAX_SAFETENSORS_HEADER_BYTES} bytes); the file is corrupt or not safetensors`,
      { headerLength: n.toString() },
    );
  }
  const headerLen = Number(n);
  if (8 + headerLen > bytes.byteLength) {
    fail(
      file,
      `the header claims ${headerLen} bytes but the file has only ${bytes.byteLength - 8} after the length field (truncated download?)`,
      { headerLength: headerLen },
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    fail(file, 'the JSON header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(file, `the JSON header does not parse (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    fail(file, 'the JSON header is not an object');
  const h = header as Record<string, unknown>;
  const metadata: Record<string, string> = {};
  const meta = h['__metadata__'];
  if (meta !== undefined) {
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta))
      fail(file, '__metadata__ is not an object of strings');
    for (const [k, v] of Object.entries(meta as Record<string, unknown>)) {
      if (typeof v !== 'string') fail(file, `__metadata__["${k}"] is not a string`);
      metadata[k] = v;
    }
  }
  return { header: h, metadata, dataStart: 8 + headerLen };
}

/** Parses a safetensors file: its tensors and its `__metadata__`. */
export function parseSafetensorsFile(bytes: Uint8Array, options: SafetensorsOptions = {}): SafetensorsFile {
  const file = options.fileName ?? 'model.safetensors';
  const { header, metadata, dataStart } = readHeader(bytes, file);
  const dataLen = bytes.byteLength - dataStart;

  interface Entry {
    name: string;
    dtype: DType;
    shape: number[];
    begin: number;
    end: number;
  }
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      fail(file, `the entry for tensor "${name}" is not an object`, { tensor: name });
    const info = raw as Record<string, unknown>;
    const dtypeName = info['dtype'];
    if (typeof dtypeName !== 'string' || !Object.hasOwn(SAFETENSORS_DTYPES, dtypeName)) {
      fail(
        file,
        `tensor "${name}" has unsupported dtype ${JSON.stringify(dtypeName)} (supported: ${Object.keys(SAFETENSORS_DTYPES).join(', ')})`,
        { tensor: name },
      );
    }
    const dtype = SAFETENSORS_DTYPES[dtypeName];
    const shapeRaw = info['shape'];
    if (!Array.isArray(shapeRaw) || shapeRaw.length > 64)
      fail(file, `tensor "${name}" has no valid "shape" list`, { tensor: name });
    const shape: number[] = [];
    let numel = 1;
    for (const d of shapeRaw) {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)
        fail(
          file,
          `tensor "${name}" has an invalid dimension ${JSON.stringify(d)} in shape ${JSON.stringify(shapeRaw)}`,
          { tensor: name },
        );
      shape.push(d);
      numel *= d;
      if (numel > Number.MAX_SAFE_INTEGER)
        fail(file, `tensor "${name}" has an absurd shape ${JSON.stringify(shapeRaw)}`, { tensor: name });
    }
    const offs = info['data_offsets'];
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
    ) {
      fail(file, `tensor "${name}" has invalid data_offsets ${JSON.stringify(offs)}`, { tensor: name });
    }
    const [begin, end] = offs as [number, number];
    if (end < begin)
      fail(file, `tensor "${name}" has data_offsets [${begin}, ${end}] that end before they begin`, { tensor: name });
    if (end > dataLen) {
      fail(
        file,
        `tensor "${name}" has data_offsets [${begin}, ${end}] beyond the ${dataLen}-byte data area (truncated download?)`,
        { tensor: name, dataLength: dataLen },
      );
    }
    const expected = numel * DTYPE_BYTES[dtype];
    if (expected !== end - begin) {
      fail(
        file,
        `tensor "${name}" (${dtypeName}, shape ${JSON.stringify(shape)}) needs ${expected} bytes but data_offsets span ${end - begin}`,
        { tensor: name },
      );
    }
    entries.push({ name, dtype, shape, begin, end });
  }

  const sorted = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) {
      fail(file, `tensors "${sorted[i - 1].name}" and "${sorted[i].name}" have overlapping data_offsets`, {
        tensor: sorted[i].name,
      });
    }
  }

  const tensors: StateDict = new Map();
  for (const e of entries) {
    const data = typedArrayFromBytes(
      e.dtype,
      bytes.subarray(dataStart + e.begin, dataStart + e.end),
      options.copy ?? false,
    );
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

/** StoredTensor dtype -> safetensors dtype name. */
export const SAFETENSORS_DTYPE_NAMES: Readonly<Record<DType, string>> = Object.fromEntries(
  Object.entries(SAFETENSORS_DTYPES).map(([k, v]) => [v, k]),
) as Record<DType, string>;

/**
 * Writes a StateDict as a safetensors file (tensors in insertion order, header padded
 * with spaces to a multiple of 8 bytes like the reference implementation).
 */
export function serializeSafetensors(tensors: StateDict, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header['__metadata__'] = metadata;
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of tensors) {
    const b = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = {
      dtype: SAFETENSORS_DTYPE_NAMES[t.dtype],
      shape: t.shape,
      data_offsets: [offset, offset + b.byteLength],
    };
    parts.push(b);
    offset += b.byteLength;
  }
  let json = JSON.stringify(header);
  let jsonBytes = new TextEncoder().encode(json);
  const pad = (8 - (jsonBytes.byteLength % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    jsonBytes = new TextEncoder().encode(json);
  }
  const out = new Uint8Array(8 + jsonBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(jsonBytes.byteLength), true);
  out.set(jsonBytes, 8);
  let p = 8 + jsonBytes.byteLength;
  for (const b of parts) {
    out.set(b, p);
    p += b.byteLength;
  }
  return out;
}
