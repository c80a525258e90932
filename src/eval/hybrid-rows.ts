/**
 * Hybrid rows of the evaluation: BM25 fused with a dense ranking, per query, with the SDK's own
 * fusion (src/hybrid/fusion.ts), so a row scores what `search()` returns.
 * - `hybrid-base`: BM25 + the base encoder's ranking.
 * - `hybrid-router`: BM25 + the ranking of the encoder the router chose for the query (the
 *   SDK's default search: the abstaining router when there is a rule, else router-mean).
 * The fusion weight is given, or learned on the pilot (training) queries only: the grid point
 * with the best macro mean nDCG@10 over the domains that have such queries. A query fused with
 * the base ranking uses `baseWeight` (hybrid-base's weight), as search() does.
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import { fuse, type FusionMethod } from '../hybrid/fusion.js';
import type { Hit } from '../search/types.js';
import { evaluateQuery, type EvalOptions, type QueryMetrics, type Qrels, type Ranking } from './metrics.js';
import type { PerQueryScores } from './table.js';

/** Lexical weights tried when the weight is learned. */
export const WEIGHT_GRID: readonly number[] = Array.from({ length: 21 }, (_, i) => i / 20);

/** Fusion depth: each side's top 100, as search() fuses. */
const DEPTH = 100;

/** Rankings kept for fusion: dataset -> source ('bm25', 'base' or an expert) -> query id -> ranking. */
export class RankingStore {
  private readonly m = new Map<string, Map<string, Map<string, Ranking>>>();

  set(dataset: string, source: string, qid: string, r: Ranking): void {
    let bySource = this.m.get(dataset);
    if (!bySource) this.m.set(dataset, (bySource = new Map()));
    let byQuery = bySource.get(source);
    if (!byQuery) bySource.set(source, (byQuery = new Map()));
    byQuery.set(qid, { ids: r.ids.slice(0, DEPTH + 1), scores: Array.from(r.scores).slice(0, DEPTH + 1) });
  }

  get(dataset: string, source: string, qid: string): Ranking | undefined {
    return this.m.get(dataset)?.get(source)?.get(qid);
  }
}

export interface QuerySet {
  dataset: string;
  qids: readonly string[];
  qrels: Qrels;
}

/** Which dense ranking a query is fused with ('base' or an expert name). */
export type DenseSource = (dataset: string, qid: string) => string;

/** A fusion: the lexical weight, and the one for a query fused with the base ranking (default `weight`). */
export interface EvalFusion {
  method: FusionMethod;
  weight: number;
  baseWeight?: number;
}

function hits(r: Ranking): Hit[] {
  return r.ids.map((id, i) => ({ id, score: r.scores[i] }));
}

/** The fused ranking of one query (undefined when a side is missing). */
export function fusedRanking(
  rankings: RankingStore,
  dataset: string,
  qid: string,
  dense: string,
  fusion: EvalFusion,
  k: number,
): Ranking | undefined {
  const d = rankings.get(dataset, dense, qid);
  const l = rankings.get(dataset, 'bm25', qid);
  if (!d || !l) return undefined;
  const weight = dense === 'base' ? (fusion.baseWeight ?? fusion.weight) : fusion.weight;
  const fused = fuse(hits(d), hits(l), k, { method: fusion.method, weight, depth: DEPTH });
  return { ids: fused.map((h) => h.id), scores: fused.map((h) => h.score) };
}

/** Per-query metrics of a hybrid row over the given queries. */
export function hybridScores(
  rankings: RankingStore,
  sets: readonly QuerySet[],
  denseOf: DenseSource,
  fusion: EvalFusion,
  k: number,
  evalOpts: EvalOptions,
  /** Keep each fused ranking in `rankings` under this source name (the row's, for its run file). */
  keepAs?: string,
): PerQueryScores {
  const out: PerQueryScores = new Map();
  for (const s of sets) {
    const scores = new Map<string, QueryMetrics>();
    for (const qid of s.qids) {
      const fused = fusedRanking(rankings, s.dataset, qid, denseOf(s.dataset, qid), fusion, k);
      if (fused && keepAs) rankings.set(s.dataset, keepAs, qid, fused);
      const m = evaluateQuery(qid, fused, s.qrels.get(qid)!, evalOpts);
      if (m) scores.set(qid, m);
    }
    out.set(s.dataset, scores);
  }
  return out;
}

/** Macro mean nDCG@10 over datasets (datasets without scored queries are left out). */
export function macroNdcg(scores: PerQueryScores): number {
  const means: number[] = [];
  for (const q of scores.values()) {
    if (q.size === 0) continue;
    let s = 0;
    for (const m of q.values()) s += m.ndcg_at_10;
    means.push(s / q.size);
  }
  return means.length ? means.reduce((a, b) => a + b, 0) / means.length : 0;
}

