import { describe, expect, it } from 'vitest';
import { isRouterRetrieverError, type ErrorCode } from '../src/boundary/errors.js';
import { isTorchTensorRef, unpickle, type PickleGlobal } from '../workers/model/pickle.js';

/** Concatenates pickle fragments: strings are taken byte-for-byte (latin1), numbers are bytes. */
function pk(...parts: Array<string | number | number[] | Uint8Array>): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'string') for (let i = 0; i < p.length; i++) out.push(p.charCodeAt(i) & 0xff);
    else if (typeof p === 'number') out.push(p);
    else out.push(...p);
  }
  return new Uint8Array(out);
}
const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
/** BINUNICODE */
const X = (s: string) => {
  const b = new TextEncoder().encode(s);
  return pk('X', u32(b.length), b);
};

function expectCode(
  data: Uint8Array,
  code: ErrorCode,
  match?: RegExp,
  persistentLoad?: (pid: unknown) => unknown,
): Error {
  try {
    unpickle(data, { persistentLoad, fileName: 'evil.bin' });
  } catch (e) {
    expect(isRouterRetrieverError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
    if (match) expect((e as Error).message).toMatch(match);
    return e as Error;
  }
  throw new Error(`expected a ${code} error`);
}

describe('unpickle: plain values', () => {
  it('reads protocol 2 scalars, strings, containers and memo references', () => {
    const data = pk(
      0x80,
      2,
      '}q\x00(', // EMPTY_DICT BINPUT 0 MARK
      X('ints'),
      '(',
      'K\x07',
      'M\x34\x12',
      'J',
      u32(-5 >>> 0),
      0x8a,
      1,
      0xff,
      0x8a,
      9,
      [0, 0, 0, 0, 0, 0, 0, 0, 1],
      't',
      X('float'),
      'G',
      [0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18],
      X('misc'),
      ']q\x01(N',
      0x88,
      0x89,
      'U\x03abc',
      'C\x02\x01\x02',
      'e',
      X('tuples'),
      ')K\x01',
      0x85,
      'K\x01K\x02',
      0x86,
      0x87,
      X('again'),
      'h\x01',
      'u.',
    );
    const v = unpickle(data) as Map<string, unknown>;
    expect(v).toBeInstanceOf(Map);
    expect(v.get('ints')).toEqual([7, 0x1234, -5, -1, 2n ** 64n]);
    expect(v.get('float')).toBeCloseTo(Math.PI, 15);
    expect(v.get('misc')).toEqual([null, true, false, 'abc', new Uint8Array([1, 2])]);
    const tuples = v.get('tuples') as unknown[];
    expect(tuples).toEqual([[], [1], [1, 2]]);
    expect(Object.isFrozen(tuples)).toBe(true);
    expect(v.get('again')).toBe(v.get('misc'));
  });

  it('reads protocol 4 framing, MEMOIZE and STACK_GLOBAL of allowed globals', () => {
    const data = pk(
      0x80,
      4,
      0x95,
      [20, 0, 0, 0, 0, 0, 0, 0],
      0x8c,
      11,
      'collections',
      0x94,
      0x8c,
      11,
      'OrderedDict',
      0x94,
      0x93,
      0x94,
      ')R',
      0x94,
      0x8c,
      1,
      'k',
      'h\x01',
      's.',
    );
    const v = unpickle(data) as Map<string, unknown>;
    expect(v).toBeInstanceOf(Map);
    expect(v.get('k')).toBe('OrderedDict');
  });

  it('keeps "__proto__" keys inert (dicts become Maps)', () => {
    const v = unpickle(pk(0x80, 2, '}', X('__proto__'), '}', X('polluted'), 0x88, 's', 's.')) as Map<string, unknown>;
    expect(v.get('__proto__')).toBeInstanceOf(Map);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('applies OrderedDict state (BUILD) without executing anything', () => {
    // collections.OrderedDict() + SETITEMS + BUILD({'_metadata': {...}}) as torch.save writes state dicts
    const data = pk(
      0x80,
      2,
      'ccollections\nOrderedDict\nq\x00)Rq\x01(',
      X('a'),
      'K\x01u}q\x02',
      X('_metadata'),
      '}s',
      'b.',
    );
    const v = unpickle(data) as Map<string, unknown>;
    expect([...v.entries()]).toEqual([['a', 1]]);
  });

  it('builds tensor references through _rebuild_tensor_v2 and persistent ids', () => {
    const seen: unknown[] = [];
    const data = pk(
      0x80,
      2,
      'ctorch._utils\n_rebuild_tensor_v2\n(',
      '(',
      X('storage'),
      'ctorch\nHalfStorage\n',
      X('7'),
      X('cpu'),
      'K\x06tQ',
      'K\x02',
      'K\x02K\x02',
      0x86,
      'K\x01K\x02',
      0x86,
      0x89,
      'ccollections\nOrderedDict\n)R',
      't',
      'R.',
    );
    const t = unpickle(data, { persistentLoad: (pid) => (seen.push(pid), { kind: 'storage-stub' }) });
    expect(isTorchTensorRef(t)).toBe(true);
    if (!isTorchTensorRef(t)) return;
    expect(t.storage).toEqual({ kind: 'storage-stub' });
    expect(t.storageOffset).toBe(2);
    expect(t.size).toEqual([2, 2]);
    expect(t.stride).toEqual([1, 2]);
    const pid = seen[0] as unknown[];
    expect(pid[0]).toBe('storage');
    expect((pid[1] as PickleGlobal).name).toBe('HalfStorage');
    expect(pid.slice(2)).toEqual(['7', 'cpu', 6]);
  });
});

describe('unpickle: hostile pickles are refused, nothing runs', () => {
  it('refuses os.system via GLOBAL + REDUCE', () => {
    const evil = pk(0x80, 2, 'cos\nsystem\n', X('touch /tmp/pwned'), 0x85, 'R.');
    const e = expectCode(evil, 'UNSAFE_PICKLE', /os\.system/);
    expect(e.message).toMatch(/not a plain state dict/);
    expect((e as unknown as { details: Record<string, unknown> }).details['global']).toBe('os.system');
  });

  it('refuses builtins.eval via STACK_GLOBAL, and other code-running globals', () => {
    expectCode(
      pk(0x80, 4, 0x8c, 8, 'builtins', 0x8c, 4, 'eval', 0x93, 0x8c, 3, '1+1', 0x85, 'R.'),
      'UNSAFE_PICKLE',
      /builtins\.eval/,
    );
    for (const g of [
      'posix\nsystem',
      'subprocess\nPopen',
      '__builtin__\ngetattr',
      'builtins\nexec',
      'torch\nload',
      'torch.serialization\n_load',
      'collections\nnamedtuple',
      'numpy.core.multiarray\n_reconstruct',
      'torch._utils\n_rebuild_qtensor',
      'nt\nsystem',
    ]) {
      expectCode(
        pk(0x80, 2, `c${g}\n`, ')R.'),
        'UNSAFE_PICKLE',
        new RegExp(g.replace('\n', '.').replace(/\./g, '\\.')),
      );
    }
  });

  it('refuses calling a whitelisted value global (storage type) and calling non-globals', () => {
    expectCode(pk(0x80, 2, 'ctorch\nFloatStorage\n)R.'), 'UNSAFE_PICKLE', /torch\.FloatStorage/);
    expectCode(pk(0x80, 2, X('os.system'), ')R.'), 'UNSAFE_PICKLE', /REDUCE/);
    // _rebuild_from_type_v2 into an arbitrary type
    expectCode(
      pk(
        0x80,
        2,
        'ctorch._tensor\n_rebuild_from_type_v2\n(ccollections\nOrderedDict\n',
        'ctorch\nFloatStorage\n',
        ')N',
        't',
        'R.',
      ),
      'UNSAFE_PICKLE',
      /_rebuild_from_type_v2/,
    );
  });

  it('refuses object-building opcodes (INST, OBJ, NEWOBJ, NEWOBJ_EX, EXT*) and BUILD on plain values', () => {
    expectCode(pk(0x80, 2, '(', X('echo'), 'ios\nsystem\n.'), 'UNSAFE_PICKLE', /INST/);
    expectCode(pk(0x80, 2, '(ccollections\nOrderedDict\no.'), 'UNSAFE_PICKLE', /OBJ/);
    expectCode(pk(0x80, 2, 'ccollections\nOrderedDict\n)', 0x81, '.'), 'UNSAFE_PICKLE', /NEWOBJ/);
    expectCode(pk(0x80, 4, 'ccollections\nOrderedDict\n)}', 0x92, '.'), 'UNSAFE_PICKLE', /NEWOBJ_EX/);
    expectCode(pk(0x80, 2, 0x82, 1, '.'), 'UNSAFE_PICKLE', /EXT1/);
    expectCode(pk(0x80, 2, 'P1\n.'), 'UNSAFE_PICKLE', /PERSID/);
    expectCode(pk(0x80, 2, X('x'), '}b.'), 'UNSAFE_PICKLE', /BUILD/);
  });

  it('reports corrupt pickles as MODEL_FORMAT', () => {
    expectCode(pk(0x80, 2, '}'), 'MODEL_FORMAT', /STOP/);
    expectCode(pk(0x80, 2, 0xff), 'MODEL_FORMAT', /not a pickle opcode/);
    expectCode(pk(0x80, 2, 'X', u32(1000), 'abc'), 'MODEL_FORMAT', /truncated/);
    expectCode(pk(0x80, 2, 'h\x05.'), 'MODEL_FORMAT', /memo/);
    expectCode(pk(0x80, 2, 's.'), 'MODEL_FORMAT', /empty stack/);
    expectCode(pk(0x80, 2, 't.'), 'MODEL_FORMAT', /MARK/);
    expectCode(pk(0x80, 2, 'K\x01K\x02s.'), 'MODEL_FORMAT');
    expectCode(pk(0x80, 2, ')K\x01a.'), 'MODEL_FORMAT', /not a list/);
    expectCode(pk(0x80, 9, 'N.'), 'MODEL_FORMAT', /protocol 9/);
    expectCode(pk(0x80, 2, 0x8b, u32(-1 >>> 0), '.'), 'MODEL_FORMAT', /negative/);
    expectCode(pk(0x80, 4, 0x8e, [0, 0, 0, 0, 0, 0, 0, 0x10], '.'), 'MODEL_FORMAT', /exceeds/);
    // persistent ids without a resolver
    expectCode(pk(0x80, 2, X('x'), 'Q.'), 'MODEL_FORMAT', /persistent/);
    // bad tensor geometry
    expectCode(
      pk(0x80, 2, 'ctorch._utils\n_rebuild_tensor_v2\n(NJ', u32(-1 >>> 0), ')))', 0x89, 'N', 't', 'R.'),
      'MODEL_FORMAT',
      /storage offset/,
    );
  });
});

describe('unpickle: hostile integers', () => {
  it('refuses a LONG4 or LONG1 longer than 16 bytes before reading it (a 1 MB LONG4 used to take minutes)', () => {
    const n = 2 ** 20;
    const long4 = new Uint8Array(2 + 5 + n + 1);
    long4.set([0x80, 2, 0x8b, ...u32(n)]);
    long4[long4.length - 1] = 0x2e; // STOP
    expectCode(long4, 'MODEL_FORMAT', /an integer of 1048576 bytes/);
    expectCode(pk(0x80, 2, 0x8a, 17, new Array(17).fill(1), '.'), 'MODEL_FORMAT', /an integer of 17 bytes/);
    // 16 bytes is still read (2^120).
    expect(unpickle(pk(0x80, 2, 0x8a, 16, [...new Array(15).fill(0), 1], '.'))).toBe(2n ** 120n);
  });
});
