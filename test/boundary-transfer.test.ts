/**
 * The boundary's comlink handlers over a real MessageChannel (Node's): what the worker sends
 * back is moved, callbacks are proxied, errors keep their code.
 */
import { MessageChannel } from 'node:worker_threads';
import { expose, wrap, type Endpoint } from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { isRouterRetrieverError, RouterRetrieverError } from '../src/boundary/errors.js';
import { installTransferHandlers } from '../src/boundary/transfer.js';

installTransferHandlers();

interface Api {
  whole(n: number): Float32Array;
  view(): Float32Array;
  sum(a: Float32Array): number;
  count(n: number, onStep: (i: number) => void): Promise<number>;
  fail(): void;
}

const kept: { whole: Float32Array[]; big: Float32Array | null } = { whole: [], big: null };
const api: Api = {
  whole(n) {
    const a = new Float32Array(n).map((_v, i) => i + 0.5);
    kept.whole.push(a);
    return a;
  },
  view() {
    kept.big = new Float32Array([1, 2, 3, 4, 5, 6]);
    return kept.big.subarray(2, 4);
  },
  sum: (a) => a.reduce((s, x) => s + x, 0),
  async count(n, onStep) {
    for (let i = 0; i < n; i++) await onStep(i);
    return n;
  },
  fail() {
    throw new RouterRetrieverError('NOT_FOUND', 'No expert named "x".', { name: 'x' });
  },
};

const channels: MessageChannel[] = [];
function connect() {
  const ch = new MessageChannel();
  channels.push(ch);
  expose(api, ch.port1 as unknown as Endpoint);
  return wrap<Api>(ch.port2 as unknown as Endpoint);
}
afterEach(() => {
  for (const ch of channels.splice(0)) {
    ch.port1.close();
    ch.port2.close();
  }
});

describe('boundary transfer handlers', () => {
  it('moves a returned Float32Array: intact on arrival, detached where it came from', async () => {
    const remote = connect();
    const got = await remote.whole(1000);
    expect(got).toBeInstanceOf(Float32Array);
    expect(got.length).toBe(1000);
    expect(got[999]).toBe(999.5);
    expect(kept.whole[0].byteLength).toBe(0);
  });

  it('copies a view into a buffer of its own, leaving the larger buffer where it was', async () => {
    const remote = connect();
    const got = await remote.view();
    expect(Array.from(got)).toEqual([3, 4]);
    expect(got.buffer.byteLength).toBe(8);
    expect(Array.from(kept.big!)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('moves a sent Float32Array too (the sender gives it up)', async () => {
    const remote = connect();
    const a = new Float32Array([1, 2, 3]);
    expect(await remote.sum(a)).toBe(6);
    expect(a.byteLength).toBe(0);
  });

  it('proxies a plain function argument (no comlink.proxy needed)', async () => {
    const remote = connect();
    const seen: number[] = [];
    expect(await remote.count(3, (i) => seen.push(i))).toBe(3);
    expect(seen).toEqual([0, 1, 2]);
  });

  it('keeps the error code and details across', async () => {
    const remote = connect();
    const e = await remote.fail().then(
      () => null,
      (err: unknown) => err,
    );
    expect(isRouterRetrieverError(e, 'NOT_FOUND')).toBe(true);
    expect((e as RouterRetrieverError).details).toEqual({ name: 'x' });
  });
});