/**
 * The grid weight with the best macro nDCG@10 on `sets` (the lower weight on ties), and the
 * curve; queries fused with the base ranking keep `baseWeight` when it is given.
 */
export function learnWeight(
  rankings: RankingStore,
  sets: readonly QuerySet[],
  denseOf: DenseSource,
  method: FusionMethod,
  k: number,
  evalOpts: EvalOptions,
  baseWeight?: number,
): { weight: number; curve: [number, number][] } {
  const curve = WEIGHT_GRID.map((w): [number, number] => [
    w,
    macroNdcg(hybridScores(rankings, sets, denseOf, { method, weight: w, baseWeight }, k, evalOpts)),
  ]);
  let best = curve[0];
  for (const c of curve) if (c[1] > best[1] + 1e-12) best = c;
  return { weight: best[0], curve };
}

/** What computeHybridRows needs of each dataset. */
export interface HybridDataset {
  name: string;
  testIds: readonly string[];
  pilotIds: readonly string[];
  testQrels: Qrels;
  pilotQrels: Qrels;
  /** Base-encoder query embeddings, row-major (pilot ones null when not embedded). */
  baseTest: Float32Array | null;
  basePilot: Float32Array | null;
}

/** The hybrid rows on the test queries, each with its weight given or learned on the pilot queries. */
export function computeHybridRows(p: {
  states: readonly HybridDataset[];
  /** The router of hybrid-router: a base query embedding -> 'base' or an expert. */
  route: ((q: Float32Array) => string) | null;
  dim: number;
  hybrids: readonly string[];
  method: FusionMethod;
  weight: number | null;
  /** hybrid-base's weight when given (default `weight`). */
  baseWeight?: number;
  rankings: RankingStore;
  k: number;
  evalOpts: EvalOptions;
  log: (line: string) => void;
}): { rows: Map<string, PerQueryScores>; meta: Record<string, unknown> } {
  const routed = new Map<string, string>(); // dataset + query id -> 'base' or an expert
  const key = (ds: string, qid: string) => `${ds}\u0000${qid}`;
  const row = (flat: Float32Array, i: number) => flat.subarray(i * p.dim, (i + 1) * p.dim);
  const route = p.route;
  if (route) {
    for (const s of p.states) {
      if (s.baseTest) s.testIds.forEach((qid, i) => routed.set(key(s.name, qid), route(row(s.baseTest!, i))));
      if (s.basePilot) s.pilotIds.forEach((qid, i) => routed.set(key(s.name, qid), route(row(s.basePilot!, i))));
    }
  }
  const tests: QuerySet[] = p.states.map((s) => ({ dataset: s.name, qids: s.testIds, qrels: s.testQrels }));
  const pilotSets: QuerySet[] = p.states
    .filter((s) => s.pilotIds.length > 0)
    .map((s) => ({ dataset: s.name, qids: s.pilotIds, qrels: s.pilotQrels }));
  const meta: Record<string, unknown> = { method: p.method };
  const rows = new Map<string, PerQueryScores>();
  // hybrid-base first: its weight is hybrid-router's for the queries that stay on the base.
  let baseWeight = p.weight === null ? undefined : (p.baseWeight ?? p.weight);
  for (const h of [...p.hybrids].sort((a, b) => Number(a !== 'hybrid-base') - Number(b !== 'hybrid-base'))) {
    const denseOf: DenseSource = h === 'hybrid-base' ? () => 'base' : (ds, qid) => routed.get(key(ds, qid))!;
    let weight = h === 'hybrid-base' && p.weight !== null ? (p.baseWeight ?? p.weight) : p.weight;
    if (weight === null) {
      if (pilotSets.length === 0)
        throw new RouterRetrieverError(
          'NOT_FOUND',
          `${h}: no pilot queries to learn the fusion weight from; give --fusion-weight`,
        );
      const learned = learnWeight(
        p.rankings,
        pilotSets,
        denseOf,
        p.method,
        p.k,
        p.evalOpts,
        h === 'hybrid-base' ? undefined : baseWeight,
      );
      weight = learned.weight;
      meta[`${h}_curve`] = learned.curve.map(([w, v]) => [w, Math.round(v * 1e4) / 1e4]);
      p.log(
        `${h}: lexical weight ${weight} learned on ${pilotSets.map((q) => `${q.dataset} (${q.qids.length})`).join(', ')}`,
      );
    }
    if (h === 'hybrid-base') baseWeight = weight;
    meta[`${h}_weight`] = weight;
    const fusion = { method: p.method, weight, baseWeight: h === 'hybrid-base' ? weight : baseWeight };
    rows.set(h, hybridScores(p.rankings, tests, denseOf, fusion, p.k, p.evalOpts, h));
  }
  return { rows, meta };
}
