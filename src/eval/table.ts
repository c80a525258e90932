/**
 * The evaluation table: oracles from per-query scores, routing accuracy, the
 * JSON result shape kept under bench/results/, and the paper-style markdown.
 *
 * Method names: `bm25`, `base`, `hybrid-base`, `expert:<name>`, `dataset-router`, `router-mean`,
 * `router-max`, `router` (abstaining), `hybrid-router`, `dataset-oracle`, `instance-oracle`.
 *
 * Oracles (over the expert rows only, like the paper):
 * - DatasetOracle: per dataset, the expert with the best MEAN nDCG@10 on that
 *   dataset's evaluated queries; the row reports that expert's metrics.
 * - InstanceOracle: per query, the expert with the best nDCG@10 for that query;
 *   the row reports that expert's metrics for the query (recall and MRR too).
 * Ties go to the first expert in the given order (as the pilot library does).
 */
import { METRIC_KEYS, meanMetrics, type MetricKey, type QueryMetrics } from './metrics.js';

export const METHOD_ORDER = [
  'bm25',
  'base',
  'hybrid-base',
  'expert:',
  'dataset-router',
  'router-mean',
  'router-max',
  'router',
  'hybrid-router',
  'dataset-oracle',
  'instance-oracle',
] as const;

/** dataset -> queryId -> metrics. */
export type PerQueryScores = Map<string, Map<string, QueryMetrics>>;

/** One row before averaging. */
export interface MethodScores {
  method: string;
  perQuery: PerQueryScores;
}

/** Per dataset metric means, plus "avg" (mean over datasets; null when a dataset is missing). */
export type MetricRow = Record<string, number | null>;

export interface ResultRow {
  method: string;
  ndcg_at_10: MetricRow;
  recall_at_100: MetricRow;
  mrr_at_10: MetricRow;
  /** Evaluated queries per dataset. */
  num_queries: Record<string, number>;
}

export interface RoutingAccuracy {
  method: string;
  /** dataset -> accuracy; "avg" = mean over datasets. */
  exact: Record<string, number>;
  /** Routed expert's nDCG@10 equals the best expert's (ties count as hits). */
  tie_aware: Record<string, number>;
}

export interface ResultJson {
  datasets: string[];
  rows: ResultRow[];
  /** Which qrels each dataset was scored on, e.g. "qrels/test.tsv". */
  splits?: Record<string, string>;
  routing_accuracy?: RoutingAccuracy[];
  meta?: Record<string, unknown>;
}

/** The expert name of an `expert:<name>` method, else null. */
export function expertOf(method: string): string | null {
  return method.startsWith('expert:') ? method.slice('expert:'.length) : null;
}

/** Sort methods into the table's canonical order (experts in given order). */
export function methodRank(method: string): number {
  // biome-ignore lint/complexity/useIndexOf: 'expert:' matches by prefix, so this is no plain lookup
  const i = METHOD_ORDER.findIndex((m) => (m.endsWith(':') ? method.startsWith(m) : method === m));
  return i < 0 ? METHOD_ORDER.length : i;
}

/** DatasetOracle from the expert rows (expert name -> scores). */
export function datasetOracle(
  experts: ReadonlyMap<string, PerQueryScores>,
): MethodScores & { chosen: Map<string, string> } {
  const perQuery: PerQueryScores = new Map();
  const chosen = new Map<string, string>();
  for (const dataset of datasetsOf(experts)) {
    let best: string | null = null;
    let bestMean = -Infinity;
    for (const [name, scores] of experts) {
      const q = scores.get(dataset);
      if (!q) continue;
      const m = meanMetrics(q.values()).ndcg_at_10;
      if (m > bestMean) {
        bestMean = m;
        best = name;
      }
    }
    if (best !== null) {
      chosen.set(dataset, best);
      perQuery.set(dataset, experts.get(best)!.get(dataset)!);
    }
  }
  return { method: 'dataset-oracle', perQuery, chosen };
}

/**
 * InstanceOracle from the expert rows. `best` gives, per dataset and query, every
 * expert that reaches the best nDCG@10 (first = the one the row uses).
 */
export function instanceOracle(
  experts: ReadonlyMap<string, PerQueryScores>,
): MethodScores & { best: Map<string, Map<string, string[]>> } {
  const perQuery: PerQueryScores = new Map();
  const best = new Map<string, Map<string, string[]>>();
  for (const dataset of datasetsOf(experts)) {
    const rows = new Map<string, QueryMetrics>();
    const bestOf = new Map<string, string[]>();
    const queryIds = new Set<string>();
    for (const scores of experts.values()) for (const qid of scores.get(dataset)?.keys() ?? []) queryIds.add(qid);
    for (const qid of queryIds) {
      let top: QueryMetrics | null = null;
      let names: string[] = [];
      for (const [name, scores] of experts) {
        const m = scores.get(dataset)?.get(qid);
        if (!m) continue;
        if (!top || m.ndcg_at_10 > top.ndcg_at_10) {
          top = m;
          names = [name];
        } else if (m.ndcg_at_10 === top.ndcg_at_10) names.push(name);
      }
      if (top) {
        rows.set(qid, top);
        bestOf.set(qid, names);
      }
    }
    perQuery.set(dataset, rows);
    best.set(dataset, bestOf);
  }
  return { method: 'instance-oracle', perQuery, best };
}

