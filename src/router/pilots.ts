import { RouterRetrieverError } from '../boundary/errors.js';
import { kmeans } from './kmeans.js';
import type { PilotLibrary } from './route.js';
import { checkVector } from './vectors.js';

/**
 * One training domain of the pilot library: the BASE-encoder embeddings of its
 * training queries and, per expert, each query's score (nDCG@10 of that expert
 * retrieving from this domain's corpus; see scoreQueries in ./scoring.ts).
 */
export interface PilotDomain {
  name: string;
  queryEmbeddings: readonly Float32Array[];
  /** expert -> per-query scores aligned with queryEmbeddings. Every expert of the library must be present. */
  scores: ReadonlyMap<string, ArrayLike<number>> | Readonly<Record<string, ArrayLike<number>>>;
}

export interface PilotBuildOptions {
  /** Centroids per (expert, domain) group; the paper's default and best is 1. */
  k?: number;
  seed?: number;
  iters?: number;
  /**
   * Queries on which EVERY expert scores the same (typically all 0: nothing relevant found):
   * 'first' (the paper's argmax, default) gives them to the first expert; 'skip' leaves them out
   * of every group, since they say nothing about which expert is better.
   */
  uninformative?: 'first' | 'skip';
  /**
   * How an expert's pilots are turned into what routing compares a query with.
   * 'none' (the paper; the default of this pure builder, so stored states built before the option
   * existed read the same; RouterRetriever.buildPilotLibrary and the eval harness pass 'gain'): every (expert, domain) group centroid is a pilot of its own; routeMean averages
   * them with equal weight. 'gain' (the SDK's choice for its evaluation harness and the shipped
   * contriever-mini library, selected on training queries: bench/results/routing-selection.md): each
   * expert gets ONE pilot, the weighted mean of its group centroids, a group weighing the nDCG@10
   * its queries gain with that expert over the mean of all experts (sum over the group's queries
   * of score(expert) - mean score); queries with no gain (every expert scores the same) join no
   * group. routeMean over this pilot = the gain-weighted mean of the dot products with the group
   * centroids (the dot product is linear), and routeMean and routeMax agree. 'size': the same with
   * a group weighing its number of queries. With k > 1 a centroid weighs its own members.
   */
  weighting?: PilotWeighting;
}

export type PilotWeighting = 'none' | 'gain' | 'size';

interface DomainState {
  name: string;
  queryEmbeddings: readonly Float32Array[];
  scores: Map<string, Float64Array>;
}

/** One (expert, domain) group: the query indices it was built from, and its centroid(s). */
interface Group {
  members: number[];
  centroids: Float32Array[];
  /** Centroid index of every member (k-means assignments; absent in states stored before weighting existed). */
  assignments?: number[];
}

/**
 * Everything needed to extend the library later without re-scoring old experts.
 * Plain data (Maps, arrays, typed arrays): structured-clonable, so it can be kept in IndexedDB.
 */
export interface PilotLibraryState {
  /** Configured expert order: ties in the best-expert choice go to the earlier expert. */
  experts: string[];
  domains: DomainState[];
  options: Required<PilotBuildOptions>;
  /** expert -> domain -> group */
  groups: Map<string, Map<string, Group>>;
}

export interface PilotChange {
  expert: string;
  domain: string;
  /** 'added' | 'recomputed' | 'removed' */
  change: 'added' | 'recomputed' | 'removed';
}

function getScores(d: PilotDomain, expert: string): ArrayLike<number> | undefined {
  const s = d.scores as { get?: unknown };
  return typeof s.get === 'function'
    ? (d.scores as ReadonlyMap<string, ArrayLike<number>>).get(expert)
    : (d.scores as Readonly<Record<string, ArrayLike<number>>>)[expert];
}

function toScores(values: ArrayLike<number> | undefined, n: number, expert: string, domain: string): Float64Array {
  if (!values || typeof values.length !== 'number') {
    throw new RouterRetrieverError('INVALID_INPUT', `Domain "${domain}" has no scores for expert "${expert}".`, { expert, domain });
  }
  if (values.length !== n) {
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      `Domain "${domain}" has ${n} queries but ${values.length} scores for expert "${expert}".`,
      { expert, domain },
    );
  }
  const out = Float64Array.from(values);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(out[i])) {
      throw new RouterRetrieverError('INVALID_INPUT', `Score ${i} of expert "${expert}" on domain "${domain}" is not finite.`);
    }
  }
  return out;
}

