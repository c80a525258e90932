import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isRouterRetrieverError, type ErrorCode } from '../src/boundary/errors.js';
import type { StoredTensor } from '../workers/model/tensor.js';
import { toFloat32 } from '../workers/model/tensor-convert.js';
import { parseTorchBin, parseTorchBinSync } from '../workers/model/torch-bin.js';
import { ZipReader, crc32, writeStoredZip } from '../workers/model/zip.js';

// ---- a tiny pickle writer for torch.save-shaped state dicts (test only) -------------------

type G = { g: string }; // a global "module name"
type Call = { call: G; args: PV[] };
type Pid = { pid: PV[] };
type PV = null | boolean | number | string | G | Call | Pid | PV[] | Map<string, PV>;
const G = (s: string): G => ({ g: s });
const enc = new TextEncoder();

function pickle(v: PV): Uint8Array {
  const out: number[] = [0x80, 2];
  const u32 = (n: number) => out.push(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff);
  const emit = (x: PV): void => {
    if (x === null) out.push(0x4e);
    else if (x === true) out.push(0x88);
    else if (x === false) out.push(0x89);
    else if (typeof x === 'number') {
      out.push(0x4a);
      u32(x >>> 0);
    } else if (typeof x === 'string') {
      const b = enc.encode(x);
      out.push(0x58);
      u32(b.length);
      out.push(...b);
    } else if (Array.isArray(x)) {
      out.push(0x28);
      x.forEach(emit);
      out.push(0x74);
    } else if (x instanceof Map) {
      out.push(0x7d, 0x28);
      for (const [k, val] of x) {
        emit(k);
        emit(val);
      }
      out.push(0x75);
    } else if ('g' in x) {
      out.push(0x63, ...enc.encode(`${x.g.replace(' ', '\n')}\n`));
    } else if ('call' in x) {
      emit(x.call);
      emit(x.args);
      out.push(0x52);
    } else {
      emit(x.pid);
      out.push(0x51);
    }
  };
  emit(v);
  out.push(0x2e);
  return new Uint8Array(out);
}

const STORAGE: Record<string, string> = {
  float32: 'FloatStorage',
  float16: 'HalfStorage',
  bfloat16: 'BFloat16Storage',
  int64: 'LongStorage',
  float64: 'DoubleStorage',
};

function tensor(
  key: string,
  dtype: string,
  numel: number,
  offset: number,
  size: number[],
  stride: number[],
  v3dtype?: string,
): Call {
  const storage: Pid = {
    pid: ['storage', G(`torch ${v3dtype ? 'UntypedStorage' : STORAGE[dtype]}`), key, 'cpu', numel],
  };
  const hooks: Call = { call: G('collections OrderedDict'), args: [] };
  if (v3dtype)
    return {
      call: G('torch._utils _rebuild_tensor_v3'),
      args: [storage, offset, size, stride, false, hooks, G(`torch ${v3dtype}`)],
    };
  return { call: G('torch._utils _rebuild_tensor_v2'), args: [storage, offset, size, stride, false, hooks] };
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function torchZip(
  root: PV,
  storages: Record<string, ArrayBufferView>,
  archive = 'archive',
  extra: Array<[string, Uint8Array]> = [],
): Uint8Array {
  return writeStoredZip([
    [`${archive}/data.pkl`, pickle(root)],
    ...Object.entries(storages).map(([k, v]) => [`${archive}/data/${k}`, bytesOf(v)] as [string, Uint8Array]),
    [`${archive}/version`, enc.encode('3\n')],
    ...extra,
  ]);
}

async function expectCode(p: Promise<unknown> | (() => unknown), code: ErrorCode, match?: RegExp): Promise<void> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(isRouterRetrieverError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
    if (match) expect((e as Error).message).toMatch(match);
    return;
  }
  throw new Error(`expected a ${code} error`);
}

const vals = (t: StoredTensor | undefined) => Array.from(t!.data as ArrayLike<number | bigint>);

