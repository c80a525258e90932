import { describe, expect, it } from 'vitest';
import type { QueryMetrics } from '../src/eval/metrics.js';
import {
  buildResultJson,
  datasetOracle,
  formatMarkdownTable,
  instanceOracle,
  routingAccuracy,
  type PerQueryScores,
} from '../src/eval/table.js';

const m = (n: number, r = n, mrr = n): QueryMetrics => ({ ndcg_at_10: n, recall_at_100: r, mrr_at_10: mrr });
const scores = (o: Record<string, Record<string, QueryMetrics>>): PerQueryScores =>
  new Map(Object.entries(o).map(([d, q]) => [d, new Map(Object.entries(q))]));

// Two experts, two datasets.
const experts = new Map<string, PerQueryScores>([
  ['a', scores({ d1: { q1: m(1), q2: m(0) }, d2: { x: m(0.2), y: m(0.2) } })],
  ['b', scores({ d1: { q1: m(0.5), q2: m(0.4) }, d2: { x: m(0.2, 0.9), y: m(0.1) } })],
]);

describe('oracles', () => {
  it('DatasetOracle picks the expert with the best mean per dataset (ties: first)', () => {
    const o = datasetOracle(experts);
    expect(o.chosen.get('d1')).toBe('a'); // a 0.5 vs b 0.45
    expect(o.chosen.get('d2')).toBe('a'); // a 0.2 vs b 0.15
    expect(o.perQuery.get('d1')!.get('q2')!.ndcg_at_10).toBe(0);
  });
  it('InstanceOracle picks the best expert per query, keeping its other metrics; reports all tied bests', () => {
    const o = instanceOracle(experts);
    expect(o.perQuery.get('d1')!.get('q1')!.ndcg_at_10).toBe(1);
    expect(o.perQuery.get('d1')!.get('q2')!.ndcg_at_10).toBe(0.4);
    expect(o.best.get('d2')!.get('x')).toEqual(['a', 'b']);
    expect(o.perQuery.get('d2')!.get('x')!.recall_at_100).toBe(0.2); // first best = a
  });
  it('routing accuracy: exact and tie-aware', () => {
    const best = instanceOracle(experts).best;
    const decisions = new Map([
      [
        'd1',
        new Map([
          ['q1', 'a'],
          ['q2', 'a'],
        ]),
      ],
      [
        'd2',
        new Map([
          ['x', 'b'],
          ['y', 'a'],
        ]),
      ],
    ]);
    const acc = routingAccuracy('router-mean', decisions, best);
    expect(acc.exact).toEqual({ d1: 0.5, d2: 0.5, avg: 0.5 });
    expect(acc.tie_aware).toEqual({ d1: 0.5, d2: 1, avg: 0.75 });
  });
});

describe('result JSON and markdown', () => {
  it('averages per dataset then over datasets, orders rows canonically, marks missing cells', () => {
    const rows = [
      { method: 'instance-oracle', perQuery: instanceOracle(experts).perQuery },
      { method: 'expert:a', perQuery: experts.get('a')! },
      { method: 'bm25', perQuery: scores({ d1: { q1: m(0.3), q2: m(0.1) } }) },
    ];
    const j = buildResultJson(['d1', 'd2'], rows);
    expect(j.rows.map((r) => r.method)).toEqual(['bm25', 'expert:a', 'instance-oracle']);
    expect(j.rows[0].ndcg_at_10).toEqual({ d1: 0.2, d2: null, avg: null });
    expect(j.rows[1].ndcg_at_10.d1).toBe(0.5);
    expect(j.rows[1].ndcg_at_10.avg).toBeCloseTo(0.35, 12);
    expect(j.rows[1].num_queries).toEqual({ d1: 2, d2: 2 });
    const md = formatMarkdownTable(j);
    expect(md.split('\n')).toEqual([
      '| nDCG@10 x100 | d1 | d2 | avg |',
      '|---|---:|---:|---:|',
      '| bm25 | 20.0 | - | - |',
      '| expert:a | 50.0 | 20.0 | 35.0 |',
      '| instance-oracle | 70.0 | 20.0 | 45.0 |',
    ]);
  });
});
