/**
 * The terms store's chunk records (layout: TermChunkRecord in ./schema.ts), pure: encode a
 * chunk's rows, read them back as term vectors (views, no copy), replace some rows. A write
 * rewrites the whole chunk record, as the vector chunks are rewritten: with SciFact-sized
 * documents (about 100 distinct terms each) a chunk of 1,024 rows is about 0.6 MB, a fifth of
 * its 768-d float32 vector chunk.
 */
import type { TermVector } from '../lexical/term-vector.js';
import type { TermChunkRecord } from './schema.js';

/** A chunk record of `rows` (null = free row), chunkSize rows long. */
export function encodeTermChunk(
  chunk: number,
  chunkSize: number,
  rows: readonly (TermVector | null)[],
): TermChunkRecord {
  const offsets = new Uint32Array(chunkSize + 1);
  const lengths = new Uint32Array(chunkSize);
  let n = 0;
  for (let r = 0; r < chunkSize; r++) {
    offsets[r] = n;
    const v = rows[r];
    if (v) {
      n += v.terms.length;
      lengths[r] = v.length;
    }
  }
  offsets[chunkSize] = n;
  const terms = new Uint32Array(n);
  const tfs = new Uint16Array(n);
  for (let r = 0; r < chunkSize; r++) {
    const v = rows[r];
    if (!v) continue;
    terms.set(v.terms, offsets[r]);
    tfs.set(v.tfs, offsets[r]);
  }
  return { chunk, offsets: offsets.buffer, lengths: lengths.buffer, terms: terms.buffer, tfs: tfs.buffer };
}

/** Every row of a chunk record (or of none: all free). */
export function decodeTermChunk(rec: TermChunkRecord | undefined, chunkSize: number): (TermVector | null)[] {
  const rows: (TermVector | null)[] = new Array<TermVector | null>(chunkSize).fill(null);
  if (!rec) return rows;
  const offsets = new Uint32Array(rec.offsets);
  const lengths = new Uint32Array(rec.lengths);
  for (let r = 0; r < chunkSize; r++) {
    const a = offsets[r];
    const b = offsets[r + 1];
    rows[r] = {
      terms: new Uint32Array(rec.terms, a * 4, b - a),
      tfs: new Uint16Array(rec.tfs, a * 2, b - a),
      length: lengths[r],
    };
  }
  return rows;
}

/** The record with `changes` (row -> vector, or null to free the row) applied. */
export function updateTermChunk(
  rec: TermChunkRecord | undefined,
  chunk: number,
  chunkSize: number,
  changes: ReadonlyMap<number, TermVector | null>,
): TermChunkRecord {
  const rows = decodeTermChunk(rec, chunkSize);
  for (const [r, v] of changes) rows[r] = v;
  return encodeTermChunk(chunk, chunkSize, rows);
}
