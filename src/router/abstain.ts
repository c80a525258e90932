/**
 * Routing that can abstain: a query goes to an expert only when training queries like it
 * gained with that expert over the base encoder; otherwise it stays on the base.
 *
 * The rule ('knn'): the k training (pilot) queries nearest to the query (cosine of base-encoder
 * embeddings) vote with what each expert gained on them, nDCG@10(expert) - nDCG@10(base). The
 * expert with the best mean gain is chosen when that gain exceeds `minGain`; else the base.
 *
 * Why this rule (bench/abstain-study.py, bench/results/abstain-study.txt): selected on training
 * queries only, by leave-one-domain-out (an expert and its pilots removed, its domain's queries
 * should stay on the base) plus 5-fold cross-validation on the seen domains, over pilot-mean
 * thresholds, kNN, kNN with a distance gate and kNN as a gate for the mean router. kNN with k 50
 * and minGain 0.02 won (35.4 against 34.4 for the paper's router); on test queries, dense only,
 * it keeps 12 % of the expert domains' queries and 16 % of the five collections without
 * experts on the base: 38.4 there (router 38.8, base 35.8) and 45.0 here (router 43.4, base 44.7).
 *
 * Instances are kept as int8 codes of the unit-normalised embeddings with a scale per row (a
 * quarter of float32): on the test queries above 13 of 1,909 decisions change and both means
 * move by under 0.1 point.
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import { nameRecord } from '../records.js';
import { checkVector } from '../vectors.js';

/** The shipped rule's parameters (see the header). */
export const DEFAULT_ABSTAIN_K = 50;
export const DEFAULT_MIN_GAIN = 0.02;

export interface AbstainRule {
  method: 'knn';
  /** Neighbours that vote. */
  k: number;
  /** The best expert's mean gain (nDCG@10 over the base, 0..1) must exceed this to leave the base. */
  minGain: number;
  /** The gain columns, in order. */
  experts: string[];
  dim: number;
  /** n x dim int8 codes of the unit-normalised base-encoder embeddings of the training queries. */
  codes: Int8Array;
  /** Per row: the code's scale (value = code x scale). */
  scales: Float32Array;
  /** n x experts.length: each training query's nDCG@10 with the expert minus with the base. */
  gains: Float32Array;
}

/** One training domain's queries for building a rule. */
export interface AbstainDomain {
  queryEmbeddings: readonly Float32Array[];
  /** The base encoder's per-query score (nDCG@10), aligned with queryEmbeddings. */
  baseScores: ArrayLike<number>;
  /** expert -> per-query score; every expert of the rule must be present. */
  scores: ReadonlyMap<string, ArrayLike<number>> | Readonly<Record<string, ArrayLike<number>>>;
}

/** Why a query went where it did. */
export interface AbstainDecision {
  /** The chosen expert, or null: the query stays on the base encoder. */
  expert: string | null;
  /** Per allowed expert: its mean gain over the base on the neighbours. */
  gains: Record<string, number>;
  /** The best gain minus minGain (> 0: an expert was chosen). */
  margin: number;
  /** Mean cosine similarity of the query to its neighbours (how familiar the query looks). */
  similarity: number;
  k: number;
  minGain: number;
}

export function ruleSize(rule: AbstainRule): number {
  return rule.scales.length;
}

/** Int8 codes of a vector normalised to unit length, and the scale to read them back. */
export function quantizeUnit(v: ArrayLike<number>, out: Int8Array, offset: number): number {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i] * v[i];
  norm = Math.sqrt(norm);
  let max = 0;
  for (let i = 0; i < v.length; i++) max = Math.max(max, Math.abs(v[i]));
  if (norm === 0 || max === 0) return 0;
  const scale = max / norm / 127;
  for (let i = 0; i < v.length; i++) out[offset + i] = Math.round(v[i] / norm / scale);
  return scale;
}

function scoresOf(d: AbstainDomain, expert: string): ArrayLike<number> | undefined {
  return d.scores instanceof Map ? d.scores.get(expert) : (d.scores as Record<string, ArrayLike<number>>)[expert];
}

