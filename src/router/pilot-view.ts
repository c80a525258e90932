/** The routing view of a pilot library state: expert -> pilots, weighted as the state's options say. */
import { RouterRetrieverError } from '../boundary/errors.js';
import { checkVector, type PilotLibrary } from '../vectors.js';
import type { Group, PilotLibraryState } from './pilot-state.js';

/**
 * Per-query gain of `expert` on one domain: its score minus the mean score of `experts`
 * on that query, floored at 0 (a pure function of the scores; golden-tested).
 */
export function queryGains(
  scores: ReadonlyMap<string, ArrayLike<number>>,
  experts: readonly string[],
  expert: string,
): Float64Array {
  const own = scores.get(expert);
  if (!own) throw new RouterRetrieverError('INVALID_INPUT', `No scores for expert "${expert}".`, { expert });
  const n = own.length;
  const mean = new Float64Array(n);
  for (const e of experts) {
    const s = scores.get(e);
    if (!s || s.length !== n)
      throw new RouterRetrieverError('INVALID_INPUT', `Scores of expert "${e}" are missing or misaligned.`, {
        expert: e,
      });
    for (let i = 0; i < n; i++) mean[i] += s[i];
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const g = own[i] - mean[i] / experts.length;
    out[i] = Math.max(g, 0);
  }
  return out;
}

/**
 * Weighted mean of vectors (float64 accumulation, one float32 rounding); null when the
 * weights sum to 0. Pure; golden-tested.
 */
export function weightedMean(vectors: readonly Float32Array[], weights: ArrayLike<number>): Float32Array | null {
  if (vectors.length !== weights.length)
    throw new RouterRetrieverError('INVALID_INPUT', `${vectors.length} vectors but ${weights.length} weights.`);
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    if (!(weights[i] >= 0) || !Number.isFinite(weights[i]))
      throw new RouterRetrieverError('INVALID_INPUT', `Weight ${i} must be a finite number >= 0.`);
    total += weights[i];
  }
  if (vectors.length === 0 || total <= 0) return null;
  const acc = new Float64Array(vectors[0].length);
  vectors.forEach((v, j) => {
    checkVector(v, acc.length, `Vector ${j}`);
    const w = weights[j] / total;
    if (w > 0) for (let i = 0; i < acc.length; i++) acc[i] += w * v[i];
  });
  return Float32Array.from(acc);
}

/** Weight of every centroid of one group: its members' gains ('gain') or member count ('size'). */
function centroidWeights(grp: Group, gains: Float64Array | null): number[] {
  const w = new Array<number>(grp.centroids.length).fill(0);
  grp.members.forEach((qi, j) => {
    // States stored without assignments: members spread evenly (exact for k = 1).
    const add = gains ? gains[qi] : 1;
    if (grp.assignments) w[grp.assignments[j]] += add;
    else for (let c = 0; c < w.length; c++) w[c] += add / w.length;
  });
  return w;
}

/**
 * The routing view: expert -> pilots, every expert in configured order (possibly empty).
 * weighting 'none': the group centroids in domain order; otherwise one pilot per expert,
 * the weighted mean of its centroids (an expert whose weights are all 0 gets none).
 */
export function pilotsOf(state: PilotLibraryState): PilotLibrary {
  const weighting = state.options.weighting ?? 'none'; // states stored before the option existed were built unweighted
  if (weighting !== 'none') {
    const out: PilotLibrary = new Map();
    for (const e of state.experts) {
      const g = state.groups.get(e)!;
      const vecs: Float32Array[] = [];
      const ws: number[] = [];
      for (const d of state.domains) {
        const grp = g.get(d.name);
        if (!grp) continue;
        const gains = weighting === 'gain' ? queryGains(d.scores, state.experts, e) : null;
        vecs.push(...grp.centroids);
        ws.push(...centroidWeights(grp, gains));
      }
      const p = weightedMean(vecs, ws);
      out.set(e, p ? [p] : []);
    }
    return out;
  }
  const out: PilotLibrary = new Map();
  for (const e of state.experts) {
    const g = state.groups.get(e)!;
    const list: Float32Array[] = [];
    for (const d of state.domains) {
      const grp = g.get(d.name);
      if (grp) list.push(...grp.centroids);
    }
    out.set(e, list);
  }
  return out;
}
