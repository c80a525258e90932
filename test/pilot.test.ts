import { describe, expect, it } from 'vitest';
import {
  addExpert,
  buildPilotLibrary,
  queryGains,
  weightedMean,
  pilotsOf,
  removeExpert,
  routeMax,
  routeMean,
  type PilotDomain,
} from '../src/router/index.js';
import type { VectorChunk } from '../src/search/index.js';
import { DenseCorpus } from '../src/eval/dense.js';
import { scoreQueries } from '../src/eval/query-scores.js';

const f = (...x: number[]) => new Float32Array(x);
const arr = (lib: Map<string, Float32Array[]>) =>
  Object.fromEntries([...lib].map(([e, l]) => [e, l.map((v) => Array.from(v))]));

/*
 * Hand-checkable toy: 2 domains, 3 experts, 2-d base query embeddings.
 * Domain A: a1=(1,0) a2=(3,0) a3=(0,2) a4=(0,4)
 *   e1 [.5 .6 .1 .2]  e2 [.5 .2 .9 .9]  e3 [.1 .6 .3 .4]
 *   best: a1 e1 (tie e2 -> first), a2 e1 (tie e3 -> first), a3 e2, a4 e2
 *   e1 <- mean(a1,a2) = (2,0);  e2 <- mean(a3,a4) = (0,3)
 * Domain B: b1=(1,1) b2=(2,2) b3=(-1,0)
 *   e1 [0 0 0]  e2 [.3 .1 0]  e3 [.4 .5 0]
 *   best: b1 e3, b2 e3, b3 e1 (three-way tie -> first)
 *   e3 <- (1.5,1.5);  e1 <- (-1,0)
 * Library: e1 [(2,0),(-1,0)]  e2 [(0,3)]  e3 [(1.5,1.5)]
 */
const A: PilotDomain = {
  name: 'A',
  queryEmbeddings: [f(1, 0), f(3, 0), f(0, 2), f(0, 4)],
  scores: { e1: [0.5, 0.6, 0.1, 0.2], e2: [0.5, 0.2, 0.9, 0.9], e3: [0.1, 0.6, 0.3, 0.4] },
};
const B: PilotDomain = {
  name: 'B',
  queryEmbeddings: [f(1, 1), f(2, 2), f(-1, 0)],
  scores: new Map([
    ['e1', [0, 0, 0]],
    ['e2', [0.3, 0.1, 0]],
    ['e3', [0.4, 0.5, 0]],
  ]),
};
const E = ['e1', 'e2', 'e3'];

