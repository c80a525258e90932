/**
 * Writing a collection file (format: ./container.ts) from what a collection holds, pure: the
 * browser's exportCollection() (./transfer.ts) and the Node indexing CLI (src/cli/) both write
 * through encodeCollectionFile(), so a file built in Node imports exactly as an exported one.
 */
import { toDoc, type Doc } from '../doc.js';
import type { LexicalOptions } from '../lexical/lexical-index.js';
import { abstainToJson } from '../router/abstain-json.js';
import type { PilotExtras } from '../router/library-file.js';
import { exportPilotLibrary } from '../router/pilot-json.js';
import type { PilotLibrary } from '../vectors.js';
import { encodeContainer, type BlobRef, type CollectionFileHeader } from './container.js';
import type { ExpertRecord } from './schema.js';

export interface CollectionContent {
  name: string;
  /** The base model's fingerprint (ModelInfo.fingerprint): import refuses another model. */
  fingerprint: string;
  dim: number;
  /** The documents, row i of `vectors` is docs[i]. */
  docs: readonly Doc[];
  /** docs.length x dim base-encoder embeddings, row-major. */
  vectors: Float32Array;
  experts: readonly ExpertRecord[];
  pilots: PilotLibrary;
  /** The analyzer and BM25 parameters: import builds the term vectors with them. */
  lexical: LexicalOptions;
  /** The encoder precision the documents were embedded with, when known (recorded in the file). */
  encoderDtype?: 'fp32' | 'q8';
  /** The pilot library's fusion setting and abstention rule (those it has). */
  extras: PilotExtras;
}

export function encodeCollectionFile(c: CollectionContent): ArrayBuffer {
  const vec = c.vectors;
  const blobs: Uint8Array[] = [new Uint8Array(vec.buffer, vec.byteOffset, vec.byteLength)];
  let off = vec.byteLength;
  const header: CollectionFileHeader = {
    format: 'routerretriever-collection',
    version: 2,
    name: c.name,
    fingerprint: c.fingerprint,
    dim: c.dim,
    // The stored vectors' type; the encoder's precision is encoderDtype.
    dtype: 'float32',
    ...(c.encoderDtype ? { encoderDtype: c.encoderDtype } : {}),
    count: c.docs.length,
    docs: c.docs.map(toDoc),
    experts: c.experts.map((e) => {
      const files: Record<string, BlobRef> = {};
      for (const [fname, buf] of Object.entries(e.files ?? {})) {
        files[fname] = { offset: off, length: buf.byteLength };
        blobs.push(new Uint8Array(buf));
        off += buf.byteLength;
      }
      const { files: _f, ...rest } = e;
      return { ...rest, files };
    }),
    pilots: JSON.parse(exportPilotLibrary(c.pilots)) as Record<string, number[][]>,
    vectors: { offset: 0, length: vec.byteLength },
    lexical: { ...c.lexical },
  };
  if (c.extras.fusion) header.fusion = { ...c.extras.fusion };
  if (c.extras.abstain) header.abstain = abstainToJson(c.extras.abstain);
  return encodeContainer(header, blobs);
}
