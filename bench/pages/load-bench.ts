/**
 * The page side of bench/load.ts: one load of our encoder worker (then its first query and
 * first expert), or of transformers.js' pipeline, timed here. The Node side orders the runs,
 * clears what each kind of visit must not find cached, and computes the statistics.
 */
import { EncoderClient } from '../../src/encoder-client.js';
import type { LoadProgress } from '../../src/boundary/encoder-api.js';
import { makeTjs, type TjsConfig } from './tjs-pipeline.js';
import { exposeBenchApi, pageEnv } from './expose.js';

const now = () => performance.now();
const MODEL_CACHE = 'router-retriever-models';

export interface OursConfig {
  modelUrl: string;
  expertUrl: string;
  dtype: 'fp32' | 'q8';
  numThreads: number;
  query: string;
}

async function ours(cfg: OursConfig) {
  const client = new EncoderClient();
  const phases: Partial<Record<LoadProgress['phase'], number>> = {};
  try {
    const t0 = now();
    const info = await client.load(
      cfg.modelUrl,
      { device: 'wasm', dtype: cfg.dtype, numThreads: cfg.numThreads, maxLength: 512 },
      (p) => {
        phases[p.phase] ??= now() - t0;
      },
    );
    const loadMs = now() - t0;
    const q = await client.embedQuery(cfg.query, null);
    const ta = now();
    await client.addExpert('A', cfg.expertUrl);
    const addExpertMs = now() - ta;
    return {
      loadMs,
      addExpertMs,
      phases,
      graphSource: info.graphSource,
      graphReason: info.graphReason,
      fingerprint: info.fingerprint,
      query: Array.from(q),
    };
  } finally {
    await client.dispose();
  }
}

async function tjs(cfg: TjsConfig & { query: string }) {
  const t0 = now();
  const { extractor } = await makeTjs(cfg);
  const loadMs = now() - t0;
  const q = (await extractor(cfg.query, { pooling: 'mean', normalize: false })).data as Float32Array;
  await extractor.dispose();
  return { loadMs, query: Array.from(q) };
}

/** Empties every Cache API cache of the origin (a first visit). */
async function clearAll(): Promise<void> {
  for (const k of await caches.keys()) await caches.delete(k);
}

/** Deletes only our built graphs: a repeat visit as it was before graphs were cached. */
async function dropGraphs(): Promise<number> {
  const cache = await caches.open(MODEL_CACHE);
  const urls = (await cache.keys()).map((r) => r.url).filter((u) => u.includes('/.router-retriever-graph/'));
  for (const u of urls) await cache.delete(u);
  return urls.length;
}

const api = {
  ours,
  tjs,
  clearAll,
  dropGraphs,
  env: pageEnv,
};
export type LoadBenchApi = typeof api;
exposeBenchApi(api);
