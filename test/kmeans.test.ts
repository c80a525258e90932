import { describe, expect, it } from 'vitest';
import { kmeans } from '../src/router/index.js';

const f = (...x: number[]) => new Float32Array(x);

describe('kmeans', () => {
  it('k = 1 is the exact centroid (float64 mean, one rounding)', () => {
    const { centroids, assignments } = kmeans([f(1, 2), f(2, 4), f(4, 0.5)], 1);
    expect(Array.from(centroids[0])).toEqual([7 / 3, 6.5 / 3].map(Math.fround));
    expect(assignments).toEqual([0, 0, 0]);
  });
  it('separates two obvious clusters and is deterministic for a seed', () => {
    const pts = [f(0, 0), f(0, 1), f(1, 0), f(10, 10), f(10, 11), f(11, 10)];
    const a = kmeans(pts, 2, { seed: 42 });
    const b = kmeans(pts, 2, { seed: 42 });
    expect(a).toEqual(b);
    const sorted = a.centroids.map((c) => Array.from(c)).sort((x, y) => x[0] - y[0]);
    expect(sorted).toEqual([[1 / 3, 1 / 3].map(Math.fround), [31 / 3, 31 / 3].map(Math.fround)]);
    expect(a.assignments[0]).toBe(a.assignments[1]);
    expect(a.assignments[0]).not.toBe(a.assignments[3]);
    expect(new Set(a.assignments.slice(3)).size).toBe(1);
  });
  it('clamps k to n, handles identical points', () => {
    expect(kmeans([f(1, 1), f(2, 2)], 5).centroids).toHaveLength(2);
    const same = kmeans([f(1, 1), f(1, 1), f(1, 1)], 2, { seed: 3 });
    expect(same.centroids.map((c) => Array.from(c))).toEqual([
      [1, 1],
      [1, 1],
    ]);
  });
  it('rejects bad k, mixed dims and NaN', () => {
    expect(() => kmeans([f(1)], 0)).toThrow(/positive integer/);
    expect(() => kmeans([f(1), f(1, 2)], 1)).toThrow(/dimensions/);
    expect(() => kmeans([f(NaN)], 1)).toThrow(/non-finite/);
    expect(() => kmeans([], 1)).toThrow(/at least one/);
  });
});