describe('pilot library (toy with golden numbers)', () => {
  const state = buildPilotLibrary(E, [A, B], { weighting: 'none' }); // the paper's library
  const lib = pilotsOf(state);

  it('groups by best expert with first-expert ties and takes centroids', () => {
    expect(arr(lib)).toEqual({
      e1: [
        [2, 0],
        [-1, 0],
      ],
      e2: [[0, 3]],
      e3: [[1.5, 1.5]],
    });
  });

  it('routes with mean and max (and their difference)', () => {
    // q=(1,0): mean e1 (2-1)/2=0.5, e2 0, e3 1.5 -> e3; max e1 2, e2 0, e3 1.5 -> e1
    expect(routeMean(f(1, 0), lib)).toEqual({ expert: 'e3', scores: { e1: 0.5, e2: 0, e3: 1.5 } });
    expect(routeMax(f(1, 0), lib)).toEqual({ expert: 'e1', scores: { e1: 2, e2: 0, e3: 1.5 } });
    // q=(1,1): e2 3 and e3 3 tie -> e2 (first in order) for both modes
    expect(routeMean(f(1, 1), lib).expert).toBe('e2');
    expect(routeMax(f(1, 1), lib)).toEqual({ expert: 'e2', scores: { e1: 2, e2: 3, e3: 3 } });
  });

  /*
   * Add e4 with A [.5 .7 0 0] (ties e1 on a1 -> stays e1; strictly best on a2),
   * B [0 0 .1] (strictly best on b3).
   * regroup: e1 A {a1} -> (1,0) recomputed; e1 B removed; e4 A {a2} (3,0), e4 B {b3} (-1,0);
   * e2 and e3 untouched (same arrays).
   */
  const e4 = { A: [0.5, 0.7, 0, 0], B: [0, 0, 0.1] };

  it('addExpert (regroup) recomputes only changed groups and equals a full rebuild', () => {
    const { state: s2, changes } = addExpert(state, 'e4', e4);
    const lib2 = pilotsOf(s2);
    expect(arr(lib2)).toEqual({
      e1: [[1, 0]],
      e2: [[0, 3]],
      e3: [[1.5, 1.5]],
      e4: [
        [3, 0],
        [-1, 0],
      ],
    });
    expect(changes).toEqual([
      { expert: 'e1', domain: 'A', change: 'recomputed' },
      { expert: 'e4', domain: 'A', change: 'added' },
      { expert: 'e1', domain: 'B', change: 'removed' },
      { expert: 'e4', domain: 'B', change: 'added' },
    ]);
    expect(lib2.get('e2')![0]).toBe(lib.get('e2')![0]); // not recomputed
    expect(lib2.get('e3')![0]).toBe(lib.get('e3')![0]);
    const full = buildPilotLibrary(
      ['e1', 'e2', 'e3', 'e4'],
      [
        { ...A, scores: { ...(A.scores as Record<string, number[]>), e4: e4.A } },
        { ...B, scores: new Map([...(B.scores as Map<string, number[]>), ['e4', e4.B]]) },
      ],
      { weighting: 'none' },
    );
    expect(arr(pilotsOf(full))).toEqual(arr(lib2));
    expect(arr(pilotsOf(state))).toEqual(arr(lib)); // input state untouched
  });

  it('addExpert (append) adds only the new expert pilots', () => {
    const { state: s2, changes } = addExpert(state, 'e4', e4, { mode: 'append' });
    expect(arr(pilotsOf(s2))).toEqual({
      e1: [
        [2, 0],
        [-1, 0],
      ],
      e2: [[0, 3]],
      e3: [[1.5, 1.5]],
      e4: [
        [3, 0],
        [-1, 0],
      ],
    });
    expect(changes.every((c) => c.expert === 'e4' && c.change === 'added')).toBe(true);
  });

  it('addExpert with its own new domain scores that domain for all experts', () => {
    const C: PilotDomain = {
      name: 'C',
      queryEmbeddings: [f(0, -1), f(0, -3)],
      scores: { e1: [0, 0], e2: [0, 0], e3: [0.2, 0], e4: [0.9, 0.9] },
    };
    const { state: s2 } = addExpert(state, 'e4', e4, { domain: C });
    expect(arr(pilotsOf(s2)).e4).toEqual([
      [3, 0],
      [-1, 0],
      [0, -2],
    ]);
  });

  it('removeExpert drops (default) or regroups', () => {
    expect(arr(pilotsOf(removeExpert(state, 'e2').state))).toEqual({
      e1: [
        [2, 0],
        [-1, 0],
      ],
      e3: [[1.5, 1.5]],
    });
    // regroup: a3 -> e3 (.3 > .1), a4 -> e3 (.4 > .2): e3 gains A (0,3)
    const { state: s2, changes } = removeExpert(state, 'e2', { mode: 'regroup' });
    expect(arr(pilotsOf(s2))).toEqual({
      e1: [
        [2, 0],
        [-1, 0],
      ],
      e3: [
        [0, 3],
        [1.5, 1.5],
      ],
    });
    expect(changes).toEqual([
      { expert: 'e2', domain: 'A', change: 'removed' },
      { expert: 'e3', domain: 'A', change: 'added' },
    ]);
  });

  it('k = 2 centroids per group', () => {
    const s = buildPilotLibrary(E, [A, B], { k: 2, seed: 1, weighting: 'none' });
    const p = arr(pilotsOf(s));
    // e1/A has 2 members -> each its own centroid; e1/B has 1 member -> 1 centroid
    expect(p.e1.slice(0, 2).sort()).toEqual(
      [
        [1, 0],
        [3, 0],
      ].sort(),
    );
    expect(p.e1[2]).toEqual([-1, 0]);
  });

  it('rejects bad input with INVALID_INPUT', () => {
    expect(() => buildPilotLibrary(E, [{ ...A, scores: { e1: [1], e2: [1], e3: [1] } }])).toThrow(
      /4 queries but 1 scores/,
    );
    expect(() => buildPilotLibrary(E, [{ ...A, scores: { e1: [1, 1, 1, 1], e2: [1, 1, 1, 1] } }])).toThrow(
      /no scores for expert "e3"/,
    );
    expect(() => buildPilotLibrary(['e1', 'e1'], [A])).toThrow(/twice/);
    expect(() => addExpert(state, 'e1', {})).toThrow(/already/);
    expect(() => addExpert(state, 'e5', { A: [1, 1, 1, 1] })).toThrow(/no scores/);
  });
});

