import { RouterRetrieverError } from '../../src/boundary/errors.js';
import { TORCH_STORAGE_DTYPES, isTorchTensorRef, unpickle, type PickleGlobal, type TorchTensorRef } from './pickle.js';
import type { DType, StateDict, StoredTensor } from './tensor.js';
import { DTYPE_BYTES, typedArrayFromBytes } from './tensor-convert.js';
import { ZipReader, isZip } from './zip.js';

export interface TorchBinOptions {
  /** File name used in error messages (default "pytorch_model.bin"). */
  fileName?: string;
  /**
   * Copy every tensor into its own buffer (default false: aligned contiguous tensors of
   * STORED entries are views on `bytes`, which saves memory; others are always copied).
   */
  copy?: boolean;
}

interface StorageRef {
  readonly kind: 'storage';
  readonly key: string;
  readonly dtype: DType;
  readonly bytes: Uint8Array;
}

function fail(file: string, problem: string, details: Record<string, unknown> = {}): never {
  throw new RouterRetrieverError('MODEL_FORMAT', `${file}: ${problem}`, { file, ...details });
}

/**
 * Reads a PyTorch checkpoint written by torch.save (>= 1.6, zip format) holding a state
 * dict (pytorch_model.bin, adapter_model.bin), without executing anything. Non-contiguous
 * tensors are materialised by their strides; see TorchBinOptions.copy for aliasing.
 */
export async function parseTorchBin(bytes: Uint8Array, options: TorchBinOptions = {}): Promise<StateDict> {
  const file = options.fileName ?? 'pytorch_model.bin';
  checkKind(bytes, file);
  const zip = ZipReader.open(bytes, { fileName: file });
  const entryBytes = new Map<string, Uint8Array>();
  // Only the entries a checkpoint reads are inflated, within a budget decided before any byte is:
  // a 1 MB archive of compressed, unused entries used to inflate to 2.1 GiB. torch.save never
  // compresses (STORED), so the budget only has to fit archives re-saved with compression.
  let budget = Math.max(MIN_INFLATE_BUDGET, bytes.byteLength * MAX_INFLATE_RATIO);
  for (const name of zip.names) {
    const e = zip.entries.get(name)!;
    if (e.method === 0 || !CHECKPOINT_ENTRY.test(name)) continue;
    if (e.uncompressedSize > budget)
      fail(
        file,
        `compressed entry "${name}" declares ${e.uncompressedSize} bytes, more than the ${Math.floor(budget)} left of this ${bytes.byteLength}-byte file's budget (${MAX_INFLATE_RATIO}x its size); re-save it uncompressed (torch.save does) or as safetensors`,
        { entry: name },
      );
    budget -= e.uncompressedSize;
    entryBytes.set(name, await zip.read(name));
  }
  return parseTorchZip(zip, file, entryBytes, options.copy ?? false);
}

/** Entries a torch.save checkpoint reads: data.pkl, byteorder, version and the tensor storages data/<key>. */
const CHECKPOINT_ENTRY = /(?:^|\/)(?:data\.pkl|byteorder|version|data\/[^/]+)$/;
const MAX_INFLATE_RATIO = 32;
const MIN_INFLATE_BUDGET = 16 * 2 ** 20;

/** Synchronous variant; works when every entry is STORED (always the case for torch.save). */
export function parseTorchBinSync(bytes: Uint8Array, options: TorchBinOptions = {}): StateDict {
  const file = options.fileName ?? 'pytorch_model.bin';
  checkKind(bytes, file);
  return parseTorchZip(ZipReader.open(bytes, { fileName: file }), file, new Map(), options.copy ?? false);
}

