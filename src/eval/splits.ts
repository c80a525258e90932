/**
 * Deterministic train/test split of a domain's queries, for domains that ship
 * no training queries (arguana, cranfield, cisi, cacm, med, adi,
 * msmarco-dl19-subset) when a protocol needs some (pilot embeddings, training
 * an expert). It is the rule tools/train/train.py uses (`hash_train_half`);
 * docs/SPLITS.md states it for both sides, which MUST agree.
 *
 * THE RULE
 *   d = SHA-1 of the UTF-8 bytes of the query id (the `_id` string exactly as in
 *       queries.jsonl / the qrels, no trimming or case folding)
 *   d[0] (first digest byte) even -> "train" half, odd -> "test" half.
 *   The pool is the domain's `test` qrels (the queries that have judgements).
 *
 * Python (tools/train/train.py):
 *   hashlib.sha1(qid.encode("utf-8")).digest()[0] % 2 == 0   -> train half
 *
 * Check values: sha1("abc") = a9993e36...; "1" -> 356a192b... (0x35 odd: test),
 * "2" -> da4b9237... (0xda even: train).
 *
 * Domains that have a real `train` qrels file (scifact, nfcorpus, wikiqa) use
 * it unchanged and are never hash-split. Where a domain is hash-split, every
 * row of the evaluation table for that domain is computed on the "test" half
 * only, so no row is scored on queries used for training or pilots.
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import type { Qrels } from './metrics.js';

export type Half = 'train' | 'test';

/**
 * SHA-1 (FIPS 180-4) of bytes, synchronous so that it runs anywhere (no
 * SubtleCrypto promise). Only used for split decisions; not for security.
 */
export function sha1(bytes: Uint8Array): Uint8Array {
  const len = bytes.length;
  const nBlocks = ((len + 8) >>> 6) + 1;
  const words = new Uint32Array(nBlocks * 16);
  for (let i = 0; i < len; i++) words[i >>> 2] |= bytes[i] << (24 - 8 * (i & 3));
  words[len >>> 2] |= 0x80 << (24 - 8 * (len & 3));
  const bits = len * 8;
  words[nBlocks * 16 - 2] = Math.floor(bits / 0x100000000);
  words[nBlocks * 16 - 1] = bits >>> 0;
  let h0 = 0x67452301,
    h1 = 0xefcdab89,
    h2 = 0x98badcfe,
    h3 = 0x10325476,
    h4 = 0xc3d2e1f0;
  const w = new Uint32Array(80);
  for (let blk = 0; blk < nBlocks; blk++) {
    for (let t = 0; t < 16; t++) w[t] = words[blk * 16 + t];
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
      w[t] = (x << 1) | (x >>> 31);
    }
    let a = h0,
      b = h1,
      c = h2,
      d = h3,
      e = h4;
    for (let t = 0; t < 80; t++) {
      let f: number;
      let k: number;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const tmp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]) >>> 0;
      e = d;
      d = c;
      c = ((b << 30) | (b >>> 2)) >>> 0;
      b = a;
      a = tmp;
    }
    h0 = (h0 + a) >>> 0;
    h1 = (h1 + b) >>> 0;
    h2 = (h2 + c) >>> 0;
    h3 = (h3 + d) >>> 0;
    h4 = (h4 + e) >>> 0;
  }
  const out = new Uint8Array(20);
  [h0, h1, h2, h3, h4].forEach((h, i) => {
    out[i * 4] = h >>> 24;
    out[i * 4 + 1] = (h >>> 16) & 0xff;
    out[i * 4 + 2] = (h >>> 8) & 0xff;
    out[i * 4 + 3] = h & 0xff;
  });
  return out;
}

/** Which half a query id belongs to: first byte of sha1(UTF-8 id) even -> train, odd -> test. */
export function hashHalf(queryId: string): Half {
  return (sha1(new TextEncoder().encode(queryId))[0] & 1) === 0 ? 'train' : 'test';
}

/** The queries of `qrels` that fall in `half`. */
export function splitQrels(qrels: Qrels, half: Half): Qrels {
  const out: Qrels = new Map();
  for (const [qid, m] of qrels) if (hashHalf(qid) === half) out.set(qid, m);
  return out;
}

export interface ResolvedSplit {
  qrels: Qrels;
  /** Human-readable provenance, printed by the CLI, e.g. "qrels/train.tsv" or "sha1-even-half(qrels/test.tsv)". */
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
    if (!pool)
      throw new RouterRetrieverError('NOT_FOUND', `${dataset.name}: no qrels/test.tsv to split by hash`, {
        dataset: dataset.name,
      });
    return {
      qrels: splitQrels(pool, split),
      source: `sha1-${split === 'train' ? 'even' : 'odd'}-half(qrels/test.tsv)`,
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
