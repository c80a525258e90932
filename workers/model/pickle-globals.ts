/**
 * What a PyTorch pickle may name and call, for the unpickler in ./pickle.ts: the allowed
 * globals (torch storages and dtypes, OrderedDict, the tensor rebuild functions), which stay
 * inert descriptors, and REDUCE interpreted here for exactly those, never "called".
 */
import { RouterRetrieverError } from '../../src/boundary/errors.js';
import type { DType } from './tensor.js';

/** An inert reference to an allowed Python global, e.g. torch.FloatStorage. */
export interface PickleGlobal {
  readonly kind: 'global';
  readonly module: string;
  readonly name: string;
}

/** What torch._utils._rebuild_tensor_v2 (and friends) would have built. */
export interface TorchTensorRef {
  readonly kind: 'torch-tensor';
  /** Whatever the persistentLoad callback returned for the storage's persistent id. */
  readonly storage: unknown;
  readonly storageOffset: number;
  readonly size: number[];
  readonly stride: number[];
  /** Set by _rebuild_tensor_v3 (element type given explicitly, storage untyped). */
  readonly dtype?: DType;
}

export interface UnpickleOptions {
  /** Resolves BINPERSID persistent ids (torch: ('storage', type, key, location, numel)). */
  persistentLoad?: (pid: unknown) => unknown;
  /** File name used in error messages (default "data.pkl"). */
  fileName?: string;
}

/** torch.*Storage class name → element type. */
export const TORCH_STORAGE_DTYPES: Readonly<Record<string, DType>> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  UntypedStorage: 'uint8',
};

/** torch.<dtype> global name → element type (used by _rebuild_tensor_v3). */
export const TORCH_DTYPES: Readonly<Record<string, DType>> = {
  float32: 'float32',
  float: 'float32',
  float16: 'float16',
  half: 'float16',
  bfloat16: 'bfloat16',
  float64: 'float64',
  double: 'float64',
  int64: 'int64',
  long: 'int64',
  int32: 'int32',
  int: 'int32',
  int16: 'int16',
  short: 'int16',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
};

export const CALLABLE_GLOBALS = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor_v3',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._tensor._rebuild_from_type_v2',
]);

/** Globals that may be loaded as inert values but never called. */
export function isValueGlobal(module: string, name: string): boolean {
  if (module === 'torch') {
    return Object.hasOwn(TORCH_STORAGE_DTYPES, name) || Object.hasOwn(TORCH_DTYPES, name) || name === 'Tensor';
  }
  return module === 'torch.nn.parameter' && name === 'Parameter';
}
export function unsafe(file: string, what: string, details: Record<string, unknown> = {}): never {
  throw new RouterRetrieverError(
    'UNSAFE_PICKLE',
    `${file} asks for ${what}, which a plain PyTorch state dict never needs; the file is not a plain state dict ` +
      `and was NOT loaded (nothing was executed). Use a safetensors copy of the weights, or re-save with ` +
      `torch.save(model.state_dict(), ...) from a trusted source.`,
    { file, ...details },
  );
}

export function corrupt(file: string, problem: string, details: Record<string, unknown> = {}): never {
  throw new RouterRetrieverError(
    'MODEL_FORMAT',
    `${file} is not a readable pickled state dict: ${problem}. Re-download the file, or convert it to safetensors.`,
    { file, ...details },
  );
}

export function isGlobal(v: unknown): v is PickleGlobal {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as PickleGlobal).kind === 'global' &&
    !Array.isArray(v) &&
    !(v instanceof Map)
  );
}

export function isTorchTensorRef(v: unknown): v is TorchTensorRef {
  return typeof v === 'object' && v !== null && (v as TorchTensorRef).kind === 'torch-tensor' && !(v instanceof Map);
}

export function describe(v: unknown): string {
  if (isGlobal(v)) return `${v.module}.${v.name}`;
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'a list/tuple';
  return typeof v;
}

function asIntList(v: unknown, file: string, what: string): number[] {
  if (!Array.isArray(v)) corrupt(file, `${what} is not a tuple`);
  return v.map((x) => {
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0)
      corrupt(file, `${what} holds ${String(x)}, not a non-negative integer`);
    return x;
  });
}

function rebuildTensor(args: unknown[], file: string, dtype?: DType): TorchTensorRef {
  if (args.length < 4) corrupt(file, '_rebuild_tensor with too few arguments');
  const [storage, offset, size, stride] = args;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
    corrupt(file, `a tensor has storage offset ${String(offset)}`);
  const s = asIntList(size, file, 'a tensor size');
  const st = asIntList(stride, file, 'a tensor stride');
  if (s.length !== st.length) corrupt(file, `a tensor has size ${JSON.stringify(s)} but stride ${JSON.stringify(st)}`);
  return Object.freeze({
    kind: 'torch-tensor',
    storage,
    storageOffset: offset,
    size: s,
    stride: st,
    ...(dtype ? { dtype } : {}),
  }) as TorchTensorRef;
}

export function reduce(fn: unknown, args: unknown, file: string): unknown {
  if (!isGlobal(fn)) unsafe(file, `REDUCE on ${describe(fn)} (calling a non-whitelisted object)`, { opcode: 'REDUCE' });
  const full = `${fn.module}.${fn.name}`;
  if (!CALLABLE_GLOBALS.has(full)) unsafe(file, `a call to ${full}`, { global: full, opcode: 'REDUCE' });
  if (!Array.isArray(args)) corrupt(file, `REDUCE arguments for ${full} are not a tuple`);
  switch (full) {
    case 'collections.OrderedDict': {
      const m = new Map();
      if (args.length > 0 && args[0] !== null) {
        const src = args[0];
        if (src instanceof Map) for (const [k, v] of src) m.set(k, v);
        else if (Array.isArray(src)) {
          for (const kv of src) {
            if (!Array.isArray(kv) || kv.length !== 2)
              corrupt(file, 'OrderedDict built from something other than pairs');
            m.set(kv[0], kv[1]);
          }
        } else corrupt(file, 'OrderedDict built from an unexpected argument');
      }
      return m;
    }
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2':
      return rebuildTensor(args, file);
    case 'torch._utils._rebuild_tensor_v3': {
      const dt = args[6];
      if (!isGlobal(dt) || dt.module !== 'torch' || !Object.hasOwn(TORCH_DTYPES, dt.name)) {
        corrupt(file, '_rebuild_tensor_v3 without a supported torch dtype');
      }
      return rebuildTensor(args, file, TORCH_DTYPES[dt.name]);
    }
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state':
      if (!isTorchTensorRef(args[0])) corrupt(file, `${full} of something that is not a tensor`);
      return args[0];
    case 'torch._tensor._rebuild_from_type_v2': {
      const [inner, newType, innerArgs] = args;
      if (
        !isGlobal(newType) ||
        !(
          (newType.module === 'torch' && newType.name === 'Tensor') ||
          (newType.module === 'torch.nn.parameter' && newType.name === 'Parameter')
        )
      ) {
        unsafe(file, `_rebuild_from_type_v2 to the type ${describe(newType)}`, { opcode: 'REDUCE' });
      }
      return reduce(inner, innerArgs, file);
    }
  }
  unsafe(file, `a call to ${full}`, { global: full });
}
