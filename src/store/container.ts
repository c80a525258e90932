import { RouterRetrieverError, isRouterRetrieverError } from '../boundary/errors.js';
import { validateDocs, type Doc } from '../doc.js';
import type { FusionSetting } from '../hybrid/fusion-json.js';
import type { AbstainRuleJson } from '../router/abstain-json.js';
import type { LexicalOptions } from '../lexical/lexical-index.js';

/**
 * One-file collection container (export/import):
 *
 *   bytes 0..7   magic "RRCOLL" 0x00 0x01 (the last byte is the container version, 1)
 *   bytes 8..11  header length H, uint32 little-endian
 *   bytes 12..   header: H bytes of UTF-8 JSON (CollectionFileHeader)
 *   then zero padding up to a multiple of 8: the data section starts there
 *   data section: binary blobs addressed by {offset, length} (relative to the data start):
 *     the vectors (count x dim float32, little-endian, row i = header.docs[i]) and expert files.
 *
 * Header versions: 1 (no lexical data), 2 (adds `lexical`, the options the term vectors were
 * built with, and the pilot library's `fusion`). The term vectors themselves are not in the file:
 * import rebuilds them from the documents. A newer version is refused with a clear error.
 */
export const FILE_VERSIONS = [1, 2] as const;
export const MAGIC = [0x52, 0x52, 0x43, 0x4f, 0x4c, 0x4c, 0x00, 0x01];

export interface BlobRef {
  offset: number;
  length: number;
}

export interface CollectionFileHeader {
  format: 'routerretriever-collection';
  version: (typeof FILE_VERSIONS)[number];
  name: string;
  fingerprint: string;
  dim: number;
  dtype: 'float32';
  count: number;
  docs: Doc[];
  experts: { name: string; source?: string; config?: Record<string, unknown>; files?: Record<string, BlobRef> }[];
  /** The authors' pilot library shape, in expert order. */
  pilots: Record<string, number[][]>;
  vectors: BlobRef;
  /** Version 2: the collection's lexical options (import analyzes the documents with them). */
  lexical?: LexicalOptions;
  /** Version 2: the fusion setting stored with the pilot library. */
  fusion?: FusionSetting;
  /** Version 2, optional: the abstention rule stored with the pilot library ("_abstain" JSON). */
  abstain?: AbstainRuleJson;
  /** Version 2, optional: the encoder precision the documents were embedded with (the CLI's --dtype). */
  encoderDtype?: 'fp32' | 'q8';
}

function bad(msg: string): never {
  throw new RouterRetrieverError('INVALID_INPUT', `Not a valid collection file: ${msg}`);
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new RouterRetrieverError('BACKEND', 'Collection files need a little-endian platform.');
}

/** Builds the container; `blobs` are appended in order and the refs in the header must point at them. */
export function encodeContainer(header: CollectionFileHeader, blobs: readonly Uint8Array[]): ArrayBuffer {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = Math.ceil((12 + json.length) / 8) * 8;
  const dataLen = blobs.reduce((s, b) => s + b.length, 0);
  const out = new Uint8Array(dataStart + dataLen);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  let off = dataStart;
  for (const b of blobs) {
    out.set(b, off);
    off += b.length;
  }
  return out.buffer;
}

/** Parses and validates the container. Returns the header and the data section. */
export function decodeContainer(input: ArrayBuffer | Uint8Array): { header: CollectionFileHeader; data: Uint8Array } {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (bytes.length < 12 || MAGIC.some((m, i) => bytes[i] !== m)) bad('wrong magic bytes or unsupported version.');
  const hlen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + hlen > bytes.length) bad('truncated header.');
  let header: CollectionFileHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + hlen)));
  } catch {
    bad('the header is not valid JSON.');
  }
  const dataStart = Math.ceil((12 + hlen) / 8) * 8;
  const data = bytes.subarray(Math.min(dataStart, bytes.length));
  const h = header as unknown as Record<string, unknown>;
  if (typeof h !== 'object' || h === null || h.format !== 'routerretriever-collection') bad('unknown format.');
  if (!(FILE_VERSIONS as readonly unknown[]).includes(h.version)) {
    bad(
      `file version ${JSON.stringify(h.version)} is not supported (this SDK reads versions ${FILE_VERSIONS.join(' and ')}); it was probably written by a newer SDK: update the SDK to import it.`,
    );
  }
  if (typeof h.fingerprint !== 'string') bad('missing model fingerprint.');
  if (!Number.isInteger(h.dim) || (h.dim as number) < 1) bad('bad dim.');
  if (!Number.isInteger(h.count) || (h.count as number) < 0) bad('bad count.');
  if (!Array.isArray(h.docs) || h.docs.length !== h.count) bad('the document list does not match count.');
  try {
    validateDocs(h.docs);
  } catch (e) {
    if (isRouterRetrieverError(e)) bad(e.message);
    throw e;
  }
  const checkRef = (r: unknown, what: string): BlobRef => {
    const ref = r as BlobRef;
    if (
      typeof ref !== 'object' ||
      ref === null ||
      !Number.isInteger(ref.offset) ||
      !Number.isInteger(ref.length) ||
      ref.offset < 0 ||
      ref.length < 0 ||
      ref.offset + ref.length > data.length
    )
      bad(`${what} points outside the file (truncated?).`);
    return ref;
  };
  const v = checkRef(h.vectors, 'the vector section');
  if (v.length !== header.count * header.dim * 4) bad('the vector section has the wrong size.');
  if (!Array.isArray(h.experts)) bad('missing experts.');
  for (const e of header.experts) {
    if (typeof e?.name !== 'string' || e.name === '') bad('an expert has no name.');
    for (const [fname, ref] of Object.entries(e.files ?? {})) checkRef(ref, `file ${fname} of expert ${e.name}`);
  }
  if (typeof h.pilots !== 'object' || h.pilots === null || Array.isArray(h.pilots)) bad('missing pilots.');
  return { header, data };
}