/** Builds the kNN rule from training domains (their queries' base embeddings and every encoder's scores). */
export function buildAbstainRule(
  experts: readonly string[],
  domains: readonly AbstainDomain[],
  options: { k?: number; minGain?: number } = {},
): AbstainRule {
  const k = options.k ?? DEFAULT_ABSTAIN_K;
  const minGain = options.minGain ?? DEFAULT_MIN_GAIN;
  if (!Number.isInteger(k) || k < 1) throw new RouterRetrieverError('INVALID_INPUT', 'k must be an integer >= 1.');
  if (!Number.isFinite(minGain)) throw new RouterRetrieverError('INVALID_INPUT', 'minGain must be a finite number.');
  if (experts.length === 0) throw new RouterRetrieverError('INVALID_INPUT', 'The rule needs at least one expert.');
  const n = domains.reduce((s, d) => s + d.queryEmbeddings.length, 0);
  if (n === 0) throw new RouterRetrieverError('INVALID_INPUT', 'The rule needs at least one training query.');
  const dim = domains.find((d) => d.queryEmbeddings.length > 0)!.queryEmbeddings[0].length;
  const codes = new Int8Array(n * dim);
  const scales = new Float32Array(n);
  const gains = new Float32Array(n * experts.length);
  let row = 0;
  for (const d of domains) {
    const cols = experts.map((e) => {
      const s = scoresOf(d, e);
      if (!s || s.length !== d.queryEmbeddings.length)
        throw new RouterRetrieverError('INVALID_INPUT', `Every training query needs a score for expert "${e}".`);
      return s;
    });
    if (d.baseScores.length !== d.queryEmbeddings.length)
      throw new RouterRetrieverError('INVALID_INPUT', 'Every training query needs a score for the base encoder.');
    d.queryEmbeddings.forEach((v, i) => {
      checkVector(v, dim, `Training query embedding ${i}`);
      scales[row] = quantizeUnit(v, codes, row * dim);
      cols.forEach((c, j) => (gains[row * experts.length + j] = c[i] - d.baseScores[i]));
      row++;
    });
  }
  return { method: 'knn', k, minGain, experts: [...experts], dim, codes, scales, gains };
}

/** The rule with one more gain column (the new expert's per-query gains, in the rule's row order). */
export function withExpertGains(rule: AbstainRule, expert: string, gains: ArrayLike<number>): AbstainRule {
  const n = ruleSize(rule);
  if (gains.length !== n)
    throw new RouterRetrieverError('INVALID_INPUT', `Expert "${expert}" needs ${n} gains, got ${gains.length}.`);
  const kept = rule.experts.filter((e) => e !== expert);
  const out = new Float32Array(n * (kept.length + 1));
  const src = kept.map((e) => rule.experts.indexOf(e));
  for (let i = 0; i < n; i++) {
    src.forEach((j, c) => (out[i * (kept.length + 1) + c] = rule.gains[i * rule.experts.length + j]));
    out[i * (kept.length + 1) + kept.length] = gains[i];
  }
  return { ...rule, experts: [...kept, expert], gains: out };
}

/** The rule without an expert's gain column (undefined when no expert would be left). */
export function withoutExpert(rule: AbstainRule, expert: string): AbstainRule | undefined {
  const kept = rule.experts.filter((e) => e !== expert);
  if (kept.length === rule.experts.length) return rule;
  if (kept.length === 0) return undefined;
  const n = ruleSize(rule);
  const src = kept.map((e) => rule.experts.indexOf(e));
  const out = new Float32Array(n * kept.length);
  for (let i = 0; i < n; i++)
    src.forEach((j, c) => (out[i * kept.length + c] = rule.gains[i * rule.experts.length + j]));
  return { ...rule, experts: kept, gains: out };
}

/** Indices of the k largest values (any order among equals). */
function topK(sims: Float64Array, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < sims.length; i++) {
    if (idx.length === k && sims[i] <= sims[idx[k - 1]]) continue;
    let j = idx.length === k ? k - 1 : idx.length;
    while (j > 0 && sims[idx[j - 1]] < sims[i]) {
      idx[j] = idx[j - 1];
      j--;
    }
    idx[j] = i;
  }
  return idx;
}

/**
 * The rule's decision for a base-encoder query embedding, among `allowed` experts (default: all
 * of the rule's; others cannot be chosen). Ties in gain go to the earlier expert of the rule.
 */
export function decideRoute(query: Float32Array, rule: AbstainRule, allowed?: ReadonlySet<string>): AbstainDecision {
  checkVector(query, rule.dim, 'The query embedding');
  const n = ruleSize(rule);
  const { dim, codes, scales } = rule;
  let qn = 0;
  for (let j = 0; j < dim; j++) qn += query[j] * query[j];
  qn = Math.sqrt(qn) || 1;
  const sims = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * dim;
    for (let j = 0; j < dim; j++) s += query[j] * codes[o + j];
    sims[i] = (s * scales[i]) / qn;
  }
  const near = topK(sims, Math.min(rule.k, n));
  const m = rule.experts.length;
  const gains = nameRecord<number>();
  let best: string | null = null;
  let bestGain = -Infinity;
  rule.experts.forEach((e, c) => {
    if (allowed && !allowed.has(e)) return;
    let g = 0;
    for (const i of near) g += rule.gains[i * m + c];
    g /= near.length;
    gains[e] = g;
    if (g > bestGain) {
      best = e;
      bestGain = g;
    }
  });
  let similarity = 0;
  for (const i of near) similarity += sims[i];
  similarity /= near.length;
  const margin = bestGain - rule.minGain;
  return {
    expert: margin > 0 ? best : null,
    gains,
    margin: Number.isFinite(margin) ? margin : -rule.minGain,
    similarity,
    k: near.length,
    minGain: rule.minGain,
  };
}
