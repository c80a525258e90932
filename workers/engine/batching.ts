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

/**
 * Progress of a plan run in order: call the result after batch b is done. The work of a batch is
 * its padded tokens (rows x padded length).
 */
export function progressTracker(plan: readonly Batch[], now: () => number = () => performance.now()) {
  const work = plan.map((b) => b.indices.length * b.seqLen);
  const totalWork = work.reduce((a, w) => a + w, 0);
  const total = plan.reduce((a, b) => a + b.indices.length, 0);
  const t0 = now();
  let done = 0;
  let doneWork = 0;
  return (b: number) => {
    done += plan[b].indices.length;
    doneWork += work[b];
    return progressOf(done, total, now() - t0, { done: doneWork, total: totalWork });
  };
}

/**
 * Rate and ETA for progress reports. The ETA is taken from `work` (done and total padded
 * tokens) when given, since the batches run shortest first: counted in texts, the ETA of a
 * SciFact indexing run said 3 minutes at 56 % with 9 minutes to go.
 */
export function progressOf(
  done: number,
  total: number,
  elapsedMs: number,
  work?: { done: number; total: number },
): { done: number; total: number; docsPerSec: number; etaSec: number | null } {
  const docsPerSec = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  let etaSec: number | null = done > 0 && docsPerSec > 0 ? (total - done) / docsPerSec : null;
  if (work && work.done > 0 && elapsedMs > 0) etaSec = ((work.total - work.done) * elapsedMs) / work.done / 1000;
  return { done, total, docsPerSec, etaSec };
}