function checkKind(bytes: Uint8Array, file: string): void {
  if (!(bytes instanceof Uint8Array)) fail(file, 'expected the file contents as a Uint8Array');
  if (isZip(bytes)) return;
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 64));
  if (head.startsWith('version https://git-lfs')) {
    fail(
      file,
      'this is a Git LFS pointer, not the weights. Download the real file (git lfs pull, or the "resolve" URL on the Hub).',
    );
  }
  if (bytes.byteLength > 0 && bytes[0] === 0x80) {
    fail(
      file,
      'this is a legacy (pre-1.6, non-zip) PyTorch file, which is not supported. Re-save it with torch>=1.6 ' +
        '(torch.save(torch.load(f), f)) or convert it to safetensors.',
    );
  }
  if (bytes.byteLength >= 9 && bytes[8] === 0x7b /* "{" after the u64 length */) {
    fail(file, 'this looks like a safetensors file, not a PyTorch zip; load it as model.safetensors.');
  }
  fail(
    file,
    `this is not a PyTorch checkpoint (expected a zip archive written by torch.save, got ${bytes.byteLength} bytes starting 0x${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join('')}). Re-download it or convert it to safetensors.`,
  );
}

function parseTorchZip(zip: ZipReader, file: string, inflated: Map<string, Uint8Array>, copy: boolean): StateDict {
  const get = (name: string): Uint8Array => inflated.get(name) ?? zip.readSync(name);
  const pkl = zip.names
    .filter((n) => n === 'data.pkl' || n.endsWith('/data.pkl'))
    .sort((a, b) => a.length - b.length)[0];
  if (pkl === undefined) {
    if (zip.names.some((n) => n.endsWith('constants.pkl') || n.includes('/code/'))) {
      fail(
        file,
        'this is a TorchScript archive (torch.jit.save), not a state dict. Save model.state_dict() with torch.save, or use safetensors.',
      );
    }
    fail(
      file,
      'the zip archive has no data.pkl, so it is not a torch.save checkpoint. Re-save with torch.save(model.state_dict(), ...) or use safetensors.',
    );
  }
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  let bigEndian = false;
  if (zip.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(get(`${prefix}byteorder`)).trim();
    if (order === 'big') bigEndian = true;
    else if (order !== 'little') fail(file, `unknown byteorder "${order}"`);
  }

  const storages = new Map<string, StorageRef>();
  const persistentLoad = (pid: unknown): StorageRef => {
    if (!Array.isArray(pid) || pid.length < 5 || pid[0] !== 'storage') {
      fail(file, `unexpected persistent id ${safeJson(pid)}; only tensor storages are supported`);
    }
    const type = pid[1] as PickleGlobal | null;
    if (typeof type !== 'object' || type === null || typeof type.name !== 'string')
      fail(file, `storage type ${safeJson(type)} is not a torch storage class`);
    const key = pid[2];
    if (typeof key !== 'string' && typeof key !== 'number') fail(file, `storage key ${safeJson(key)} is not a string`);
    const keyStr = String(key);
    if (!/^[A-Za-z0-9_.-]+$/.test(keyStr) || keyStr.includes('..'))
      fail(file, `storage key ${safeJson(key)} is not a plain name`);
    const dtype = Object.hasOwn(TORCH_STORAGE_DTYPES, type.name) ? TORCH_STORAGE_DTYPES[type.name] : undefined;
    if (type.module !== 'torch' || dtype === undefined)
      fail(file, `storage type ${type.module}.${type.name} is not supported`);
    const cached = storages.get(keyStr);
    if (cached) return cached;
    const entry = `${prefix}data/${keyStr}`;
    if (!zip.has(entry))
      fail(file, `the tensor storage "${entry}" is missing from the archive (truncated or incomplete file)`, { entry });
    const ref: StorageRef = { kind: 'storage', key: keyStr, dtype, bytes: get(entry) };
    storages.set(keyStr, ref);
    return ref;
  };

  const root = unpickle(get(pkl), { persistentLoad, fileName: `${file} (${pkl})` });
  const dict = findStateDict(root);
  if (!dict)
    fail(
      file,
      'the pickle does not hold a state dict (a dict of tensors). Save model.state_dict() rather than the model object.',
    );

  const out: StateDict = new Map();
  for (const [k, v] of dict) {
    if (typeof k !== 'string' || !isTorchTensorRef(v)) continue;
    out.set(k, materialise(v, k, file, bigEndian, copy));
  }
  return out;
}

