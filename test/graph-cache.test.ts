import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EncoderEngine } from '../workers/engine/encoder-engine.js';
import {
  checkGraphBytes,
  encodeGraphMeta,
  GRAPH_DIR,
  GRAPH_META_HEADER,
  type GraphEntryMeta,
  type GraphKey,
  graphEntryUrl,
  graphKeyMaterial,
  parseGraphMeta,
  readCachedGraph,
  stableJson,
  storeGraph,
} from '../workers/engine/graph-cache.js';
import { matchTargets } from '../workers/engine/experts.js';
import { loadBaseModel } from '../workers/engine/model-files.js';
import { buildBertGraph, GRAPH_FORMAT_VERSION } from '../workers/model/bert-graph.js';
import { parseBertConfig } from '../workers/model/config.js';
import { sha256Hex } from '../workers/model/sha256.js';
import { f32 } from '../workers/engine/experts.js';
import { FakeCache, FakeCacheStorage } from './helpers/fake-caches.js';
import { FIXTURES, folderSpec, maxAbsDiff } from './helpers/fixtures.js';

const TINY = join(FIXTURES, 'tiny-bert');
const BASE = 'https://models.test/tiny/';
const config = parseBertConfig(JSON.parse(readFileSync(join(TINY, 'config.json'), 'utf8')));
const KEY: GraphKey = {
  weights: `${BASE}model.safetensors 2024544 id-1`,
  configSha256: 'c'.repeat(64),
  config,
  dtype: 'q8',
  baseBranches: true,
  loraTargets: ['query', 'value'],
};