describe('scoreQueries (per-query nDCG@10 scorer)', () => {
  it('scores each query against the domain corpus', () => {
    const docs: VectorChunk = { dim: 2, vectors: f(1, 0, 0, 1, 0.5, 0.5), ids: ['x', 'y', 'z'] };
    const qrels = [new Map([['x', 1]]), new Map([['y', 1]]), new Map<string, number>()];
    const s = scoreQueries(new DenseCorpus([docs], 2), [f(1, 0), f(1, 0), f(0, 1)], qrels);
    // q1 ranks x first -> 1; q2 ranks x, z, y -> y at rank 3: 1/log2(4) = 0.5; q3 no relevant -> 0
    expect(Array.from(s)).toEqual([1, 0.5, 0]);
  });
  it('with query ids (the eval harness), a document with the query id is dropped before ranking', () => {
    const corpus = new DenseCorpus(['q1', 'y', 'z'], f(1, 0, 0.9, 0.1, 0, 1), 2);
    const qrels = [new Map([['y', 1]])];
    // kept: q1 (the query itself) ranks first, y second -> 1/log2(3); dropped: y first -> 1
    expect(scoreQueries(corpus, [f(1, 0)], qrels)[0]).toBeCloseTo(1 / Math.log2(3), 12);
    expect(scoreQueries(corpus, [f(1, 0)], qrels, { queryIds: ['q1'] })[0]).toBe(1);
    expect(scoreQueries(corpus, [f(1, 0)], qrels, { queryIds: ['q1'], ignoreIdenticalIds: false })[0]).toBeCloseTo(
      1 / Math.log2(3),
      12,
    );
  });
});

describe('buildPilotLibrary: uninformative queries', () => {
  // Domain "d": 3 queries in 2-d. Query 0: both experts score 0 (uninformative);
  // query 1: a wins; query 2: b wins.
  const domain = {
    name: 'd',
    queryEmbeddings: [new Float32Array([10, 10]), new Float32Array([1, 0]), new Float32Array([0, 1])],
    scores: new Map([
      ['a', new Float64Array([0, 0.5, 0.1])],
      ['b', new Float64Array([0, 0.2, 0.9])],
    ]),
  };
  it("'first' (the paper) gives an all-tied query to the first expert", () => {
    const p = pilotsOf(buildPilotLibrary(['a', 'b'], [domain], { weighting: 'none' }));
    expect(Array.from(p.get('a')![0])).toEqual([5.5, 5]); // mean of (10,10) and (1,0)
    expect(Array.from(p.get('b')![0])).toEqual([0, 1]);
  });
  it("'skip' leaves it out of every group", () => {
    const p = pilotsOf(buildPilotLibrary(['a', 'b'], [domain], { uninformative: 'skip', weighting: 'none' }));
    expect(Array.from(p.get('a')![0])).toEqual([1, 0]);
    expect(Array.from(p.get('b')![0])).toEqual([0, 1]);
  });
});

/*
 * Weighted pilots (weighting 'gain', the eval harness's default; 'size'). Toy, 2 experts x, y, 2-d:
 * Domain A: a1=(1,0) a2=(3,0) a3=(0,2); x [1 .5 0], y [0 .5 1]
 *   a1 -> x, gain 1 - .5 = .5;  a2: all tied -> no group;  a3 -> y, gain .5
 * Domain B: b1=(2,2) b2=(4,0); x [.75 0], y [.25 .5]
 *   b1 -> x, gain .75 - .5 = .25;  b2 -> y, gain .5 - .25 = .25
 * gain: x = (.5 (1,0) + .25 (2,2)) / .75 = (4/3, 2/3);  y = (.5 (0,2) + .25 (4,0)) / .75 = (4/3, 4/3)
 * size (skip): x = ((1,0) + (2,2)) / 2 = (1.5, 1);  y = ((0,2) + (4,0)) / 2 = (2, 1)
 * none (paper): x [(1,0), (2,2)], y [(0,2), (4,0)]
 */
