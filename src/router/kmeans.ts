import { RouterRetrieverError } from '../boundary/errors.js';
import { mulberry32 } from './random.js';
import { checkVector } from '../vectors.js';

export interface KMeansOptions {
  /** Seed of the k-means++ initialisation (default 0). */
  seed?: number;
  /** Maximum Lloyd iterations (default 50); stops early when assignments stop changing. */
  iters?: number;
}

export interface KMeansResult {
  centroids: Float32Array[];
  /** Cluster index of every input vector. */
  assignments: number[];
}

function sqDist(a: Float32Array, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return s;
}

/** Exact mean in float64, rounded once to float32. */
export function centroid(vectors: readonly Float32Array[]): Float32Array {
  if (vectors.length === 0) throw new RouterRetrieverError('INVALID_INPUT', 'Cannot take the centroid of no vectors.');
  const dim = vectors[0].length;
  const acc = new Float64Array(dim);
  for (const v of vectors) for (let i = 0; i < dim; i++) acc[i] += v[i];
  const out = new Float32Array(dim);
  for (let i = 0; i < dim; i++) out[i] = acc[i] / vectors.length;
  return out;
}

/**
 * Deterministic k-means (squared Euclidean, as scikit-learn's KMeans used by the
 * authors): k-means++ seeding from a seeded PRNG, then Lloyd iterations with
 * float64 means. k = 1 returns the exact centroid. k is clamped to the number of
 * vectors. An empty cluster keeps its previous centroid. Ties in assignment go to
 * the lower cluster index.
 */
export function kmeans(vectors: readonly Float32Array[], k: number, options: KMeansOptions = {}): KMeansResult {
  if (!Number.isInteger(k) || k < 1)
    throw new RouterRetrieverError('INVALID_INPUT', `k must be a positive integer, got ${k}.`);
  if (vectors.length === 0) throw new RouterRetrieverError('INVALID_INPUT', 'k-means needs at least one vector.');
  const dim = vectors[0].length;
  vectors.forEach((v, i) => checkVector(v, dim, `Vector ${i}`));
  const n = vectors.length;
  if (k === 1) return { centroids: [centroid(vectors)], assignments: new Array<number>(n).fill(0) };
  k = Math.min(k, n);
  const rand = mulberry32(options.seed ?? 0);
  const iters = options.iters ?? 50;

  // k-means++ seeding.
  const centroids: Float32Array[] = [Float32Array.from(vectors[Math.floor(rand() * n)])];
  const d2 = new Float64Array(n).fill(Infinity);
  while (centroids.length < k) {
    const last = centroids[centroids.length - 1];
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d = sqDist(vectors[i], last);
      if (d < d2[i]) d2[i] = d;
      total += d2[i];
    }
    let pick = -1;
    if (total > 0) {
      let t = rand() * total;
      for (let i = 0; i < n; i++) {
        t -= d2[i];
        if (t < 0 && d2[i] > 0) {
          pick = i;
          break;
        }
      }
      if (pick < 0)
        for (let i = n - 1; i >= 0; i--)
          if (d2[i] > 0) {
            pick = i;
            break;
          }
    }
    if (pick < 0) pick = Math.floor(rand() * n); // all points identical
    centroids.push(Float32Array.from(vectors[pick]));
  }

  const assignments = new Array<number>(n).fill(-1);
  for (let it = 0; it < Math.max(1, iters); it++) {
    let changed = false;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bd = Infinity;
      for (let c = 0; c < k; c++) {
        const d = sqDist(vectors[i], centroids[c]);
        if (d < bd) {
          bd = d;
          best = c;
        }
      }
      if (assignments[i] !== best) {
        assignments[i] = best;
        changed = true;
      }
    }
    if (!changed && it > 0) break;
    for (let c = 0; c < k; c++) {
      const members = vectors.filter((_, i) => assignments[i] === c);
      if (members.length > 0) centroids[c] = centroid(members);
    }
  }
  return { centroids, assignments };
}
