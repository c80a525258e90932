import {
  corrupt,
  describe,
  isTorchTensorRef,
  isValueGlobal,
  reduce,
  unsafe,
  CALLABLE_GLOBALS,
  type PickleGlobal,
  type UnpickleOptions,
} from './pickle-globals.js';
import { OPCODE_NAMES } from './pickle-opcodes.js';

/**
 * A whitelisting unpickler for PyTorch state dicts. It NEVER executes anything:
 * - only the opcodes a state dict uses are accepted (others: UNSAFE_PICKLE);
 * - GLOBAL/STACK_GLOBAL may only name a fixed list of torch/collections symbols, which
 *   become inert descriptors (PickleGlobal);
 * - REDUCE is interpreted in TypeScript for a handful of those symbols (OrderedDict,
 *   torch._utils._rebuild_tensor*, _rebuild_parameter*), never "called".
 * Python values map to: None→null, bool→boolean, int→number (bigint when beyond 2^53),
 * float→number, str→string, bytes→Uint8Array, list→array, tuple→frozen array,
 * dict/OrderedDict→Map, set→Set, tensors→TorchTensorRef.
 */

export {
  isTorchTensorRef,
  TORCH_DTYPES,
  TORCH_STORAGE_DTYPES,
  type PickleGlobal,
  type TorchTensorRef,
  type UnpickleOptions,
} from './pickle-globals.js';

const MAX_STACK = 1_000_000;

/** Unpickles `data` with the whitelist described above. */
/** The longest LONG1 / LONG4 integer read: 128 bits, twice what a state dict's int64 sizes and strides need. */
const MAX_LONG_BYTES = 16;