function safeJson(v: unknown): string {
  try {
    return (
      JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))?.slice(0, 200) ?? String(v)
    );
  } catch {
    return String(v);
  }
}

function findStateDict(root: unknown): Map<unknown, unknown> | null {
  const isTensorDict = (m: unknown): m is Map<unknown, unknown> =>
    m instanceof Map && [...m.values()].some((v) => isTorchTensorRef(v));
  if (isTensorDict(root)) return root;
  if (root instanceof Map) {
    for (const key of ['state_dict', 'model', 'module']) {
      const inner = root.get(key);
      if (isTensorDict(inner)) return inner;
    }
  }
  if (root instanceof Map && root.size === 0) return root;
  return null;
}

function materialise(t: TorchTensorRef, name: string, file: string, bigEndian: boolean, copy: boolean): StoredTensor {
  const storage = t.storage as StorageRef;
  if (typeof storage !== 'object' || storage === null || storage.kind !== 'storage') {
    fail(file, `tensor "${name}" has no storage`, { tensor: name });
  }
  const dtype = t.dtype ?? storage.dtype;
  const itemsize = DTYPE_BYTES[dtype];
  const shape = t.size.slice();
  let numel = 1;
  for (const d of shape) numel *= d;
  if (!Number.isSafeInteger(numel))
    fail(file, `tensor "${name}" has an absurd shape ${JSON.stringify(shape)}`, { tensor: name });
  const storageElems = Math.floor(storage.bytes.byteLength / itemsize);
  let src = storage.bytes;
  if (bigEndian && itemsize > 1) src = swapped(src, itemsize);

  if (numel === 0) return { dtype, shape, data: typedArrayFromBytes(dtype, new Uint8Array(0)) };
  // A view with more elements than its storage overlaps itself (a stride 0): materialising it
  // would cost numel x itemsize from a few bytes of file (a 647-byte file asked for 1.6 GB).
  // Checkpoints store every parameter in a storage at least its size, so this bounds every
  // tensor read by the bytes the file really holds.
  if (numel > storageElems)
    fail(
      file,
      `tensor "${name}" (shape ${JSON.stringify(shape)}) has ${numel} elements but its storage holds ${storageElems} (overlapping strides ${JSON.stringify(t.stride)}); checkpoints store each parameter whole`,
      { tensor: name },
    );

  // Highest element index touched: offset + sum((size_i - 1) * stride_i).
  let maxIndex = t.storageOffset;
  for (let i = 0; i < shape.length; i++) maxIndex += (shape[i] - 1) * t.stride[i];
  if (maxIndex >= storageElems) {
    fail(
      file,
      `tensor "${name}" (shape ${JSON.stringify(shape)}, offset ${t.storageOffset}) reaches element ${maxIndex} of a storage holding ${storageElems} (truncated or corrupt file)`,
      { tensor: name },
    );
  }

  let contiguous = true;
  let expect = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && t.stride[i] !== expect) contiguous = false;
    expect *= shape[i];
  }
  if (contiguous) {
    const start = t.storageOffset * itemsize;
    return { dtype, shape, data: typedArrayFromBytes(dtype, src.subarray(start, start + numel * itemsize), copy) };
  }

  // Non-contiguous: gather element by element in row-major order.
  const out = new Uint8Array(numel * itemsize);
  const idx = new Array<number>(shape.length).fill(0);
  let srcElem = t.storageOffset;
  for (let n = 0; n < numel; n++) {
    out.set(src.subarray(srcElem * itemsize, srcElem * itemsize + itemsize), n * itemsize);
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]++;
      srcElem += t.stride[d];
      if (idx[d] < shape[d]) break;
      srcElem -= t.stride[d] * shape[d];
      idx[d] = 0;
    }
  }
  return { dtype, shape, data: typedArrayFromBytes(dtype, out) };
}

function swapped(b: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(b.byteLength - (b.byteLength % size));
  for (let i = 0; i < out.length; i += size) for (let j = 0; j < size; j++) out[i + j] = b[i + size - 1 - j];
  return out;
}
