import { describe, expect, it } from 'vitest';
import {
  compareCodePoints,
  evaluateQuery,
  evaluateRun,
  trecOrder,
  type Qrels,
  type Ranking,
} from '../src/eval/metrics.js';

const j = (o: Record<string, number>) => new Map(Object.entries(o));
const r = (pairs: [string, number][]): Ranking => ({ ids: pairs.map((p) => p[0]), scores: pairs.map((p) => p[1]) });
const L = Math.log2;

describe('trec_eval ordering', () => {
  it('sorts by score descending, then document id descending (strcmp)', () => {
    const run = r([
      ['a', 1],
      ['c', 1],
      ['b', 1],
      ['z', 2],
      ['10', 0.5],
      ['9', 0.5],
    ]);
    expect(trecOrder(run).map((i) => run.ids[i])).toEqual(['z', 'c', 'b', 'a', '9', '10']);
  });
  it('ignores the given order of a run', () => {
    const run = r([
      ['x', 0.1],
      ['y', 0.9],
    ]);
    expect(trecOrder(run).map((i) => run.ids[i])).toEqual(['y', 'x']);
  });
  it('compares ids in code point (UTF-8 byte) order', () => {
    expect(compareCodePoints('a', 'b')).toBeLessThan(0);
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0);
    // U+1F600 (surrogate pair in UTF-16) is above U+FFFD in code point / UTF-8 order.
    expect(compareCodePoints('\u{1F600}', '\uFFFD')).toBeGreaterThan(0);
  });
});

describe('nDCG@10 / Recall@100 / MRR@10 (hand-computed)', () => {
  it('graded gains are the rel values, log2(rank+1) discount, ideal from all judged relevant docs', () => {
    const m = evaluateQuery(
      'q',
      r([
        ['d3', 0.9],
        ['d4', 0.8],
        ['d1', 0.7],
        ['x', 0.6],
        ['d2', 0.5],
      ]),
      j({ d1: 3, d2: 2, d3: 1, d4: 0 }),
    )!;
    const dcg = 1 / L(2) + 3 / L(4) + 2 / L(6);
    const idcg = 3 / L(2) + 2 / L(3) + 1 / L(4);
    expect(m.ndcg_at_10).toBeCloseTo(dcg / idcg, 12);
    expect(m.ndcg_at_10).toBeCloseTo(0.6874847125494647, 12);
    expect(m.recall_at_100).toBe(1);
    expect(m.mrr_at_10).toBe(1);
  });

  it('ties: equal scores rank by id descending', () => {
    const m = evaluateQuery(
      'q',
      r([
        ['a', 1],
        ['b', 1],
        ['c', 1],
      ]),
      j({ a: 1 }),
    )!;
    expect(m.ndcg_at_10).toBeCloseTo(1 / L(4), 12); // a is third: c, b, a
    expect(m.mrr_at_10).toBeCloseTo(1 / 3, 12);
    const n = evaluateQuery(
      'q',
      r([
        ['10', 5],
        ['9', 5],
      ]),
      j({ '10': 1 }),
    )!;
    expect(n.ndcg_at_10).toBeCloseTo(0.6309297535714575, 12); // "9" > "10" in strcmp
    expect(n.mrr_at_10).toBe(0.5);
  });

  it('fewer than 10 results: unretrieved relevant docs still count in the ideal DCG', () => {
    const m = evaluateQuery('q', r([['a', 1]]), j({ a: 1, b: 1, c: 1, d: 2 }))!;
    expect(m.ndcg_at_10).toBeCloseTo(1 / (2 + 1 / L(3) + 1 / L(4) + 1 / L(5)), 12);
    expect(m.ndcg_at_10).toBeCloseTo(0.2807721888661444, 12);
    expect(m.recall_at_100).toBe(0.25);
    expect(m.mrr_at_10).toBe(1);
  });

  it('cuts at 10 (nDCG, MRR) and 100 (recall); ideal DCG is cut at 10 too', () => {
    const judg = j(Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`r${i}`, 1])));
    const all = r(Array.from({ length: 12 }, (_, i) => [`r${i}`, 100 - i] as [string, number]));
    expect(evaluateQuery('q', all, judg)!.ndcg_at_10).toBeCloseTo(1, 12);
    const late = r([...Array.from({ length: 10 }, (_, i) => [`n${i}`, 100 - i] as [string, number]), ['r0', 1]]);
    const m = evaluateQuery('q', late, judg)!;
    expect(m.ndcg_at_10).toBe(0);
    expect(m.mrr_at_10).toBe(0);
    expect(m.recall_at_100).toBeCloseTo(1 / 12, 12);
    const deep = r([...Array.from({ length: 100 }, (_, i) => [`n${i}`, 1000 - i] as [string, number]), ['r0', 1]]);
    expect(evaluateQuery('q', deep, judg)!.recall_at_100).toBe(0);
  });

  it("BEIR ignore_identical_ids: the query's own id is dropped before ranking (option)", () => {
    const run = r([
      ['q1', 2],
      ['a', 1],
    ]);
    expect(evaluateQuery('q1', run, j({ a: 1 }))!.ndcg_at_10).toBe(1);
    expect(evaluateQuery('q1', run, j({ a: 1 }), { ignoreIdenticalIds: false })!.ndcg_at_10).toBeCloseTo(1 / L(3), 12);
  });
});

describe('evaluateRun', () => {
  const qrels: Qrels = new Map([
    ['q1', j({ a: 0, b: 0 })], // judged, nothing relevant
    ['q2', j({ a: 1 })],
    ['q3', j({ c: 2 })], // no ranking at all
  ]);
  const run = new Map<string, Ranking>([
    ['q1', r([['a', 1]])],
    [
      'q2',
      r([
        ['a', 1],
        ['b', 0.5],
      ]),
    ],
    ['q9', r([['a', 1]])], // not in qrels: ignored
  ]);

  it('excludes queries without relevant docs from the mean, scores a missing ranking 0', () => {
    const e = evaluateRun(run, qrels);
    expect(e.excluded).toEqual(['q1']);
    expect([...e.perQuery.keys()]).toEqual(['q2', 'q3']);
    expect(e.mean.ndcg_at_10).toBe(0.5);
    expect(e.mean.recall_at_100).toBe(0.5);
    expect(e.mean.mrr_at_10).toBe(0.5);
  });

  it("noRelevant 'zero' counts them as 0 (exact pytrec_eval mean)", () => {
    const e = evaluateRun(run, qrels, { noRelevant: 'zero' });
    expect(e.perQuery.size).toBe(3);
    expect(e.mean.ndcg_at_10).toBeCloseTo(1 / 3, 12);
  });
});
