/**
 * Deterministic train/test split of a domain's queries, for domains that ship
 * no training queries (arguana, cranfield, cisi, cacm, med, adi,
 * msmarco-dl19-subset) when a protocol needs some (pilot embeddings, training
 * an expert). The same rule is written in docs/SPLITS.md for the Python side
 * (tools/train); both MUST agree.
 *
 * THE RULE
 *   h = FNV-1a 32-bit of the UTF-8 bytes of the query id (the `_id` string
 *       exactly as in queries.jsonl / the qrels, no trimming or case folding):
 *         h = 0x811C9DC5 (2166136261)
 *         for each byte o: h = h XOR o; h = (h * 0x01000193 (16777619)) mod 2^32
 *   h < 2^31 (top bit 0) -> "train" half, h >= 2^31 (top bit 1) -> "test" half.
 *   (Not the parity: FNV-1a's lowest bit is just 1 XOR the parity of the number
 *   of odd bytes, so "1", "3", "5" would always land together.)
 *   The pool split is the domain's `test` qrels (the queries that have judgements).
 *
 * Python: h = 2166136261
 *         for o in qid.encode('utf-8'): h = ((h ^ o) * 16777619) & 0xFFFFFFFF
 *         half = 'train' if h < 2**31 else 'test'
 *
 * Check values: fnv1a32('') = 0x811c9dc5, fnv1a32('a') = 0xe40c292c,
 * fnv1a32('1') = 0x340ca71c (train), fnv1a32('a') -> test,
 * fnv1a32('h\u00e9llo') = 0x4aa48540 (train, UTF-8 bytes 68 c3 a9 6c 6c 6f).
 *
 * Domains that have a real `train` qrels file (scifact, nfcorpus, wikiqa) use
 * it unchanged and are never hash-split. Where a domain is hash-split, every
 * row of the evaluation table for that domain is computed on the "test" half
 * only, so no row is scored on queries used for training or pilots.
 */
import { RouterRetrieverError } from '../errors.js';
import type { Qrels } from './metrics.js';

export type Half = 'train' | 'test';

/** FNV-1a 32-bit hash of the UTF-8 encoding of s, as an unsigned integer. */
export function fnv1a32(s: string): number {
  const bytes = new TextEncoder().encode(s);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Which half a query id belongs to: top bit of fnv1a32 0 -> train, 1 -> test. */
export function hashHalf(queryId: string): Half {
  return fnv1a32(queryId) < 0x80000000 ? 'train' : 'test';
}

/** The queries of `qrels` that fall in `half`. */
export function splitQrels(qrels: Qrels, half: Half): Qrels {
  const out: Qrels = new Map();
  for (const [qid, m] of qrels) if (hashHalf(qid) === half) out.set(qid, m);
  return out;
}

export interface ResolvedSplit {
  qrels: Qrels;
  /** Human-readable provenance, printed by the CLI, e.g. "qrels/train.tsv" or "fnv1a32-low-half(qrels/test.tsv)". */
  source: string;
  hashed: boolean;
}

/**
 * The qrels to use for `split` ('train' or 'test') of a dataset.
 * - hashSplit false: the file `qrels/<split>.tsv` as is (error when absent).
 * - hashSplit true and the dataset has no `train` file: the FNV-1a half of `test`.
 * - hashSplit true and the dataset has a `train` file: the files as is.
 */
export function resolveSplit(
  dataset: { name: string; qrels: ReadonlyMap<string, Qrels> },
  split: string,
  hashSplit: boolean,
): ResolvedSplit {
  const hasTrain = dataset.qrels.has('train');
  if (hashSplit && !hasTrain && (split === 'train' || split === 'test')) {
    const pool = dataset.qrels.get('test');
    if (!pool) throw new RouterRetrieverError('NOT_FOUND', `${dataset.name}: no qrels/test.tsv to split by hash`, { dataset: dataset.name });
    return {
      qrels: splitQrels(pool, split),
      source: `fnv1a32-${split === 'train' ? 'low' : 'high'}-half(qrels/test.tsv)`,
      hashed: true,
    };
  }
  const q = dataset.qrels.get(split);
  if (!q) {
    throw new RouterRetrieverError(
      'NOT_FOUND',
      `${dataset.name}: no qrels/${split}.tsv (has: ${[...dataset.qrels.keys()].join(', ') || 'none'})`,
      { dataset: dataset.name, split },
    );
  }
  return { qrels: q, source: `qrels/${split}.tsv`, hashed: false };
}
