/**
 * The pilot library builder (the paper's algorithm) and its incremental updates: group each
 * domain's training queries by best expert, a k-means centroid per group; add or remove an
 * expert recomputing only the groups that change. Types and input checks: ./pilot-state.ts;
 * the routing view (weighting): ./pilot-view.ts.
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import { kmeans } from './kmeans.js';
import {
  checkDim,
  checkExperts,
  domainState,
  getScores,
  normOptions,
  toScores,
  type DomainState,
  type Group,
  type PilotBuildOptions,
  type PilotChange,
  type PilotDomain,
  type PilotLibraryState,
} from './pilot-state.js';

export { queryGains, weightedMean, pilotsOf } from './pilot-view.js';
export type { PilotDomain, PilotBuildOptions, PilotWeighting, PilotLibraryState, PilotChange } from './pilot-state.js';

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
  if (domains.length === 0)
    throw new RouterRetrieverError('INVALID_INPUT', 'The pilot library needs at least one domain.');
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
  if (state.experts.includes(expert))
    throw new RouterRetrieverError('INVALID_INPUT', `Expert "${expert}" is already in the library.`);
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
    const { centroids, assignments } = kmeans(
      mine.map((i) => d.queryEmbeddings[i]),
      state.options.k,
      state.options,
    );
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
  if (!state.experts.includes(expert))
    throw new RouterRetrieverError('NOT_FOUND', `Expert "${expert}" is not in the pilot library.`);
  const experts = state.experts.filter((e) => e !== expert);
  if (experts.length === 0)
    throw new RouterRetrieverError('INVALID_INPUT', 'Cannot remove the last expert of the pilot library.');
  const domains = state.domains.map((d) => {
    const s = new Map(d.scores);
    s.delete(expert);
    return { ...d, scores: s };
  });
  const changes: PilotChange[] = [];
  for (const dname of state.groups.get(expert)?.keys() ?? [])
    changes.push({ expert, domain: dname, change: 'removed' });
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