describe('parseTorchBin', () => {
  it('reads contiguous, offset, shared, transposed, half, bf16, int64 and v3 tensors', async () => {
    const f32 = new Float32Array([0, 1, 2, 3, 4, 5, 6, 7]);
    const root = new Map<string, PV>([
      ['bert.w', tensor('0', 'float32', 8, 0, [2, 3], [3, 1])],
      ['bert.view', tensor('0', 'float32', 8, 2, [3], [1])], // offset into a shared storage
      ['bert.t', tensor('0', 'float32', 8, 0, [3, 2], [1, 3])], // transpose of w
      ['bert.step', tensor('0', 'float32', 8, 1, [2, 2], [4, 2])], // strided slice
      ['bert.scalar', tensor('0', 'float32', 8, 7, [], [])],
      ['h', tensor('1', 'float16', 2, 0, [2], [1])],
      ['b', tensor('2', 'bfloat16', 1, 0, [1], [1])],
      ['pos', tensor('3', 'int64', 3, 0, [1, 3], [3, 1])],
      [
        'p',
        {
          call: G('torch._utils _rebuild_parameter'),
          args: [tensor('1', 'float16', 2, 1, [1], [1]), true, { call: G('collections OrderedDict'), args: [] }],
        },
      ],
      ['v3', tensor('4', 'float32', 8, 0, [2], [1], 'float16')],
      ['empty', tensor('0', 'float32', 8, 0, [0, 5], [5, 1])],
      ['not_a_tensor', 3],
    ]);
    const bytes = torchZip(root, {
      '0': f32,
      '1': new Uint16Array([0x3c00, 0xc000]),
      '2': new Uint16Array([0x3f80]),
      '3': new BigInt64Array([0n, 1n, 2n]),
      '4': new Uint16Array([0x3800, 0x4000]),
    });
    const sd = await parseTorchBin(bytes);
    expect([...sd.keys()]).toEqual([
      'bert.w',
      'bert.view',
      'bert.t',
      'bert.step',
      'bert.scalar',
      'h',
      'b',
      'pos',
      'p',
      'v3',
      'empty',
    ]);
    expect(sd.get('bert.w')!.shape).toEqual([2, 3]);
    expect(vals(sd.get('bert.w'))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(vals(sd.get('bert.view'))).toEqual([2, 3, 4]);
    expect(vals(sd.get('bert.t'))).toEqual([0, 3, 1, 4, 2, 5]);
    expect(vals(sd.get('bert.step'))).toEqual([1, 3, 5, 7]);
    expect(sd.get('bert.scalar')!.shape).toEqual([]);
    expect(vals(sd.get('bert.scalar'))).toEqual([7]);
    expect(sd.get('h')!.dtype).toBe('float16');
    expect(Array.from(toFloat32(sd.get('h')!))).toEqual([1, -2]);
    expect(Array.from(toFloat32(sd.get('b')!))).toEqual([1]);
    expect(sd.get('pos')!.dtype).toBe('int64');
    expect(vals(sd.get('pos'))).toEqual([0n, 1n, 2n]);
    expect(Array.from(toFloat32(sd.get('p')!))).toEqual([-2]);
    expect(sd.get('v3')!.dtype).toBe('float16');
    expect(Array.from(toFloat32(sd.get('v3')!))).toEqual([0.5, 2]);
    expect(sd.get('empty')!.data.length).toBe(0);
    // with copy: true, never views into the file
    expect((await parseTorchBin(bytes, { copy: true })).get('bert.w')!.data.buffer).not.toBe(bytes.buffer);
    // the sync variant agrees
    expect(vals(parseTorchBinSync(bytes).get('bert.t'))).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it('unwraps {"state_dict": ...} checkpoints and handles big-endian archives', async () => {
    const inner = new Map<string, PV>([['w', tensor('0', 'float32', 2, 0, [2], [1])]]);
    const sd = await parseTorchBin(
      torchZip(
        new Map<string, PV>([
          ['epoch', 3],
          ['state_dict', inner],
        ]),
        { '0': new Float32Array([1.5, -1]) },
      ),
    );
    expect(vals(sd.get('w'))).toEqual([1.5, -1]);

    const be = new Uint8Array(8);
    new DataView(be.buffer).setFloat32(0, 1.5, false);
    new DataView(be.buffer).setFloat32(4, -1, false);
    const sdBe = await parseTorchBin(torchZip(inner, { '0': be }, 'm', [['m/byteorder', enc.encode('big')]]));
    expect(vals(sdBe.get('w'))).toEqual([1.5, -1]);
  });

  it('reads DEFLATE and zip64 archives', async () => {
    const data = new Float32Array([1, 2, 3, 4]);
    const pkl = pickle(new Map<string, PV>([['w', tensor('0', 'float32', 4, 0, [4], [1])]]));
    const deflated = new Uint8Array(
      await new Response(
        new Blob([bytesOf(data) as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('deflate-raw')),
      ).arrayBuffer(),
    );
    const zip = buildZip(
      [
        { name: 'a/data.pkl', data: pkl },
        { name: 'a/data/0', data: bytesOf(data), compressed: deflated },
      ],
      { zip64: true },
    );
    const sd = await parseTorchBin(zip);
    expect(vals(sd.get('w'))).toEqual([1, 2, 3, 4]);
    // the synchronous path cannot inflate and says so
    await expectCode(() => parseTorchBinSync(zip), 'MODEL_FORMAT', /compressed/);
    const r = ZipReader.open(zip);
    expect(r.entries.get('a/data/0')!.crc32).toBe(crc32(bytesOf(data)));
    // corrupt deflate data
    const broken = buildZip([
      { name: 'a/data.pkl', data: pkl },
      { name: 'a/data/0', data: bytesOf(data), compressed: new Uint8Array([0xff, 0xff, 0xff]) },
    ]);
    await expectCode(parseTorchBin(broken), 'MODEL_FORMAT', /DEFLATE/);
  });

  it('refuses a checkpoint whose pickle calls os.system, without running it', async () => {
    const evil = writeStoredZip([
      ['archive/data.pkl', pickle({ call: G('os system'), args: ['touch /tmp/rr-pwned'] })],
    ]);
    await expectCode(
      parseTorchBin(evil, { fileName: 'adapter_model.bin' }),
      'UNSAFE_PICKLE',
      /adapter_model\.bin.*os\.system/,
    );
    expect(existsSync('/tmp/rr-pwned')).toBe(false);
    const evil2 = torchZip(new Map<string, PV>([['w', { call: G('builtins eval'), args: ['1+1'] }]]), {});
    await expectCode(parseTorchBin(evil2), 'UNSAFE_PICKLE', /builtins\.eval/);
  });

  it('rejects legacy, LFS-pointer, safetensors, TorchScript and non-checkpoint files', async () => {
    await expectCode(
      parseTorchBin(new Uint8Array([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc])),
      'MODEL_FORMAT',
      /legacy.*torch>=1\.6.*safetensors/,
    );
    await expectCode(
      parseTorchBin(enc.encode('version https://git-lfs.github.com/spec/v1\noid sha256:abc\n')),
      'MODEL_FORMAT',
      /Git LFS/,
    );
    const st = new Uint8Array(16);
    st[0] = 2;
    st[8] = 0x7b;
    await expectCode(parseTorchBin(st), 'MODEL_FORMAT', /safetensors/);
    await expectCode(parseTorchBin(enc.encode('<!DOCTYPE html>')), 'MODEL_FORMAT', /not a PyTorch checkpoint/);
    await expectCode(parseTorchBin(new Uint8Array(0)), 'MODEL_FORMAT');
    await expectCode(
      parseTorchBin(
        writeStoredZip([
          ['m/constants.pkl', pickle(null)],
          ['m/code/m.py', enc.encode('')],
        ]),
      ),
      'MODEL_FORMAT',
      /TorchScript/,
    );
    await expectCode(parseTorchBin(writeStoredZip([['x.txt', enc.encode('hi')]])), 'MODEL_FORMAT', /no data\.pkl/);
    await expectCode(parseTorchBin(torchZip(['a list'], {})), 'MODEL_FORMAT', /state dict/);
  });

  it('rejects truncated zips, missing or short storages and bad storage ids', async () => {
    const good = torchZip(new Map<string, PV>([['w', tensor('0', 'float32', 4, 0, [2, 2], [2, 1])]]), {
      '0': new Float32Array(4),
    });
    for (const cut of [good.length - 1, good.length - 30, Math.floor(good.length / 2), 10]) {
      await expectCode(parseTorchBin(good.subarray(0, cut)), 'MODEL_FORMAT');
    }
    // EOCD says the directory lies elsewhere
    const moved = good.slice();
    new DataView(moved.buffer).setUint32(moved.length - 6, moved.length, true);
    await expectCode(parseTorchBin(moved), 'MODEL_FORMAT', /central directory/);
    await expectCode(
      parseTorchBin(torchZip(new Map<string, PV>([['w', tensor('0', 'float32', 4, 0, [4], [1])]]), {})),
      'MODEL_FORMAT',
      /missing/,
    );
    await expectCode(
      parseTorchBin(
        torchZip(new Map<string, PV>([['w', tensor('0', 'float32', 4, 1, [4], [1])]]), { '0': new Float32Array(4) }),
      ),
      'MODEL_FORMAT',
      /"w".*reaches element 4/,
    );
    await expectCode(
      parseTorchBin(torchZip(new Map<string, PV>([['w', tensor('../../etc/passwd', 'float32', 4, 0, [4], [1])]]), {})),
      'MODEL_FORMAT',
      /plain name/,
    );
    const weird = new Map<string, PV>([
      ['w', { call: G('torch._utils _rebuild_tensor_v2'), args: [{ pid: ['module', 'x'] }, 0, [1], [1], false, null] }],
    ]);
    await expectCode(parseTorchBin(torchZip(weird, {})), 'MODEL_FORMAT', /persistent id/);
  });
});

describe('hostile checkpoints: refused before the work they ask for', () => {
  const w = (t: Call) => new Map<string, PV>([['w', t]]);
  const one = new Float32Array([1]);

  it('a stride-0 view larger than its storage is refused, not materialised (647 bytes asked for 1.6 GB)', async () => {
    const file = torchZip(w(tensor('0', 'float32', 1, 0, [20000, 20000], [0, 0])), { '0': one });
    expect(file.byteLength).toBeLessThan(1000);
    await expectCode(parseTorchBin(file), 'MODEL_FORMAT', /400000000 elements but its storage holds 1 .*overlapping/);
    // An ordinary strided view (a transpose) inside its storage still reads.
    const t = await parseTorchBin(
      torchZip(w(tensor('0', 'float32', 4, 0, [2, 2], [1, 2])), { '0': new Float32Array([1, 2, 3, 4]) }),
    );
    expect(vals(t.get('w'))).toEqual([1, 3, 2, 4]);
  });

  it('compressed entries: unused ones are never inflated, needed ones only within a budget', async () => {
    const data = new Float32Array([1, 2, 3, 4]);
    const pkl = pickle(w(tensor('0', 'float32', 4, 0, [4], [1])));
    // An unused entry with undecodable DEFLATE data: inflating it would fail, so reading proves it was skipped.
    const junk = { name: 'a/junk.bin', data: new Uint8Array(64), compressed: new Uint8Array([0xff, 0xff, 0xff]) };
    const sd = await parseTorchBin(
      buildZip([{ name: 'a/data.pkl', data: pkl }, { name: 'a/data/0', data: bytesOf(data) }, junk]),
    );
    expect(vals(sd.get('w'))).toEqual([1, 2, 3, 4]);
    // A needed entry declaring more than 32x the file (and 16 MiB) is refused before inflating.
    const big = buildZip([
      { name: 'a/data.pkl', data: pkl },
      { name: 'a/data/0', data: new Uint8Array(17 * 2 ** 20), compressed: new Uint8Array([0x03, 0x00]) },
    ]);
    await expectCode(parseTorchBin(big), 'MODEL_FORMAT', /declares 17825792 bytes, more than the/);
  });

  it('a storage of type None is MODEL_FORMAT, not a TypeError', async () => {
    const t: Call = {
      call: G('torch._utils _rebuild_tensor_v2'),
      args: [
        { pid: ['storage', null, '0', 'cpu', 1] },
        0,
        [1],
        [1],
        false,
        { call: G('collections OrderedDict'), args: [] },
      ],
    };
    await expectCode(parseTorchBin(torchZip(w(t), { '0': one })), 'MODEL_FORMAT');
  });

  it('a wrong CRC-32 and a duplicated entry name are refused', async () => {
    const good = torchZip(w(tensor('0', 'float32', 1, 0, [1], [1])), { '0': one });
    const r = ZipReader.open(good);
    const name = 'archive/data/0';
    const bad = good.slice();
    // Flip a byte of the tensor data in place (float32 1.0 = 00 00 80 3f): its listed CRC no longer matches.
    const at = bad.findIndex((_, i) => bad[i] === 0 && bad[i + 1] === 0 && bad[i + 2] === 0x80 && bad[i + 3] === 0x3f);
    expect(at).toBeGreaterThan(0);
    bad[at + 3] ^= 0x01;
    expect(r.entries.get(name)).toBeDefined();
    await expectCode(parseTorchBin(bad), 'MODEL_FORMAT', /fails its CRC-32 check/);
    const dup = writeStoredZip([
      ['archive/data.pkl', pickle(w(tensor('0', 'float32', 1, 0, [1], [1])))],
      [name, bytesOf(one)],
      [name, bytesOf(new Float32Array([2]))],
    ]);
    await expectCode(parseTorchBin(dup), 'MODEL_FORMAT', /appears twice/);
  });
});

const FIXTURES = new URL('./fixtures/', import.meta.url);
const adapterBin = new URL('adapters/expert-b/adapter_model.bin', FIXTURES);

describe.skipIf(!existsSync(adapterBin))('PEFT adapter_model.bin written by PyTorch', () => {
  it('reads the LoRA A/B matrices', async () => {
    const sd = await parseTorchBin(readFileSync(adapterBin), { fileName: 'adapter_model.bin' });
    const keys = [...sd.keys()];
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => /lora_[AB]\.weight$/.test(k))).toBe(true);
    for (const t of sd.values()) {
      expect(t.dtype).toBe('float32');
      expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
    }
  });
});

// ---- an independent zip writer (test only): DEFLATE entries and zip64 records ------------

interface ZipIn {
  name: string;
  data: Uint8Array;
  compressed?: Uint8Array;
}

function buildZip(files: ZipIn[], opts: { zip64?: boolean } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const f of files) {
    const name = enc.encode(f.name);
    const body = f.compressed ?? f.data;
    const method = f.compressed ? 8 : 0;
    const lh = new Uint8Array(30 + name.length);
    const lv = new DataView(lh.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 45, true);
    lv.setUint16(8, method, true);
    lv.setUint32(14, crc32(f.data), true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, f.data.length, true);
    lv.setUint16(26, name.length, true);
    lh.set(name, 30);
    const extra = opts.zip64 ? 4 + 24 : 0;
    const ch = new Uint8Array(46 + name.length + extra);
    const cv = new DataView(ch.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 45, true);
    cv.setUint16(6, 45, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, crc32(f.data), true);
    cv.setUint32(20, opts.zip64 ? 0xffffffff : body.length, true);
    cv.setUint32(24, opts.zip64 ? 0xffffffff : f.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, extra, true);
    cv.setUint32(42, opts.zip64 ? 0xffffffff : offset, true);
    ch.set(name, 46);
    if (opts.zip64) {
      const e = 46 + name.length;
      cv.setUint16(e, 1, true);
      cv.setUint16(e + 2, 24, true);
      cv.setBigUint64(e + 4, BigInt(f.data.length), true);
      cv.setBigUint64(e + 12, BigInt(body.length), true);
      cv.setBigUint64(e + 20, BigInt(offset), true);
    }
    parts.push(lh, body);
    central.push(ch);
    offset += lh.length + body.length;
  }
  const cdOffset = offset;
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const tail: Uint8Array[] = [];
  if (opts.zip64) {
    const z = new Uint8Array(56);
    const zv = new DataView(z.buffer);
    zv.setUint32(0, 0x06064b50, true);
    zv.setBigUint64(4, 44n, true);
    zv.setBigUint64(24, BigInt(files.length), true);
    zv.setBigUint64(32, BigInt(files.length), true);
    zv.setBigUint64(40, BigInt(cdSize), true);
    zv.setBigUint64(48, BigInt(cdOffset), true);
    const loc = new Uint8Array(20);
    const lv = new DataView(loc.buffer);
    lv.setUint32(0, 0x07064b50, true);
    lv.setBigUint64(8, BigInt(cdOffset + cdSize), true);
    lv.setUint32(16, 1, true);
    tail.push(z, loc);
  }
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, opts.zip64 ? 0xffff : files.length, true);
  ev.setUint16(10, opts.zip64 ? 0xffff : files.length, true);
  ev.setUint32(12, opts.zip64 ? 0xffffffff : cdSize, true);
  ev.setUint32(16, opts.zip64 ? 0xffffffff : cdOffset, true);
  tail.push(eocd);
  const all = [...parts, ...central, ...tail];
  const out = new Uint8Array(all.reduce((s, p) => s + p.length, 0));
  let p = 0;
  for (const a of all) {
    out.set(a, p);
    p += a.length;
  }
  return out;
}