describe('graph cache key', () => {
  it('is stable JSON: the same key whatever the order of its fields', () => {
    expect(stableJson({ b: 1, a: [{ d: 2, c: 3 }], u: undefined })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
    const reordered = Object.fromEntries(Object.entries(KEY).reverse()) as unknown as GraphKey;
    expect(graphEntryUrl(BASE, reordered)).toBe(graphEntryUrl(BASE, KEY));
    expect(graphEntryUrl(BASE, { ...KEY, loraTargets: ['value', 'query'] })).toBe(graphEntryUrl(BASE, KEY));
  });

  it('lives beside the model files, named by format version and dtype', () => {
    expect(graphEntryUrl(BASE, KEY)).toMatch(
      new RegExp(`^${BASE}${GRAPH_DIR.replace('.', '\\.')}v${GRAPH_FORMAT_VERSION}-q8-[0-9a-f]{32}\\.onnx$`),
    );
  });

  it('changes with everything the graph bytes depend on, and with the format version', () => {
    const url = graphEntryUrl(BASE, KEY);
    const variants: GraphKey[] = [
      { ...KEY, weights: `${BASE}model.safetensors 2024544 id-2` },
      { ...KEY, configSha256: 'd'.repeat(64) },
      { ...KEY, dtype: 'fp32' },
      { ...KEY, baseBranches: false },
      { ...KEY, loraTargets: ['query', 'key', 'value'] },
      { ...KEY, config: { ...config, pooling: 'cls' } },
      { ...KEY, config: { ...config, normalize: !config.normalize } },
      { ...KEY, config: { ...config, layerNormEps: 1e-5 } },
    ];
    const urls = new Set(variants.map((k) => graphEntryUrl(BASE, k)));
    expect(urls.size).toBe(variants.length);
    expect(urls.has(url)).toBe(false);
    expect(graphEntryUrl(BASE, KEY, GRAPH_FORMAT_VERSION + 1)).not.toBe(url);
  });

  it('ignores maxLength, which truncates tokens but is not in the graph', () => {
    expect(graphKeyMaterial({ ...KEY, config: { ...config, maxLength: 16 } })).toBe(graphKeyMaterial(KEY));
  });
});

/**
 * SHA-256 of the tiny-bert graph per flavour, by GRAPH_FORMAT_VERSION. When this fails, the
 * builder's output changed: bump GRAPH_FORMAT_VERSION (browsers would otherwise keep serving
 * graphs of the old builder) and add the new hashes under the new version.
 */
const FIXTURE_GRAPHS: Record<number, Record<string, string>> = {
  1: {
    fp32: '67320224760f128d0f88f249f2c01aac96c0ee4415b91b85f0fa5a1a41f477dc',
    'fp32+branches': 'd1cf5b3065dac279c2cdb37f89d8f5f3147792be1e9e4e42f8776c92bd52edb5',
    q8: '7afaf172cd2c245ed1c9d62d21e881e3008d24fcbfee3f1c407827cc70001560',
    'q8+branches': '2501de9667fe09e4249df24ffd1054376c2fbd1c3f171d868d5d09df44e10e0d',
  },
};

describe('GRAPH_FORMAT_VERSION', () => {
  it('is bumped whenever the builder output changes (tiny-bert graph hashes)', async () => {
    const files = await loadBaseModel(folderSpec(TINY), { cache: false });
    const targets = matchTargets(files.weights.keys(), ['query', 'value']);
    const got: Record<string, string> = {};
    for (const dtype of ['fp32', 'q8'] as const)
      for (const baseBranches of [true, false]) {
        const g = buildBertGraph(files.config, (n) => f32(files.weights, n), {
          weightInputs: targets,
          baseBranches,
          dtype,
        });
        got[`${dtype}${baseBranches ? '+branches' : ''}`] = sha256Hex([g.model]);
      }
    expect(
      got,
      `the graph builder's output changed: bump GRAPH_FORMAT_VERSION (now ${GRAPH_FORMAT_VERSION}) and record these hashes`,
    ).toEqual(FIXTURE_GRAPHS[GRAPH_FORMAT_VERSION]);
  });
});

const tinyGraph = () => ({
  model: new Uint8Array(Array.from({ length: 1000 }, (_, i) => (i * 7) & 255)),
  inputNames: ['input_ids', 'attention_mask', 'w'],
  weightInputs: [{ name: 'w', dims: [4, 4] }],
  outputName: 'embeddings' as const,
  baseBranches: true,
  dtype: 'q8' as const,
});
const INFO = { weights: KEY.weights, fingerprint: 'f'.repeat(64), weightsFile: 'model.safetensors', targets: ['w'] };

describe('graph cache entries', () => {
  const url = graphEntryUrl(BASE, KEY);

  it('round-trip: what is stored is served, with its metadata, once its hash checks', async () => {
    const cache = new FakeCache();
    expect(await readCachedGraph(cache, url)).toBeNull();
    expect(await storeGraph(cache, url, tinyGraph(), INFO)).toBeNull();
    const hit = await readCachedGraph(cache, url);
    if (!hit || !('meta' in hit)) throw new Error(`expected a hit, got ${JSON.stringify(hit)}`);
    expect(await hit.check).toBeNull();
    expect(hit.bytes).toEqual(tinyGraph().model);
    expect(hit.meta).toMatchObject({ ...INFO, format: GRAPH_FORMAT_VERSION, byteLength: 1000, dtype: 'q8' });
    expect(hit.meta.sha256).toBe(sha256Hex([tinyGraph().model]));
  });

  it('a truncated body is refused (and deleted) before any hashing; a changed byte fails the hash check', async () => {
    const cache = new FakeCache();
    await storeGraph(cache, url, tinyGraph(), INFO);
    const entry = cache.store.get(url)!;
    cache.store.set(url, { ...entry, body: entry.body.subarray(0, 600) });
    expect(await readCachedGraph(cache, url)).toEqual({ problem: expect.stringMatching(/600 of 1000 bytes/) });
    expect(cache.store.has(url)).toBe(false);

    await storeGraph(cache, url, tinyGraph(), INFO);
    const body = cache.store.get(url)!.body;
    body[500] ^= 1;
    const hit = await readCachedGraph(cache, url);
    if (!hit || !('meta' in hit)) throw new Error('expected the entry to be read');
    expect(await hit.check).toMatch(/SHA-256/);
  });

  it('metadata is validated: another format, a missing field or garbage is a miss with a reason', async () => {
    const good = parseGraphMeta(
      encodeGraphMeta({
        ...INFO,
        format: GRAPH_FORMAT_VERSION,
        inputNames: ['a'],
        weightInputs: [],
        outputName: 'embeddings',
        baseBranches: true,
        dtype: 'fp32',
        byteLength: 10,
        sha256: 'a'.repeat(64),
        builtAt: 'now',
      }),
    ) as GraphEntryMeta;
    expect(typeof good).toBe('object');
    const bad = (patch: Record<string, unknown>) =>
      parseGraphMeta(encodeGraphMeta({ ...good, ...patch } as GraphEntryMeta));
    expect(bad({ format: GRAPH_FORMAT_VERSION - 1 })).toMatch(/graph format/);
    expect(bad({ sha256: 'xyz' })).toMatch(/sha256/);
    expect(bad({ byteLength: -1 })).toMatch(/byteLength/);
    expect(bad({ fingerprint: undefined })).toMatch(/fingerprint/);
    expect(bad({ weightInputs: [{ name: 'w', dims: ['4'] }] })).toMatch(/weight inputs/);
    expect(parseGraphMeta(null)).toMatch(/no metadata/);
    expect(parseGraphMeta('%7Bnot json')).toMatch(/parse/);
    expect(await checkGraphBytes(good, new Uint8Array(10))).toMatch(/SHA-256/);

    const cache = new FakeCache();
    await cache.put(url, new Response(new Uint8Array(10), { headers: { [GRAPH_META_HEADER]: 'nonsense' } }));
    expect(await readCachedGraph(cache, url)).toEqual({ problem: expect.any(String) });
    expect(cache.store.has(url)).toBe(false);
  });

  it('storing prunes the graphs no load can hit: other formats, other weights', async () => {
    const cache = new FakeCache();
    const dir = `${BASE}${GRAPH_DIR}`;
    await cache.put(`${dir}v0-q8-old.onnx`, new Response('old'));
    const otherWeights = graphEntryUrl(BASE, { ...KEY, weights: 'older download' });
    await storeGraph(cache, otherWeights, tinyGraph(), { ...INFO, weights: 'older download' });
    const fp32 = graphEntryUrl(BASE, { ...KEY, dtype: 'fp32' });
    await storeGraph(cache, fp32, tinyGraph(), INFO);
    await cache.put(`${BASE}model.safetensors`, new Response('weights'));
    await storeGraph(cache, url, tinyGraph(), INFO);
    expect([...cache.store.keys()].sort()).toEqual([fp32, url, `${BASE}model.safetensors`].sort());
  });
});

describe('EncoderEngine with the Cache API (stubbed)', () => {
  let storage: FakeCacheStorage;
  const fetches: string[] = [];
  beforeEach(() => {
    storage = new FakeCacheStorage();
    fetches.length = 0;
    vi.stubGlobal('caches', storage);
    vi.stubGlobal('fetch', async (u: string) => {
      fetches.push(u);
      const dir = u.startsWith(BASE) ? TINY : join(FIXTURES, 'adapters', 'expert-a');
      const name = u.slice(u.startsWith(BASE) ? BASE.length : 'https://models.test/expert-a/'.length);
      try {
        return new Response(readFileSync(join(dir, name)), { headers: { etag: '"1"' } });
      } catch {
        return new Response('not found', { status: 404 });
      }
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  const texts = ['the quick brown fox', 'a second, longer text about retrieval with experts'];
  async function loadAndEmbed(options: Parameters<EncoderEngine['load']>[1] = {}, baseBranches?: boolean) {
    const engine = new EncoderEngine({ baseBranches });
    const phases: string[] = [];
    const info = await engine.load(BASE, { device: 'wasm', ...options }, (p) => phases.push(p.phase));
    const base = await engine.embedDocuments(texts);
    await engine.addExpert('a', 'https://models.test/expert-a/');
    const expert = await engine.embedQueries(texts, 'a');
    await engine.dispose();
    return { info, phases, base, expert };
  }
  const graphEntries = () =>
    [...storage.caches.get('router-retriever-models')!.store.keys()].filter((u) => u.includes(GRAPH_DIR));

  it.each(['q8', 'fp32'] as const)(
    '%s: the second load is a hit that skips parse and gives the same vectors',
    async (dtype) => {
      const first = await loadAndEmbed({ dtype });
      expect(first.info.graphSource).toBe('build');
      expect(first.info.graphReason).toBe(
        'build: the weights file was not cached yet (first load); stored for the next load',
      );
      expect(graphEntries()).toHaveLength(1);
      const second = await loadAndEmbed({ dtype });
      expect(second.info.graphSource).toBe('cache');
      expect(second.info.graphReason).toMatch(/^cache: .*SHA-256 checked$/);
      expect(second.phases).not.toContain('parse');
      expect(second.info.fingerprint).toBe(first.info.fingerprint);
      expect(maxAbsDiff(second.base, first.base)).toBe(0);
      // The expert merges into base matrices read lazily from the cached weights.
      expect(maxAbsDiff(second.expert, first.expert)).toBe(0);
      expect(maxAbsDiff(second.expert, second.base)).toBeGreaterThan(0);
    },
  );

  it('without base branches (as on WebGPU) a hit reads the target matrices at load, which the session feeds', async () => {
    const first = await loadAndEmbed({ dtype: 'q8' }, false);
    const second = await loadAndEmbed({ dtype: 'q8' }, false);
    expect(second.info.graphSource).toBe('cache');
    expect(maxAbsDiff(second.base, first.base)).toBe(0);
    expect(maxAbsDiff(second.expert, first.expert)).toBe(0);
    // A different graph from the one with base branches: its own entry.
    expect((await loadAndEmbed({ dtype: 'q8' })).info.graphSource).toBe('build');
  });

  it('a corrupt entry is rebuilt, not served; other targets or cache: false build without touching it', async () => {
    const first = await loadAndEmbed();
    const [url] = graphEntries();
    const cache = storage.caches.get('router-retriever-models')!;
    cache.store.get(url)!.body[1000] ^= 0xff;
    const rebuilt = await loadAndEmbed();
    expect(rebuilt.info.graphSource).toBe('build');
    expect(rebuilt.info.graphReason).toMatch(/rebuilt: its body does not match its SHA-256.*stored for the next load/);
    expect(maxAbsDiff(rebuilt.base, first.base)).toBe(0);
    expect((await loadAndEmbed()).info.graphSource).toBe('cache');

    const off = await loadAndEmbed({ cache: false });
    expect(off.info).toMatchObject({ graphSource: 'build', graphReason: 'build: cache: false' });
    const wider = await loadAndEmbed({ loraTargets: ['query', 'key', 'value'] });
    expect(wider.info.graphSource).toBe('build');
    expect(graphEntries()).toHaveLength(2);
  });

  it('files given in memory are built every time', async () => {
    const engine = new EncoderEngine();
    const info = await engine.load(folderSpec(TINY), { device: 'wasm' });
    expect(info.graphReason).toBe('build: the model files were given in memory, not by URL');
    await engine.dispose();
  });
});
