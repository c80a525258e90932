/**
 * The routers' rows of the evaluation: each test query's base embedding is routed, and the
 * chosen encoder's own score for the query is the row's score (identical to that encoder's row).
 * - dataset-router: the trained DatasetRouter; router-mean / router-max: the pilot library.
 * - router: the abstaining router (src/router/abstain.ts), the SDK's default routing: an expert,
 *   or the base encoder ('base').
 */
import type { AbstainRule } from '../router/abstain.js';
import { decideRoute } from '../router/abstain.js';
import type { DatasetRouter } from '../router/dataset-router.js';
import { routeMax, routeMean, type PilotLibrary } from '../router/route.js';
import type { RoutingRecord } from './eval-config.js';
import type { QueryMetrics } from './metrics.js';
import type { RouterMethod } from './methods.js';
import { routingAccuracy, type PerQueryScores, type RoutingAccuracy } from './table.js';

/** The encoder a router sends a query to: an expert name, or 'base'. */
export type Decide = (q: Float32Array) => { expert: string; scores?: Record<string, number> };

/** The abstaining router as a decision: an expert, else 'base'; scores are the kNN gains. */
export function abstainDecide(rule: AbstainRule, experts: readonly string[]): Decide {
  const allowed = new Set(experts);
  return (q) => {
    const d = decideRoute(q, rule, allowed);
    return { expert: d.expert ?? 'base', scores: d.gains };
  };
}

export interface RouterRowsInput {
  routers: readonly RouterMethod[];
  states: readonly { name: string; testIds: readonly string[]; baseTest: Float32Array | null }[];
  dim: number;
  pilots: PilotLibrary | null;
  dsRouter: DatasetRouter | null;
  rule: AbstainRule | null;
  routeExperts: readonly string[];
  /** encoder ('base' or an expert) -> dataset -> query id -> metrics. */
  scoresOf: (encoder: string) => PerQueryScores | undefined;
  oracleBest: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;
}

export function computeRouterRows(p: RouterRowsInput): {
  rows: Map<string, PerQueryScores>;
  routing: RoutingRecord[];
  accuracies: RoutingAccuracy[];
} {
  const rows = new Map<string, PerQueryScores>();
  const routing: RoutingRecord[] = [];
  const accuracies: RoutingAccuracy[] = [];
  for (const kind of p.routers) {
    const decide: Decide =
      kind === 'dataset-router'
        ? (q) => p.dsRouter!.route(q)
        : kind === 'router'
          ? abstainDecide(p.rule!, p.routeExperts)
          : kind === 'router-mean'
            ? (q) => routeMean(q, p.pilots!)
            : (q) => routeMax(q, p.pilots!);
    const decisions = new Map<string, Map<string, string>>();
    const perQuery: PerQueryScores = new Map();
    for (const s of p.states) {
      const byQuery = new Map<string, string>();
      const scores = new Map<string, QueryMetrics>();
      s.testIds.forEach((qid, i) => {
        const d = decide(s.baseTest!.subarray(i * p.dim, (i + 1) * p.dim));
        const m = p.scoresOf(d.expert)?.get(s.name)?.get(qid);
        if (!m) return; // no relevant document: not scored (as every other row)
        byQuery.set(qid, d.expert);
        scores.set(qid, m);
        routing.push({
          dataset: s.name,
          query_id: qid,
          method: kind,
          expert: d.expert,
          scores: d.scores,
          oracle_best: [...(p.oracleBest.get(s.name)?.get(qid) ?? [])],
          ndcg_at_10: m.ndcg_at_10,
        });
      });
      decisions.set(s.name, byQuery);
      perQuery.set(s.name, scores);
    }
    rows.set(kind, perQuery);
    accuracies.push(routingAccuracy(kind, decisions, p.oracleBest));
  }
  return { rows, routing, accuracies };
}
