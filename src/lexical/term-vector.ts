/**
 * A document as the lexical index stores it: its distinct term ids (ascending) with their
 * frequencies, and its length in analyzed tokens. Stored beside the document, so reopening a
 * collection rebuilds the postings without analyzing any text again.
 */
import type { Lexicon } from './lexicon.js';

export interface TermVector {
  /** Distinct term ids, ascending. */
  terms: Uint32Array;
  /** Frequency of each term; saturates at 65,535 (BM25's tf part is within 1e-5 of 1 there). */
  tfs: Uint16Array;
  /** Analyzed tokens in the document (BM25's document length). */
  length: number;
}

const MAX_TF = 0xffff;

/** Term ids of `tokens`, new terms added to the lexicon. */
export function termVectorOf(tokens: readonly string[], lexicon: Lexicon): TermVector {
  const counts = new Map<number, number>();
  for (const tok of tokens) {
    const t = lexicon.idOf(tok);
    counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  const terms = Uint32Array.from(counts.keys()).sort();
  const tfs = new Uint16Array(terms.length);
  for (let i = 0; i < terms.length; i++) tfs[i] = Math.min(MAX_TF, counts.get(terms[i])!);
  return { terms, tfs, length: tokens.length };
}

/** Frequency of term `t` in `v` (0 when absent); binary search over the ascending ids. */
export function tfIn(v: TermVector, t: number): number {
  let lo = 0;
  let hi = v.terms.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const x = v.terms[mid];
    if (x === t) return v.tfs[mid];
    if (x < t) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}