function domainState(d: PilotDomain, experts: readonly string[], dim: number | undefined): DomainState {
  if (typeof d.name !== 'string' || d.name === '') throw new RouterRetrieverError('INVALID_INPUT', 'Every domain needs a name.');
  if (d.queryEmbeddings.length === 0) throw new RouterRetrieverError('INVALID_INPUT', `Domain "${d.name}" has no training queries.`);
  d.queryEmbeddings.forEach((v, i) => checkVector(v, dim ?? d.queryEmbeddings[0].length, `Query embedding ${i} of domain "${d.name}"`));
  const scores = new Map<string, Float64Array>();
  for (const e of experts) scores.set(e, toScores(getScores(d, e), d.queryEmbeddings.length, e, d.name));
  return { name: d.name, queryEmbeddings: d.queryEmbeddings, scores };
}

/** Best expert per query (highest score, ties: first in `experts` order); null for a skipped uninformative query. */
function bestExperts(d: DomainState, experts: readonly string[], uninformative: 'first' | 'skip'): (string | null)[] {
  const n = d.queryEmbeddings.length;
  const best: (string | null)[] = new Array<string | null>(n);
  const bestScore = new Float64Array(n).fill(-Infinity);
  const worstScore = new Float64Array(n).fill(Infinity);
  for (const e of experts) {
    const s = d.scores.get(e)!;
    for (let i = 0; i < n; i++) {
      if (s[i] > bestScore[i]) {
        bestScore[i] = s[i];
        best[i] = e;
      }
      if (s[i] < worstScore[i]) worstScore[i] = s[i];
    }
  }
  if (uninformative === 'skip' && experts.length > 1) {
    for (let i = 0; i < n; i++) if (bestScore[i] === worstScore[i]) best[i] = null;
  }
  return best;
}

function sameMembers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Regroups every domain by best expert over `experts`, reusing the centroids of
 * every (expert, domain) group whose member set did not change, recomputing the rest.
 */
function regroup(
  domains: DomainState[],
  experts: string[],
  options: Required<PilotBuildOptions>,
  old: Map<string, Map<string, Group>> | undefined,
  changes: PilotChange[],
): Map<string, Map<string, Group>> {
  const groups = new Map<string, Map<string, Group>>();
  for (const e of experts) groups.set(e, new Map());
  const skip = options.uninformative === 'skip' || options.weighting === 'gain';
  for (const d of domains) {
    const best = bestExperts(d, experts, skip ? 'skip' : 'first');
    const members = new Map<string, number[]>();
    best.forEach((e, i) => {
      if (e === null) return;
      if (!members.has(e)) members.set(e, []);
      members.get(e)!.push(i);
    });
    for (const e of experts) {
      const m = members.get(e);
      const prev = old?.get(e)?.get(d.name);
      if (!m) {
        if (prev) changes.push({ expert: e, domain: d.name, change: 'removed' });
        continue;
      }
      if (prev && sameMembers(prev.members, m)) {
        groups.get(e)!.set(d.name, prev);
        continue;
      }
      const { centroids, assignments } = kmeans(
        m.map((i) => d.queryEmbeddings[i]),
        options.k,
        { seed: options.seed, iters: options.iters },
      );
      groups.get(e)!.set(d.name, { members: m, centroids, assignments });
      if (old) changes.push({ expert: e, domain: d.name, change: prev ? 'recomputed' : 'added' });
    }
  }
  return groups;
}

function normOptions(o: PilotBuildOptions): Required<PilotBuildOptions> {
  const k = o.k ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new RouterRetrieverError('INVALID_INPUT', `k must be a positive integer, got ${k}.`);
  const uninformative = o.uninformative ?? 'first';
  if (uninformative !== 'first' && uninformative !== 'skip') {
    throw new RouterRetrieverError('INVALID_INPUT', `uninformative must be 'first' or 'skip', got ${String(uninformative)}.`);
  }
  const weighting = o.weighting ?? 'none';
  if (weighting !== 'none' && weighting !== 'gain' && weighting !== 'size') {
    throw new RouterRetrieverError('INVALID_INPUT', `weighting must be 'none', 'gain' or 'size', got ${String(weighting)}.`);
  }
  return { k, seed: o.seed ?? 0, iters: o.iters ?? 50, uninformative, weighting };
}

function checkExperts(experts: readonly string[]): void {
  if (experts.length === 0) throw new RouterRetrieverError('INVALID_INPUT', 'The pilot library needs at least one expert.');
  const seen = new Set<string>();
  for (const e of experts) {
    if (typeof e !== 'string' || e === '') throw new RouterRetrieverError('INVALID_INPUT', 'Expert names must be non-empty strings.');
    if (seen.has(e)) throw new RouterRetrieverError('INVALID_INPUT', `Expert "${e}" is listed twice.`);
    seen.add(e);
  }
}