/**
 * Routing accuracy of per-query decisions (dataset -> queryId -> expert) against
 * the InstanceOracle's best experts. `exact`: the routed expert is the oracle's
 * first best; `tie_aware`: it is any of the best.
 */
export function routingAccuracy(
  method: string,
  decisions: ReadonlyMap<string, ReadonlyMap<string, string>>,
  oracleBest: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>,
): RoutingAccuracy {
  const exact: Record<string, number> = {};
  const tie: Record<string, number> = {};
  const ds: string[] = [];
  for (const [dataset, byQuery] of decisions) {
    const best = oracleBest.get(dataset);
    if (!best) continue;
    let n = 0;
    let e = 0;
    let t = 0;
    for (const [qid, expert] of byQuery) {
      const b = best.get(qid);
      if (!b || b.length === 0) continue;
      n++;
      if (b[0] === expert) e++;
      if (b.includes(expert)) t++;
    }
    if (n === 0) continue;
    ds.push(dataset);
    exact[dataset] = e / n;
    tie[dataset] = t / n;
  }
  if (ds.length > 0) {
    exact.avg = ds.reduce((s, d) => s + exact[d], 0) / ds.length;
    tie.avg = ds.reduce((s, d) => s + tie[d], 0) / ds.length;
  }
  return { method, exact, tie_aware: tie };
}

function datasetsOf(experts: ReadonlyMap<string, PerQueryScores>): string[] {
  const s = new Set<string>();
  for (const scores of experts.values()) for (const d of scores.keys()) s.add(d);
  return [...s];
}

/** Average each row per dataset and over datasets into the JSON shape. */
export function buildResultJson(
  datasets: readonly string[],
  rows: readonly MethodScores[],
  extra: Omit<ResultJson, 'datasets' | 'rows'> = {},
): ResultJson {
  const sorted = [...rows]
    .map((r, i) => ({ r, i }))
    .sort((a, b) => methodRank(a.r.method) - methodRank(b.r.method) || a.i - b.i);
  return {
    datasets: [...datasets],
    rows: sorted.map(({ r }) => {
      const row: ResultRow = { method: r.method, ndcg_at_10: {}, recall_at_100: {}, mrr_at_10: {}, num_queries: {} };
      for (const k of METRIC_KEYS) {
        let sum = 0;
        let complete = true;
        for (const d of datasets) {
          const q = r.perQuery.get(d);
          if (!q || q.size === 0) {
            row[k][d] = null;
            complete = false;
            continue;
          }
          const v = meanMetrics(q.values())[k];
          row[k][d] = v;
          sum += v;
        }
        row[k].avg = complete && datasets.length > 0 ? sum / datasets.length : null;
      }
      for (const d of datasets) row.num_queries[d] = r.perQuery.get(d)?.size ?? 0;
      return row;
    }),
    ...extra,
  };
}

const METRIC_TITLES: Record<MetricKey, string> = {
  ndcg_at_10: 'nDCG@10',
  recall_at_100: 'Recall@100',
  mrr_at_10: 'MRR@10',
};

/** The paper-style markdown table for one metric, values x100 with one decimal. */
export function formatMarkdownTable(result: ResultJson, metric: MetricKey = 'ndcg_at_10'): string {
  const cols = [...result.datasets, 'avg'];
  const head = `| ${METRIC_TITLES[metric]} x100 | ${cols.join(' | ')} |`;
  const rule = `|---|${cols.map(() => '---:').join('|')}|`;
  const body = result.rows.map((r) => {
    const cells = cols.map((c) => {
      const v = r[metric][c];
      return v === null || v === undefined ? '-' : (100 * v).toFixed(1);
    });
    return `| ${r.method} | ${cells.join(' | ')} |`;
  });
  return [head, rule, ...body].join('\n');
}

/** Markdown table of routing accuracy (percent). */
export function formatRoutingTable(result: ResultJson): string {
  const acc = result.routing_accuracy ?? [];
  if (acc.length === 0) return '';
  const cols = [...result.datasets, 'avg'];
  const lines = [
    `| routing acc. % (exact / tie-aware) | ${cols.join(' | ')} |`,
    `|---|${cols.map(() => '---:').join('|')}|`,
  ];
  for (const a of acc) {
    const cells = cols.map((c) =>
      a.exact[c] === undefined ? '-' : `${(100 * a.exact[c]).toFixed(1)} / ${(100 * a.tie_aware[c]).toFixed(1)}`,
    );
    lines.push(`| ${a.method} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
