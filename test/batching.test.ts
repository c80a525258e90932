import { describe, expect, it } from 'vitest';
import { planBatches, progressOf, progressTracker } from '../workers/engine/batching.js';

describe('planBatches', () => {
  it('sorts by length (stable), cuts at batchSize, and pads each batch to its own longest text', () => {
    const plan = planBatches([5, 3, 9, 3, 7], { batchSize: 2 });
    expect(plan).toEqual([
      { indices: [1, 3], seqLen: 3 },
      { indices: [0, 4], seqLen: 7 },
      { indices: [2], seqLen: 9 },
    ]);
  });

  it('keeps rows x padded length under maxTokens, a text longer than it alone in its batch', () => {
    const plan = planBatches([4, 4, 4, 10], { batchSize: 8, maxTokens: 9 });
    expect(plan.map((b) => b.indices)).toEqual([[0, 1], [2], [3]]);
  });

  it('refuses a batch size that is not a positive integer', () => {
    expect(() => planBatches([1], { batchSize: 0 })).toThrow(RangeError);
  });
});

describe('progress', () => {
  it('rate from texts; ETA from texts when no work is given', () => {
    expect(progressOf(10, 40, 2000)).toEqual({ done: 10, total: 40, docsPerSec: 5, etaSec: 6 });
    expect(progressOf(0, 40, 0).etaSec).toBeNull();
  });

  it('ETA from padded tokens: shortest-first batches do not make it promise too little', () => {
    // Two texts of 2 tokens, then two of 30: after the short batch, half the texts are done but
    // 4 of 64 padded tokens, so the remaining time is 15x what has passed, not 1x.
    const plan = planBatches([2, 30, 2, 30], { batchSize: 2 });
    let t = 0;
    const step = progressTracker(plan, () => t);
    t = 1000;
    const first = step(0);
    expect(first).toMatchObject({ done: 2, total: 4, docsPerSec: 2 });
    expect(first.etaSec).toBeCloseTo(15, 9);
    t = 16_000;
    expect(step(1)).toMatchObject({ done: 4, total: 4, etaSec: 0 });
  });
});
