/** Export and import of a whole collection as one file (format: ./container.ts, version 1). */
import { deleteDB } from 'idb';
import { RouterRetrieverError, isRouterRetrieverError } from '../boundary/errors.js';
import { checkFusion } from '../hybrid/fusion-json.js';
import { abstainFromJson, checkRuleCovers } from '../router/abstain-json.js';
import type { PilotExtras } from '../router/library-file.js';
import type { LexicalOptions } from '../lexical/lexical-index.js';
import { checkLexicalOptions } from '../lexical/options.js';
import { parsePilotLibrary } from '../router/pilot-json.js';
import { checkVector, type PilotLibrary } from '../vectors.js';
import { readMeta, type Connection } from './connection.js';
import { encodeCollectionFile } from './collection-file.js';
import { decodeContainer, type CollectionFileHeader } from './container.js';
import { getPilotExtras, getPilots } from './experts.js';
import { dbName, type ExpertRecord } from './schema.js';

function notAFile(msg: string): never {
  throw new RouterRetrieverError('INVALID_INPUT', `Not a valid collection file: ${msg}`);
}

/** The whole collection (documents with a vector, vectors, experts, pilots) as one file. */
export async function exportCollection(conn: Connection): Promise<ArrayBuffer> {
  const tx = (await conn.db()).transaction(['meta', 'docs', 'vectors', 'experts', 'pilots']);
  const m = (await readMeta(tx.objectStore('meta')))!;
  const docs = (await tx.objectStore('docs').getAll()).filter((d) => d.slot >= 0);
  const chunks = new Map((await tx.objectStore('vectors').getAll()).map((c) => [c.chunk, c]));
  const experts = await tx.objectStore('experts').getAll();
  await tx.done;
  const vec = new Float32Array(docs.length * m.dim);
  docs.forEach((d, i) => {
    const c = chunks.get(Math.floor(d.slot / m.chunkSize))!;
    const row = d.slot % m.chunkSize;
    vec.set(new Float32Array(c.vectors, row * m.dim * 4, m.dim), i * m.dim);
  });
  return encodeCollectionFile({
    name: m.name,
    fingerprint: m.fingerprint,
    dim: m.dim,
    docs,
    vectors: vec,
    experts,
    pilots: await getPilots(conn),
    lexical: m.lexical,
    extras: await getPilotExtras(conn),
  });
}

/** What a file holds, validated whole before anything is written. */
export interface CollectionFile {
  header: CollectionFileHeader;
  vectors: Float32Array;
  experts: ExpertRecord[];
  pilots: PilotLibrary;
  /** The lexical options to rebuild the term vectors with (version 1 files: none, the defaults apply). */
  lexical: Partial<LexicalOptions>;
  /** The fusion setting and abstention rule of the pilot library (those the file has). */
  extras: PilotExtras;
}

export function readCollectionFile(file: ArrayBuffer | Uint8Array): CollectionFile {
  const { header, data } = decodeContainer(file);
  const { dim } = header;
  // A copy of a blob (new Uint8Array(view) copies; Node's Buffer.slice would not, and its .buffer is a shared pool).
  const blob = (ref: { offset: number; length: number }) =>
    new Uint8Array(data.subarray(ref.offset, ref.offset + ref.length)).buffer;
  const vectors = new Float32Array(blob(header.vectors));
  try {
    for (let i = 0; i < header.count; i++)
      checkVector(vectors.subarray(i * dim, (i + 1) * dim), dim, `the vector of document "${header.docs[i].id}"`);
  } catch (e) {
    if (isRouterRetrieverError(e)) notAFile(e.message);
    throw e;
  }
  let pilots: PilotLibrary;
  try {
    pilots = parsePilotLibrary(header.pilots, { dim });
  } catch (e) {
    if (isRouterRetrieverError(e)) notAFile(e.message);
    throw e;
  }
  const experts = header.experts.map((ex) => {
    const files: Record<string, ArrayBuffer> = {};
    for (const [fname, ref] of Object.entries(ex.files ?? {})) files[fname] = blob(ref);
    const rec: ExpertRecord = { ...ex, files };
    if (Object.keys(files).length === 0) delete rec.files;
    return rec;
  });
  let lexical: Partial<LexicalOptions>;
  const extras: PilotExtras = {};
  try {
    lexical = checkLexicalOptions(header.lexical, 'the lexical options');
    if (header.fusion !== undefined) extras.fusion = checkFusion(header.fusion, 'the fusion setting');
    if (header.abstain !== undefined) {
      extras.abstain = abstainFromJson(header.abstain, dim);
      checkRuleCovers(extras.abstain, pilots.keys());
    }
  } catch (e) {
    if (isRouterRetrieverError(e)) notAFile(e.message);
    throw e;
  }
  return { header, vectors, experts, pilots, lexical, extras };
}

export async function dropDatabase(name: string): Promise<void> {
  await deleteDB(dbName(name));
}
