import { describe, expect, it } from 'vitest';
import { fuse, minMax } from '../src/hybrid/fusion.js';

const dense = [
  { id: 'a', score: 0.9 },
  { id: 'b', score: 0.7 },
  { id: 'c', score: 0.5 },
];
const lexical = [
  { id: 'c', score: 12 },
  { id: 'd', score: 8 },
  { id: 'a', score: 4 },
];

describe('fusion', () => {
  it('min-max normalises (a constant list is all 1)', () => {
    expect(minMax([4, 8, 12])).toEqual([0, 0.5, 1]);
    expect(minMax([3, 3])).toEqual([1, 1]);
    expect(minMax([])).toEqual([]);
  });

  it('convex: (1 - w) * dense + w * lexical over min-max scores, a missing side 0 (worked by hand)', () => {
    // dense norm: a 1, b 0.5, c 0; lexical norm: c 1, d 0.5, a 0; w = 0.4
    // a 0.6, b 0.3, c 0.4, d 0.2
    const out = fuse(dense, lexical, 10, { method: 'convex', weight: 0.4 });
    expect(out.map((h) => h.id)).toEqual(['a', 'c', 'b', 'd']);
    expect(out.map((h) => h.score)).toEqual([0.6, 0.4, 0.3, 0.2].map((x) => expect.closeTo(x, 12)));
    expect(out[0]).toMatchObject({ dense: 0.9, lexical: 4 });
    expect(out[2]).toMatchObject({ dense: 0.7, lexical: null });
    expect(
      fuse(dense, lexical, 10, { method: 'convex', weight: 0 })
        .map((h) => h.id)
        .slice(0, 3),
    ).toEqual(['a', 'b', 'c']);
    expect(fuse(dense, lexical, 2, { method: 'convex', weight: 1 }).map((h) => h.id)).toEqual(['c', 'd']);
  });

  it('rrf: weighted reciprocal ranks, k = 60 (worked by hand), ties by id', () => {
    const out = fuse(dense, lexical, 10, { method: 'rrf', weight: 0.5 });
    // a: 0.5/61 + 0.5/63, c: 0.5/63 + 0.5/61 (tie, id order), b: 0.5/62, d: 0.5/62 (tie)
    expect(out.map((h) => h.id)).toEqual(['a', 'c', 'b', 'd']);
    expect(out[0].score).toBeCloseTo(0.5 / 61 + 0.5 / 63, 14);
    expect(out[2].score).toBeCloseTo(0.5 / 62, 14);
  });

  it('takes only the top `depth` of each list', () => {
    const out = fuse(dense, lexical, 10, { method: 'convex', weight: 0.5, depth: 1 });
    expect(out.map((h) => h.id)).toEqual(['a', 'c']);
  });
});
