import { RouterRetrieverError } from '../../src/boundary/errors.js';

/** One file inside a ZIP archive, as listed by its central directory. */
export interface ZipEntry {
  readonly name: string;
  /** 0 = STORED, 8 = DEFLATE. */
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
}

export interface ZipOptions {
  /** File name used in error messages (default "archive.zip"). */
  fileName?: string;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

/** Returns true when the bytes start like a ZIP archive (local file header or empty archive). */
export function isZip(bytes: Uint8Array): boolean {
  return (
    bytes.byteLength >= 4 &&
    bytes[0] === 0x50 &&
    bytes[1] === 0x4b &&
    (bytes[2] === 3 || bytes[2] === 5) &&
    (bytes[3] === 4 || bytes[3] === 6)
  );
}

/**
 * A minimal, bounds-checked ZIP reader over an in-memory archive: end of central
 * directory (with zip64), central directory entries, local headers, STORED entries
 * (returned as views, no copy) and DEFLATE entries (via DecompressionStream('deflate-raw')).
 */
export class ZipReader {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  readonly fileName: string;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;

  private constructor(bytes: Uint8Array, fileName: string, entries: Map<string, ZipEntry>) {
    this.bytes = bytes;
    this.fileName = fileName;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.entries = entries;
  }

  /** Parses the central directory. Throws RouterRetrieverError('MODEL_FORMAT') on any inconsistency. */
  static open(bytes: Uint8Array, options: ZipOptions = {}): ZipReader {
    const file = options.fileName ?? 'archive.zip';
    const entries = readCentralDirectory(bytes, file);
    return new ZipReader(bytes, file, entries);
  }

  get names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  private entry(name: string): ZipEntry {
    const e = this.entries.get(name);
    if (!e) zipFail(this.fileName, `it has no entry "${name}"`, { entry: name });
    return e;
  }

  /** Byte range of an entry's (compressed) data, after validating its local header. */
  private dataRange(e: ZipEntry): [number, number] {
    const b = this.bytes;
    const off = e.localHeaderOffset;
    if (off + 30 > b.byteLength)
      zipFail(this.fileName, `the local header of "${e.name}" lies beyond the end of the file (truncated?)`, {
        entry: e.name,
      });
    if (this.view.getUint32(off, true) !== SIG_LOCAL)
      zipFail(this.fileName, `the local header of "${e.name}" has a bad signature`, { entry: e.name });
    const nameLen = this.view.getUint16(off + 26, true);
    const extraLen = this.view.getUint16(off + 28, true);
    const start = off + 30 + nameLen + extraLen;
    const end = start + e.compressedSize;
    if (end > b.byteLength) {
      zipFail(
        this.fileName,
        `the data of "${e.name}" (${e.compressedSize} bytes at ${start}) runs past the end of the ${b.byteLength}-byte file (truncated download?)`,
        { entry: e.name },
      );
    }
    return [start, end];
  }

  /** Reads a STORED entry synchronously as a view into the archive (no copy). Throws for compressed entries. */
  readSync(name: string): Uint8Array {
    const e = this.entry(name);
    if (e.method !== 0) {
      zipFail(this.fileName, `entry "${name}" is compressed (method ${e.method}); use the asynchronous read()`, {
        entry: name,
      });
    }
    const [s, t] = this.dataRange(e);
    if (e.uncompressedSize !== e.compressedSize)
      zipFail(this.fileName, `stored entry "${name}" has different compressed and uncompressed sizes`, { entry: name });
    return this.checked(e, this.bytes.subarray(s, t));
  }

  /** The entry's bytes after checking them against the CRC-32 the archive lists (a damaged download). */
  private checked(e: ZipEntry, data: Uint8Array): Uint8Array {
    const got = crc32(data);
    if (got !== e.crc32)
      zipFail(
        this.fileName,
        `entry "${e.name}" fails its CRC-32 check (listed ${e.crc32.toString(16)}, got ${got.toString(16)}: damaged download?)`,
        { entry: e.name },
      );
    return data;
  }

