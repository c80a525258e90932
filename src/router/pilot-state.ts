/** The pilot library's data: inputs, options, the builder state kept in IndexedDB, and their checks. */
import { RouterRetrieverError } from '../boundary/errors.js';
import { checkVector } from '../vectors.js';

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

export interface DomainState {
  name: string;
  queryEmbeddings: readonly Float32Array[];
  scores: Map<string, Float64Array>;
}

/** One (expert, domain) group: the query indices it was built from, and its centroid(s). */
export interface Group {
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

export function getScores(d: PilotDomain, expert: string): ArrayLike<number> | undefined {
  const s = d.scores as { get?: unknown };
  return typeof s.get === 'function'
    ? (d.scores as ReadonlyMap<string, ArrayLike<number>>).get(expert)
    : (d.scores as Readonly<Record<string, ArrayLike<number>>>)[expert];
}

export function toScores(
  values: ArrayLike<number> | undefined,
  n: number,
  expert: string,
  domain: string,
): Float64Array {
  if (!values || typeof values.length !== 'number') {
    throw new RouterRetrieverError('INVALID_INPUT', `Domain "${domain}" has no scores for expert "${expert}".`, {
      expert,
      domain,
    });
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
      throw new RouterRetrieverError(
        'INVALID_INPUT',
        `Score ${i} of expert "${expert}" on domain "${domain}" is not finite.`,
      );
    }
  }
  return out;
}

export function domainState(d: PilotDomain, experts: readonly string[], dim: number | undefined): DomainState {
  if (typeof d.name !== 'string' || d.name === '')
    throw new RouterRetrieverError('INVALID_INPUT', 'Every domain needs a name.');
  if (d.queryEmbeddings.length === 0)
    throw new RouterRetrieverError('INVALID_INPUT', `Domain "${d.name}" has no training queries.`);
  d.queryEmbeddings.forEach((v, i) =>
    checkVector(v, dim ?? d.queryEmbeddings[0].length, `Query embedding ${i} of domain "${d.name}"`),
  );
  const scores = new Map<string, Float64Array>();
  for (const e of experts) scores.set(e, toScores(getScores(d, e), d.queryEmbeddings.length, e, d.name));
  return { name: d.name, queryEmbeddings: d.queryEmbeddings, scores };
}

export function normOptions(o: PilotBuildOptions): Required<PilotBuildOptions> {
  const k = o.k ?? 1;
  if (!Number.isInteger(k) || k < 1)
    throw new RouterRetrieverError('INVALID_INPUT', `k must be a positive integer, got ${k}.`);
  const uninformative = o.uninformative ?? 'first';
  if (uninformative !== 'first' && uninformative !== 'skip') {
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      `uninformative must be 'first' or 'skip', got ${String(uninformative)}.`,
    );
  }
  const weighting = o.weighting ?? 'none';
  if (weighting !== 'none' && weighting !== 'gain' && weighting !== 'size') {
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      `weighting must be 'none', 'gain' or 'size', got ${String(weighting)}.`,
    );
  }
  return { k, seed: o.seed ?? 0, iters: o.iters ?? 50, uninformative, weighting };
}

export function checkExperts(experts: readonly string[]): void {
  if (experts.length === 0)
    throw new RouterRetrieverError('INVALID_INPUT', 'The pilot library needs at least one expert.');
  const seen = new Set<string>();
  for (const e of experts) {
    if (typeof e !== 'string' || e === '')
      throw new RouterRetrieverError('INVALID_INPUT', 'Expert names must be non-empty strings.');
    if (seen.has(e)) throw new RouterRetrieverError('INVALID_INPUT', `Expert "${e}" is listed twice.`);
    seen.add(e);
  }
}

export function checkDim(domains: readonly { queryEmbeddings: readonly Float32Array[] }[]): number {
  const dim = domains[0].queryEmbeddings[0]?.length;
  for (const d of domains)
    for (const v of d.queryEmbeddings)
      if (v.length !== dim) {
        throw new RouterRetrieverError(
          'INVALID_INPUT',
          `Query embeddings have different dimensions (${v.length} vs ${dim}).`,
        );
      }
  return dim;
}
