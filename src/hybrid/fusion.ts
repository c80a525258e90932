/**
 * Fusion of a dense and a lexical result list into one ranking, pure.
 *
 * - `convex` (default): each list's top `depth` scores are min-max normalised to [0, 1] (a
 *   document missing from a list gets 0 there), then fused = (1 - weight) * dense + weight *
 *   lexical. Published comparisons of hybrid retrieval find this beats RRF once the weight is
 *   tuned on a few labelled queries; the weight is learned from training queries.
 * - `rrf`: reciprocal rank fusion, (1 - weight) / (k + dense rank) + weight / (k + lexical rank),
 *   ranks from 1, k = 60; weight 0.5 ranks as the classic unweighted RRF.
 * Ties: fused score descending, then id ascending (the SDK's order everywhere).
 */
import type { Hit } from '../search/types.js';

export type FusionMethod = 'convex' | 'rrf';

export interface FusionOptions {
  method: FusionMethod;
  /** Weight of the lexical side, in [0, 1]: 0 = dense only, 1 = lexical only. */
  weight: number;
  /** How many of each list's best take part (default 100). */
  depth?: number;
  /** RRF's rank offset (default 60). */
  rrfK?: number;
}

export interface FusedHit extends Hit {
  /** The side's raw score, or null when the document is not in that side's top `depth`. */
  dense: number | null;
  lexical: number | null;
}

/** Min-max normalised scores of a list (all 1 when every score is the same). */
export function minMax(scores: readonly number[]): number[] {
  if (scores.length === 0) return [];
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of scores) {
    if (s < lo) lo = s;
    if (s > hi) hi = s;
  }
  const span = hi - lo;
  return scores.map((s) => (span > 0 ? (s - lo) / span : 1));
}

/** Fuses two ranked lists (best first) into the top k. */
export function fuse(dense: readonly Hit[], lexical: readonly Hit[], k: number, options: FusionOptions): FusedHit[] {
  const depth = options.depth ?? 100;
  const w = options.weight;
  const d = dense.slice(0, depth);
  const l = lexical.slice(0, depth);
  const out = new Map<string, FusedHit>();
  const entry = (id: string): FusedHit => {
    let e = out.get(id);
    if (!e) {
      e = { id, score: 0, dense: null, lexical: null };
      out.set(id, e);
    }
    return e;
  };
  if (options.method === 'rrf') {
    const rk = options.rrfK ?? 60;
    d.forEach((h, i) => {
      const e = entry(h.id);
      e.dense = h.score;
      e.score += (1 - w) / (rk + i + 1);
    });
    l.forEach((h, i) => {
      const e = entry(h.id);
      e.lexical = h.score;
      e.score += w / (rk + i + 1);
    });
  } else {
    const dn = minMax(d.map((h) => h.score));
    const ln = minMax(l.map((h) => h.score));
    d.forEach((h, i) => {
      const e = entry(h.id);
      e.dense = h.score;
      e.score += (1 - w) * dn[i];
    });
    l.forEach((h, i) => {
      const e = entry(h.id);
      e.lexical = h.score;
      e.score += w * ln[i];
    });
  }
  return [...out.values()]
    .sort((a, b) => (a.score !== b.score ? b.score - a.score : a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, Math.max(0, k));
}
