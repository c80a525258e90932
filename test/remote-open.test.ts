/**
 * open({ index: { url, apiKey } }) end to end in Node: the real encoder (tiny BERT fixture,
 * in-process), fake-indexeddb, and the reference service (PGlite + pgvector over the wire
 * protocol). The same documents searched through the remote index and the local one give the
 * same hits; the service down at open is NETWORK.
 */
import 'fake-indexeddb/auto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRouterRetrieverError } from '../src/boundary/errors.js';
import { RouterRetriever } from '../src/router-retriever.js';
import type { Doc } from '../src/types.js';
import { EncoderEngine } from '../workers/engine/encoder-engine.js';
import { type RunningService, startLocalService } from '../server/service.js';
import { FIXTURES, folderSpec } from './helpers/fixtures.js';

const model = folderSpec(join(FIXTURES, 'tiny-bert'));
const KEY = 'open-test-key';
const WORDS = 'apple banana cherry river mountain ocean protein cell gene market stock bond court law judge'.split(' ');
const docs: Doc[] = Array.from({ length: 120 }, (_, i) => ({
  id: `d${i}`,
  text: `${WORDS[(i * 7) % WORDS.length]} ${WORDS[(i * 3 + 1) % WORDS.length]} ${WORDS[(i * 5 + 2) % WORDS.length]} ${i}`,
  metadata: { topic: WORDS[i % 3], n: i },
}));

describe('RouterRetriever.open with a remote index', () => {
  const engine = new EncoderEngine();
  let svc: RunningService;
  let dim = 0;
  beforeAll(async () => {
    dim = (await engine.load(model, { device: 'wasm' })).dim;
    svc = await startLocalService({ dim, apiKey: KEY, filterable: { topic: 'string', n: 'number' }, efSearch: 400 });
  }, 60_000);
  afterAll(async () => {
    await svc?.stop();
    await engine.dispose();
  });
  const open = (name: string, extra = {}) =>
    RouterRetriever.open({
      name,
      model,
      encoder: engine,
      device: 'wasm',
      filterable: { topic: 'string', n: 'number' },
      ...extra,
    });

  it('answers as the local index does (dense and hybrid, filtered)', async () => {
    const local = await open('local-twin');
    const remote = await open('remote-twin', { index: { url: svc.url, apiKey: KEY } });
    await local.add(docs);
    await remote.add(docs);
    expect(((await (await fetch(`${svc.url}/health`)).json()) as { count: number }).count).toBe(docs.length);
    for (const q of ['apple river', 'court law judge', 'protein gene'])
      for (const options of [
        { mode: 'dense' as const },
        { mode: 'hybrid' as const },
        { mode: 'dense' as const, filter: { topic: 'banana', n: { lt: 60 } } },
      ]) {
        const a = await local.search(q, { k: 8, ...options });
        const b = await remote.search(q, { k: 8, ...options });
        expect(
          b.hits.map((h) => h.id),
          q,
        ).toEqual(a.hits.map((h) => h.id));
        expect(b.hits[0].doc.text).toBe(a.hits[0].doc.text);
      }
    await local.close();
    await remote.close();
  });

  it('is NETWORK at open when the service is down, and MODEL_MISMATCH for another dimension', async () => {
    const err = await open('down', { index: { url: 'http://127.0.0.1:9/' } }).catch((e) => e);
    expect(isRouterRetrieverError(err, 'NETWORK'), String(err)).toBe(true);
    expect(err.message).toMatch(/could not be reached/);
    const other = await startLocalService({ dim: dim + 1 });
    try {
      const mm = await open('mismatch', { index: { url: other.url } }).catch((e) => e);
      expect(isRouterRetrieverError(mm, 'MODEL_MISMATCH'), String(mm)).toBe(true);
    } finally {
      await other.stop();
    }
  });
});