function checkDim(domains: readonly { queryEmbeddings: readonly Float32Array[] }[]): number {
  const dim = domains[0].queryEmbeddings[0]?.length;
  for (const d of domains) for (const v of d.queryEmbeddings) if (v.length !== dim) {
    throw new RouterRetrieverError('INVALID_INPUT', `Query embeddings have different dimensions (${v.length} vs ${dim}).`);
  }
  return dim;
}

/**
 * The paper's pilot library (RouterRetriever, "pilot embedding library"):
 * for every domain and every training query, the best expert by score (ties: the
 * first expert in `experts` order); queries are grouped by best expert and each
 * non-empty group contributes k-means centroid(s) (k = 1: the exact mean) of its
 * BASE-encoder query embeddings to that expert's pilots. Pilots are ordered by
 * domain order, then centroid index. At most experts x domains pilots for k = 1.
 */
export function buildPilotLibrary(
  experts: readonly string[],
  domains: readonly PilotDomain[],
  options: PilotBuildOptions = {},
): PilotLibraryState {
  checkExperts(experts);
  if (domains.length === 0) throw new RouterRetrieverError('INVALID_INPUT', 'The pilot library needs at least one domain.');
  const names = new Set<string>();
  for (const d of domains) {
    if (names.has(d.name)) throw new RouterRetrieverError('INVALID_INPUT', `Domain "${d.name}" is listed twice.`);
    names.add(d.name);
  }
  const opts = normOptions(options);
  const states = domains.map((d) => domainState(d, experts, undefined));
  checkDim(states);
  const list = [...experts];
  return { experts: list, domains: states, options: opts, groups: regroup(states, list, opts, undefined, []) };
}

/**
 * Per-query gain of `expert` on one domain: its score minus the mean score of `experts`
 * on that query, floored at 0 (a pure function of the scores; golden-tested).
 */
export function queryGains(scores: ReadonlyMap<string, ArrayLike<number>>, experts: readonly string[], expert: string): Float64Array {
  const own = scores.get(expert);
  if (!own) throw new RouterRetrieverError('INVALID_INPUT', `No scores for expert "${expert}".`, { expert });
  const n = own.length;
  const mean = new Float64Array(n);
  for (const e of experts) {
    const s = scores.get(e);
    if (!s || s.length !== n) throw new RouterRetrieverError('INVALID_INPUT', `Scores of expert "${e}" are missing or misaligned.`, { expert: e });
    for (let i = 0; i < n; i++) mean[i] += s[i];
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const g = own[i] - mean[i] / experts.length;
    out[i] = g > 0 ? g : 0;
  }
  return out;
}

/**
 * Weighted mean of vectors (float64 accumulation, one float32 rounding); null when the
 * weights sum to 0. Pure; golden-tested.
 */