  /** Reads an entry: STORED as a view, DEFLATE decompressed with DecompressionStream('deflate-raw'). */
  async read(name: string): Promise<Uint8Array> {
    const e = this.entry(name);
    if (e.method === 0) return this.readSync(name);
    if (e.method !== 8) {
      zipFail(
        this.fileName,
        `entry "${name}" uses compression method ${e.method}; only STORED (0) and DEFLATE (8) are supported`,
        { entry: name },
      );
    }
    const [s, t] = this.dataRange(e);
    const out = await inflateRaw(this.bytes.subarray(s, t), e.uncompressedSize, this.fileName, name);
    return this.checked(e, out);
  }
}

function zipFail(file: string, problem: string, details: Record<string, unknown> = {}): never {
  throw new RouterRetrieverError(
    'MODEL_FORMAT',
    `${file} is not a readable ZIP archive: ${problem}. Re-download the file or re-save it (torch.save / save_pretrained).`,
    { file, ...details },
  );
}

function readCentralDirectory(bytes: Uint8Array, file: string): Map<string, ZipEntry> {
  if (!(bytes instanceof Uint8Array)) zipFail(file, 'expected the file contents as a Uint8Array');
  const len = bytes.byteLength;
  if (len < 22) zipFail(file, `it is only ${len} bytes long (truncated?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, len);

  // End of central directory: 22 bytes + a comment of up to 65535 bytes, at the very end.
  let eocd = -1;
  const lowest = Math.max(0, len - 22 - 0xffff);
  for (let p = len - 22; p >= lowest; p--) {
    if (view.getUint32(p, true) === SIG_EOCD && p + 22 + view.getUint16(p + 20, true) <= len) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) zipFail(file, 'no end-of-central-directory record was found (truncated download, or not a zip)');

  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);

  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || view.getUint32(loc, true) !== SIG_ZIP64_LOCATOR)
      zipFail(file, 'a zip64 archive without its zip64 locator');
    const z64 = safeU64(view, loc + 8, file, 'zip64 EOCD offset');
    if (z64 + 56 > len || view.getUint32(z64, true) !== SIG_ZIP64_EOCD)
      zipFail(file, 'the zip64 end-of-central-directory record is missing or out of range');
    count = safeU64(view, z64 + 32, file, 'entry count');
    cdSize = safeU64(view, z64 + 40, file, 'central directory size');
    cdOffset = safeU64(view, z64 + 48, file, 'central directory offset');
  }
  if (cdOffset + cdSize > len)
    zipFail(
      file,
      `the central directory (${cdSize} bytes at ${cdOffset}) lies beyond the end of the ${len}-byte file (truncated?)`,
    );
  // Each central entry takes at least 46 bytes.
  if (count * 46 > cdSize) zipFail(file, `it claims ${count} entries in a ${cdSize}-byte central directory`);

  const decoder = new TextDecoder('utf-8');
  const entries = new Map<string, ZipEntry>();
  let p = cdOffset;
  const end = cdOffset + cdSize;
  for (let i = 0; i < count; i++) {
    if (p + 46 > end) zipFail(file, `central directory entry ${i} is truncated`);
    if (view.getUint32(p, true) !== SIG_CENTRAL) zipFail(file, `central directory entry ${i} has a bad signature`);
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc32 = view.getUint32(p + 16, true);
    let compressedSize = view.getUint32(p + 20, true);
    let uncompressedSize = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let localHeaderOffset = view.getUint32(p + 42, true);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > end) zipFail(file, `central directory entry ${i} runs past the directory`);
    const name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLen));

    // zip64 extended information extra field (id 0x0001): only the fields saturated above, in order.
    let q = p + 46 + nameLen;
    const extraEnd = q + extraLen;
    while (q + 4 <= extraEnd) {
      const id = view.getUint16(q, true);
      const size = view.getUint16(q + 2, true);
      const dataEnd = q + 4 + size;
      if (dataEnd > extraEnd) zipFail(file, `entry "${name}" has a malformed extra field`, { entry: name });
      if (id === 0x0001) {
        let r = q + 4;
        const take = (what: string): number => {
          if (r + 8 > dataEnd) zipFail(file, `entry "${name}" has a short zip64 field`, { entry: name });
          const v = safeU64(view, r, file, what);
          r += 8;
          return v;
        };
        if (uncompressedSize === 0xffffffff) uncompressedSize = take('uncompressed size');
        if (compressedSize === 0xffffffff) compressedSize = take('compressed size');
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take('local header offset');
      }
      q = dataEnd;
    }
    if (flags & 1) zipFail(file, `entry "${name}" is encrypted`, { entry: name });
    if (localHeaderOffset + 30 > len || localHeaderOffset + compressedSize > len) {
      zipFail(file, `entry "${name}" points beyond the end of the file (truncated download?)`, { entry: name });
    }
    // Two entries of one name: which one a reader uses is up to it; refuse rather than guess.
    if (entries.has(name)) zipFail(file, `entry "${name}" appears twice`, { entry: name });
    entries.set(name, { name, method, flags, crc32, compressedSize, uncompressedSize, localHeaderOffset });
    p = next;
  }
  return entries;
}

function safeU64(view: DataView, at: number, file: string, what: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) zipFail(file, `the ${what} ${v} is absurd`);
  return Number(v);
}

async function inflateRaw(data: Uint8Array, expected: number, file: string, name: string): Promise<Uint8Array> {
  const DS = (globalThis as { DecompressionStream?: new (format: string) => TransformStream<Uint8Array, Uint8Array> })
    .DecompressionStream;
  if (!DS) {
    zipFail(
      file,
      `entry "${name}" is DEFLATE-compressed and this environment has no DecompressionStream; re-save the file uncompressed (torch.save does)`,
      { entry: name },
    );
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DS('deflate-raw'));
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > expected) {
        await reader.cancel().catch(() => undefined);
        zipFail(file, `entry "${name}" inflates to more than its declared ${expected} bytes`, { entry: name });
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof RouterRetrieverError) throw e;
    zipFail(file, `entry "${name}" is not valid DEFLATE data (${(e as Error).message})`, { entry: name });
  }
  if (total !== expected)
    zipFail(file, `entry "${name}" inflates to ${total} bytes, not the declared ${expected}`, { entry: name });
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

let crcTable: Uint32Array | null = null;
/** CRC-32 (IEEE) of a byte array, as stored in ZIP headers. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Writes a ZIP archive with STORED entries only (no zip64): enough for tests and
 * for small exports. Names are UTF-8.
 */
export function writeStoredZip(files: ReadonlyArray<readonly [string, Uint8Array]>): Uint8Array {
  const enc = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of files) {
    const n = enc.encode(name);
    const crc = crc32(data);
    const lh = new Uint8Array(30 + n.length);
    const lv = new DataView(lh.buffer);
    lv.setUint32(0, SIG_LOCAL, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(6, 0x0800, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.byteLength, true);
    lv.setUint32(22, data.byteLength, true);
    lv.setUint16(26, n.length, true);
    lh.set(n, 30);
    const ch = new Uint8Array(46 + n.length);
    const cv = new DataView(ch.buffer);
    cv.setUint32(0, SIG_CENTRAL, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, 0x0800, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.byteLength, true);
    cv.setUint32(24, data.byteLength, true);
    cv.setUint16(28, n.length, true);
    cv.setUint32(42, offset, true);
    ch.set(n, 46);
    locals.push(lh, data);
    centrals.push(ch);
    offset += lh.byteLength + data.byteLength;
  }
  const cdSize = centrals.reduce((s, c) => s + c.byteLength, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, SIG_EOCD, true);
  ev.setUint16(8, files.length, true);
  ev.setUint16(10, files.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let p = 0;
  for (const part of [...locals, ...centrals, eocd]) {
    out.set(part, p);
    p += part.byteLength;
  }
  return out;
}
