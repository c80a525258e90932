/** mulberry32: a small, fast, seeded PRNG returning floats in [0, 1). Deterministic across platforms. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Indices of a deterministic sample of `m` out of `n` (partial Fisher-Yates), in sampled order. */
export function sampleIndices(n: number, m: number, seed: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  if (m >= n) return idx;
  const rand = mulberry32(seed);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(rand() * (n - i));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.slice(0, m);
}