export function weightedMean(vectors: readonly Float32Array[], weights: ArrayLike<number>): Float32Array | null {
  if (vectors.length !== weights.length) throw new RouterRetrieverError('INVALID_INPUT', `${vectors.length} vectors but ${weights.length} weights.`);
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    if (!(weights[i] >= 0) || !Number.isFinite(weights[i])) throw new RouterRetrieverError('INVALID_INPUT', `Weight ${i} must be a finite number >= 0.`);
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

export interface AddExpertOptions {
  /**
   * 'regroup' (default): the new expert joins the best-expert choice (placed LAST
   * in the order, so it wins a query only when STRICTLY better than every existing
   * expert); every domain is regrouped. The new expert's groups are computed; an
   * existing expert's group is recomputed only if it lost queries to the new one;
   * all other pilots stay the very same arrays. The result equals a full rebuild
   * with the new expert appended to the order.
   * 'append': the literal "adding an expert computes only its own pilots": the new
   * expert gets the queries where it is strictly better than the current best;
   * no existing pilot changes (existing groups keep those queries too).
   */
  mode?: 'regroup' | 'append';
  /**
   * A new training domain brought with the expert (usually its own training
   * queries), with scores for ALL experts including the new one.
   */
  domain?: PilotDomain;
}

/**
 * Adds an expert: only the NEW expert needs scoring, on each existing domain's
 * training queries (`scores`: domain name -> per-query scores). Returns a new state
 * (the input is not modified) and the list of (expert, domain) pilots that changed.
 */
export function addExpert(
  state: PilotLibraryState,
  expert: string,
  scores: ReadonlyMap<string, ArrayLike<number>> | Readonly<Record<string, ArrayLike<number>>>,
  options: AddExpertOptions = {},
): { state: PilotLibraryState; changes: PilotChange[] } {
  if (state.experts.includes(expert)) throw new RouterRetrieverError('INVALID_INPUT', `Expert "${expert}" is already in the library.`);
  checkExperts([...state.experts, expert]);
  const experts = [...state.experts, expert];
  const getS = (name: string) => getScores({ name, queryEmbeddings: [], scores }, name);
  const domains: DomainState[] = state.domains.map((d) => {
    const s = new Map(d.scores);
    s.set(expert, toScores(getS(d.name), d.queryEmbeddings.length, expert, d.name));
    return { ...d, scores: s };
  });
  if (options.domain) {
    if (domains.some((d) => d.name === options.domain!.name)) {
      throw new RouterRetrieverError('INVALID_INPUT', `Domain "${options.domain.name}" is already in the library.`);
    }
    domains.push(domainState(options.domain, experts, domains[0]?.queryEmbeddings[0]?.length));
  }
  const changes: PilotChange[] = [];
  const mode = options.mode ?? 'regroup';
  if (mode === 'regroup') {
    const groups = regroup(domains, experts, state.options, withEmpty(state.groups, expert), changes);
    return { state: { experts, domains, options: state.options, groups }, changes };
  }
  // 'append': existing groups untouched, except groups of a newly brought domain.
  const groups = new Map<string, Map<string, Group>>();
  for (const [e, g] of state.groups) groups.set(e, new Map(g));
  groups.set(expert, new Map());
  for (const d of domains) {
    const isNew = !state.domains.some((x) => x.name === d.name);
    if (isNew) {
      const fresh = regroup([d], experts, state.options, undefined, []);
      for (const [e, g] of fresh) {
        const grp = g.get(d.name);
        if (grp) {
          groups.get(e)!.set(d.name, grp);
          changes.push({ expert: e, domain: d.name, change: 'added' });
        }
      }
      continue;
    }
    // Scores of the current best (any of the tied ones when all tie): the new expert must beat it.
    const best = bestExperts(d, state.experts, 'first');
    const mine: number[] = [];
    const s = d.scores.get(expert)!;
    best.forEach((e, i) => {
      if (s[i] > d.scores.get(e!)![i]) mine.push(i);
    });
    if (mine.length === 0) continue;
    const { centroids, assignments } = kmeans(mine.map((i) => d.queryEmbeddings[i]), state.options.k, state.options);
    groups.get(expert)!.set(d.name, { members: mine, centroids, assignments });
    changes.push({ expert, domain: d.name, change: 'added' });
  }
  return { state: { experts, domains, options: state.options, groups }, changes };
}

function withEmpty(groups: Map<string, Map<string, Group>>, expert: string): Map<string, Map<string, Group>> {
  const g = new Map(groups);
  g.set(expert, new Map());
  return g;
}

/**
 * Removes an expert. 'drop' (default, the paper: "removing = drop its pilot
 * embeddings"): its pilots go, nothing else changes. 'regroup': its queries go to
 * their next-best expert and only the groups that gained queries are recomputed
 * (equals a full rebuild without the expert). Domain scores of the expert are dropped.
 */
export function removeExpert(
  state: PilotLibraryState,
  expert: string,
  options: { mode?: 'drop' | 'regroup' } = {},
): { state: PilotLibraryState; changes: PilotChange[] } {
  if (!state.experts.includes(expert)) throw new RouterRetrieverError('NOT_FOUND', `Expert "${expert}" is not in the pilot library.`);
  const experts = state.experts.filter((e) => e !== expert);
  if (experts.length === 0) throw new RouterRetrieverError('INVALID_INPUT', 'Cannot remove the last expert of the pilot library.');
  const domains = state.domains.map((d) => {
    const s = new Map(d.scores);
    s.delete(expert);
    return { ...d, scores: s };
  });
  const changes: PilotChange[] = [];
  for (const dname of state.groups.get(expert)?.keys() ?? []) changes.push({ expert, domain: dname, change: 'removed' });
  if ((options.mode ?? 'drop') === 'regroup') {
    const old = new Map(state.groups);
    old.delete(expert);
    const groups = regroup(domains, experts, state.options, old, changes);
    return { state: { experts, domains, options: state.options, groups }, changes };
  }
  const groups = new Map(state.groups);
  groups.delete(expert);
  return { state: { experts, domains, options: state.options, groups }, changes };
}