export function unpickle(data: Uint8Array, options: UnpickleOptions = {}): unknown {
  const file = options.fileName ?? 'data.pkl';
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const utf8 = new TextDecoder('utf-8');
  const latin1 = new TextDecoder('latin1');
  let pos = 0;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const need = (n: number, what: string): void => {
    if (n < 0 || pos + n > data.byteLength)
      corrupt(file, `it ends in the middle of ${what} at byte ${pos} (truncated?)`);
  };
  const u8 = (): number => {
    need(1, 'an argument');
    return data[pos++];
  };
  const u16 = (): number => {
    need(2, 'an argument');
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4, 'an argument');
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8, 'an argument');
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(data.byteLength)) corrupt(file, `a length ${v} exceeds the file size`);
    return Number(v);
  };
  const bytes = (n: number, what: string): Uint8Array => {
    need(n, what);
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = (what: string): string => {
    const start = pos;
    while (pos < data.byteLength && data[pos] !== 0x0a) pos++;
    if (pos >= data.byteLength) corrupt(file, `it ends in the middle of ${what}`);
    const s = latin1.decode(data.subarray(start, pos));
    pos++;
    return s;
  };
  const push = (v: unknown): void => {
    if (stack.length >= MAX_STACK) corrupt(file, 'its stack grows without bound');
    stack.push(v);
  };
  const pop = (op: string): unknown => {
    if (stack.length === 0) corrupt(file, `${op} at byte ${pos - 1} pops an empty stack`);
    return stack.pop();
  };
  const top = (op: string): unknown => {
    if (stack.length === 0) corrupt(file, `${op} at byte ${pos - 1} needs a value on the stack`);
    return stack[stack.length - 1];
  };
  const popMark = (op: string): unknown[] => {
    if (metastack.length === 0) corrupt(file, `${op} at byte ${pos - 1} has no matching MARK`);
    const items = stack;
    stack = metastack.pop()!;
    return items;
  };
  const loadGlobal = (module: string, name: string): PickleGlobal => {
    const full = `${module}.${name}`;
    if (!CALLABLE_GLOBALS.has(full) && !isValueGlobal(module, name)) {
      unsafe(file, `the Python global ${full}`, { global: full });
    }
    return Object.freeze({ kind: 'global', module, name }) as PickleGlobal;
  };
  const memoGet = (i: number, op: string): unknown => {
    if (!memo.has(i)) corrupt(file, `${op} refers to memo slot ${i}, which was never stored`);
    return memo.get(i);
  };
  const setItems = (target: unknown, kv: unknown[], op: string): void => {
    if (!(target instanceof Map)) corrupt(file, `${op} on something that is not a dict`);
    if (kv.length % 2 !== 0) corrupt(file, `${op} with an odd number of items`);
    for (let i = 0; i < kv.length; i += 2) target.set(kv[i], kv[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[], op: string): void => {
    if (!Array.isArray(target) || Object.isFrozen(target)) corrupt(file, `${op} on something that is not a list`);
    for (const it of items) target.push(it);
  };
  const tuple = (items: unknown[]): unknown[] => Object.freeze(items) as unknown[];
  // A state dict's integers (sizes, strides, offsets, versions) fit in 8 bytes. A LONG over 16 is
  // refused before it is read: a 1 MB LONG4 took minutes of BigInt shifts (200 kB: 14.8 s).
  const readLong = (b: Uint8Array): number | bigint => {
    if (b.length > MAX_LONG_BYTES)
      corrupt(
        file,
        `it holds an integer of ${b.length} bytes (a state dict's take at most 8; over ${MAX_LONG_BYTES} is refused)`,
      );
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  for (;;) {
    if (pos >= data.byteLength) corrupt(file, 'it ends without a STOP opcode (truncated?)');
    const at = pos;
    const op = data[pos++];
    switch (op) {
      case 0x80: {
        // PROTO
        const p = u8();
        if (p > 5) corrupt(file, `it uses pickle protocol ${p}`);
        break;
      }
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: {
        // STOP
        const v = pop('STOP');
        return v;
      }
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length > 0) stack.pop();
        else popMark('POP');
        break;
      case 0x31: // POP_MARK
        popMark('POP_MARK');
        break;
      case 0x32: // DUP
        push(top('DUP'));
        break;
      case 0x4e:
        push(null);
        break; // NONE
      case 0x88:
        push(true);
        break; // NEWTRUE
      case 0x89:
        push(false);
        break; // NEWFALSE
      case 0x4a: // BININT
        need(4, 'BININT');
        push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b:
        push(u8());
        break; // BININT1
      case 0x4d:
        push(u16());
        break; // BININT2
      case 0x8a:
        push(readLong(bytes(u8(), 'LONG1')));
        break; // LONG1
      case 0x8b: {
        // LONG4
        need(4, 'LONG4');
        const n = view.getInt32(pos, true);
        pos += 4;
        if (n < 0) corrupt(file, 'LONG4 with a negative length');
        if (n > MAX_LONG_BYTES)
          corrupt(
            file,
            `it holds an integer of ${n} bytes (a state dict's take at most 8; over ${MAX_LONG_BYTES} is refused)`,
          );
        push(readLong(bytes(n, 'LONG4')));
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8, 'BINFLOAT');
        push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58:
        push(utf8.decode(bytes(u32(), 'BINUNICODE')));
        break;
      case 0x8c:
        push(utf8.decode(bytes(u8(), 'SHORT_BINUNICODE')));
        break;
      case 0x8d:
        push(utf8.decode(bytes(u64(), 'BINUNICODE8')));
        break;
      case 0x54: {
        // BINSTRING (py2 str, signed length)
        need(4, 'BINSTRING');
        const n = view.getInt32(pos, true);
        pos += 4;
        if (n < 0) corrupt(file, 'BINSTRING with a negative length');
        push(latin1.decode(bytes(n, 'BINSTRING')));
        break;
      }
      case 0x55:
        push(latin1.decode(bytes(u8(), 'SHORT_BINSTRING')));
        break;
      case 0x42:
        push(bytes(u32(), 'BINBYTES').slice());
        break;
      case 0x43:
        push(bytes(u8(), 'SHORT_BINBYTES').slice());
        break;
      case 0x8e:
        push(bytes(u64(), 'BINBYTES8').slice());
        break;
      case 0x7d:
        push(new Map());
        break; // EMPTY_DICT
      case 0x5d:
        push([]);
        break; // EMPTY_LIST
      case 0x29:
        push(tuple([]));
        break; // EMPTY_TUPLE
      case 0x8f:
        push(new Set());
        break; // EMPTY_SET
      case 0x64: {
        // DICT
        const items = popMark('DICT');
        const m = new Map();
        setItems(m, items, 'DICT');
        push(m);
        break;
      }
      case 0x6c:
        push(popMark('LIST'));
        break; // LIST
      case 0x74:
        push(tuple(popMark('TUPLE')));
        break; // TUPLE
      case 0x85:
        push(tuple([pop('TUPLE1')]));
        break;
      case 0x86: {
        const b = pop('TUPLE2');
        const a = pop('TUPLE2');
        push(tuple([a, b]));
        break;
      }
      case 0x87: {
        const c = pop('TUPLE3');
        const b = pop('TUPLE3');
        const a = pop('TUPLE3');
        push(tuple([a, b, c]));
        break;
      }
      case 0x91:
        push(Object.freeze(new Set(popMark('FROZENSET'))));
        break; // FROZENSET
      case 0x90: {
        // ADDITEMS
        const items = popMark('ADDITEMS');
        const s = top('ADDITEMS');
        if (!(s instanceof Set)) corrupt(file, 'ADDITEMS on something that is not a set');
        for (const it of items) s.add(it);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop('SETITEM');
        const k = pop('SETITEM');
        setItems(top('SETITEM'), [k, v], 'SETITEM');
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark('SETITEMS');
        setItems(top('SETITEMS'), items, 'SETITEMS');
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop('APPEND');
        appendItems(top('APPEND'), [v], 'APPEND');
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark('APPENDS');
        appendItems(top('APPENDS'), items, 'APPENDS');
        break;
      }
      case 0x71:
        memo.set(u8(), top('BINPUT'));
        break; // BINPUT
      case 0x72:
        memo.set(u32(), top('LONG_BINPUT'));
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, top('MEMOIZE'));
        break; // MEMOIZE
      case 0x68:
        push(memoGet(u8(), 'BINGET'));
        break; // BINGET
      case 0x6a:
        push(memoGet(u32(), 'LONG_BINGET'));
        break; // LONG_BINGET
      case 0x63: {
        // GLOBAL
        const module = line('GLOBAL');
        const name = line('GLOBAL');
        push(loadGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop('STACK_GLOBAL');
        const module = pop('STACK_GLOBAL');
        if (typeof module !== 'string' || typeof name !== 'string') corrupt(file, 'STACK_GLOBAL without two strings');
        push(loadGlobal(module, name));
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop('BINPERSID');
        if (!options.persistentLoad)
          corrupt(file, 'it refers to external storage (persistent id) but none was provided');
        push(options.persistentLoad(pid));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop('REDUCE');
        const fn = pop('REDUCE');
        push(reduce(fn, args, file));
        break;
      }
      case 0x62: {
        // BUILD: state for OrderedDict (_metadata) or tensors is recorded nowhere, never applied.
        pop('BUILD');
        const obj = top('BUILD');
        if (!(obj instanceof Map) && !isTorchTensorRef(obj)) {
          unsafe(file, `BUILD (setting state) on ${describe(obj)}`, { opcode: 'BUILD' });
        }
        break;
      }
      default: {
        const name = OPCODE_NAMES[op];
        if (name)
          unsafe(file, `the pickle opcode ${name} (byte 0x${op.toString(16)} at offset ${at})`, {
            opcode: name,
            offset: at,
          });
        corrupt(file, `byte 0x${op.toString(16)} at offset ${at} is not a pickle opcode`, { offset: at });
      }
    }
  }
}