describe('weighted pilot library (golden numbers)', () => {
  const WA: PilotDomain = {
    name: 'A',
    queryEmbeddings: [f(1, 0), f(3, 0), f(0, 2)],
    scores: { x: [1, 0.5, 0], y: [0, 0.5, 1] },
  };
  const WB: PilotDomain = { name: 'B', queryEmbeddings: [f(2, 2), f(4, 0)], scores: { x: [0.75, 0], y: [0.25, 0.5] } };
  const close = (v: Float32Array, want: number[]) => want.forEach((w, i) => expect(v[i]).toBeCloseTo(w, 6));

  it('queryGains: score minus the mean over the experts, floored at 0', () => {
    const s = new Map([
      ['x', [1, 0.5, 0]],
      ['y', [0, 0.5, 1]],
      ['z', [0.5, 0.5, 0.5]],
    ]);
    expect(Array.from(queryGains(s, ['x', 'y', 'z'], 'x'))).toEqual([0.5, 0, 0]);
    expect(Array.from(queryGains(s, ['x', 'y'], 'y'))).toEqual([0, 0, 0.5]);
    expect(() => queryGains(s, ['x', 'w'], 'x')).toThrow(/"w"/);
  });

  it('weightedMean: float64 accumulation, null for zero total weight', () => {
    expect(Array.from(weightedMean([f(1, 0), f(3, 4)], [1, 3])!)).toEqual([2.5, 3]);
    expect(weightedMean([f(1, 0)], [0])).toBeNull();
    expect(() => weightedMean([f(1, 0)], [-1])).toThrow(/>= 0/);
  });

  it("'gain': one pilot per expert, centroids weighted by the nDCG@10 their queries gain", () => {
    const lib = pilotsOf(buildPilotLibrary(['x', 'y'], [WA, WB], { weighting: 'gain' }));
    expect(lib.get('x')!.length).toBe(1);
    close(lib.get('x')![0], [4 / 3, 2 / 3]);
    close(lib.get('y')![0], [4 / 3, 4 / 3]);
    // (1,-0.5): x 4/3 - 1/3 = 1, y 4/3 - 2/3 = 2/3 -> x; (0,1): x 2/3, y 4/3 -> y; mean and max agree
    expect(routeMean(f(1, -0.5), lib).expert).toBe('x');
    expect(routeMean(f(0, 1), lib).expert).toBe('y');
    expect(routeMax(f(0, 1), lib)).toEqual(routeMean(f(0, 1), lib));
  });

  it("'size' weighs a group by its number of queries; 'none' is the paper's library", () => {
    const size = pilotsOf(buildPilotLibrary(['x', 'y'], [WA, WB], { weighting: 'size', uninformative: 'skip' }));
    expect(arr(size)).toEqual({ x: [[1.5, 1]], y: [[2, 1]] });
    const none = pilotsOf(buildPilotLibrary(['x', 'y'], [WA, WB], { weighting: 'none', uninformative: 'skip' }));
    expect(arr(none)).toEqual({
      x: [
        [1, 0],
        [2, 2],
      ],
      y: [
        [0, 2],
        [4, 0],
      ],
    });
    // (1,-0.5): paper mean x (1 + 1)/2 = 1, y (-1 + 4)/2 = 1.5 -> y; the gain library says x (above)
    expect(routeMean(f(1, -0.5), none)).toEqual({ expert: 'y', scores: { x: 1, y: 1.5 } });
  });

  it('with k > 1 a centroid weighs its own members; states stored without the option stay unweighted', () => {
    const st = buildPilotLibrary(['x', 'y'], [WA, WB], { k: 2, weighting: 'gain' });
    close(pilotsOf(st).get('x')![0], [4 / 3, 2 / 3]); // one member per group: same as k = 1
    const old = { ...st, options: { ...st.options, weighting: undefined as unknown as 'none' } };
    expect(pilotsOf(old).get('x')!.length).toBe(2);
    expect(() => buildPilotLibrary(['x'], [WA], { weighting: 'mean' as never })).toThrow(/weighting/);
  });
});
