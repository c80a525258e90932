/**
 * Length bucketing: texts are sorted by token count and cut into batches, so a batch
 * pads to the length of its own longest text rather than the longest of all.
 * Results are scattered back to input order by the caller using `indices`.
 */
export interface Batch {
  /** Positions in the input, shortest first within the plan. */
  indices: number[];
  /** Padded sequence length of this batch. */
  seqLen: number;
}

export interface BatchPlanOptions {
  /** Most texts per batch. */
  batchSize: number;
  /** Most tokens (rows x padded length) per batch, to bound memory on long texts. */
  maxTokens?: number;
}

export function planBatches(lengths: ArrayLike<number>, options: BatchPlanOptions): Batch[] {
  const { batchSize } = options;
  const maxTokens = options.maxTokens ?? Infinity;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const order = Array.from({ length: lengths.length }, (_, i) => i);
  // Stable sort by length: equal lengths keep input order, so plans are deterministic.
  order.sort((a, b) => lengths[a] - lengths[b] || a - b);
  const batches: Batch[] = [];
  let current: number[] = [];
  let currentMax = 0;
  for (const i of order) {
    const len = lengths[i];
    const nextMax = Math.max(currentMax, len);
    if (current.length > 0 && (current.length >= batchSize || nextMax * (current.length + 1) > maxTokens)) {
      batches.push({ indices: current, seqLen: currentMax });
      current = [];
      currentMax = 0;
    }
    current.push(i);
    currentMax = Math.max(currentMax, len);
  }
  if (current.length > 0) batches.push({ indices: current, seqLen: currentMax });
  return batches;
}

/** Rate and ETA for progress reports. */
export function progressOf(
  done: number,
  total: number,
  elapsedMs: number,
): { done: number; total: number; docsPerSec: number; etaSec: number | null } {
  const docsPerSec = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const etaSec = done > 0 && docsPerSec > 0 ? (total - done) / docsPerSec : null;
  return { done, total, docsPerSec, etaSec };
}
