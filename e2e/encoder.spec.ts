/**
 * The encoder worker in Chromium, in both projects: 'webgpu' (SwiftShader adapter) and 'wasm'
 * (no adapter). Matches the PyTorch goldens (test/fixtures/golden.json) through the real
 * Web Worker + comlink boundary.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { Harness } from './pages/encoder-harness.js';

interface Golden {
  texts: string[];
  embeddings: Record<string, number[][]>;
}
const golden = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'test', 'fixtures', 'golden.json'), 'utf8'),
) as Golden;
const DIM = golden.embeddings.base[0].length;
const TOL = 1e-4;
const TINY = '/test/fixtures/tiny-bert/';
const EXPERT_A = '/test/fixtures/adapters/expert-a/';
const EXPERT_B = '/test/fixtures/adapters/expert-b/';

type Call<K extends keyof Harness> = Awaited<ReturnType<Harness[K]>>;

async function open(page: Page): Promise<void> {
  page.on('pageerror', (e) => console.log(`[page error] ${e.message}`));
  await page.goto('/e2e/pages/encoder.html');
  await page.waitForFunction(() => (window as unknown as { harnessReady?: boolean }).harnessReady === true);
}

/** Calls window.harness[method](...args) in the page. */
function h<K extends keyof Harness>(page: Page, method: K, ...args: Parameters<Harness[K]>): Promise<Call<K>> {
  return page.evaluate(
    ([m, a]) => {
      const harness = (window as unknown as { harness: Record<string, (...x: unknown[]) => unknown> }).harness;
      return harness[m as string](...(a as unknown[]));
    },
    [method, args] as const,
  ) as Promise<Call<K>>;
}

function ok<T extends { ok: boolean }>(r: T): Extract<T, { ok: true }> {
  if (!r.ok) throw new Error(`harness call failed: ${JSON.stringify(r)}`);
  return r as Extract<T, { ok: true }>;
}

function worstRowDiff(values: number[], expected: number[][], indices: number[]): number {
  expect(values.length).toBe(indices.length * DIM);
  let m = 0;
  indices.forEach((gi, row) => {
    for (let j = 0; j < DIM; j++) m = Math.max(m, Math.abs(values[row * DIM + j] - expected[gi][j]));
  });
  return m;
}

const isWebGpuProject = () => test.info().project.name === 'webgpu';
/**
 * Golden texts for this project. SwiftShader runs every shader on the CPU: keep it to texts
 * that cover the hard tokenizer cases but not the 512-token one, so a test stays well under a minute.
 */
function goldenIndices(): number[] {
  const all = golden.texts.map((_, i) => i);
  if (!isWebGpuProject()) return all;
  return all.filter((i) => golden.texts[i].length < 200);
}

test.describe('encoder worker', () => {
  test.beforeEach(async ({ page }) => {
    await open(page);
  });
  test.afterEach(async ({ page }) => {
    await h(page, 'dispose').catch(() => undefined);
  });

  test('device auto picks the right backend and matches the PyTorch goldens: base, expert-a, expert-b', async ({
    page,
  }) => {
    // Which onnxruntime binaries the worker fetches: only the one its backend needs.
    const ortBinaries = new Set<string>();
    page.on('request', (r) => {
      const file = new URL(r.url()).pathname.split('/').pop() ?? '';
      if (/^ort-wasm.*\.wasm$/.test(file)) ortBinaries.add(file);
    });
    const probe = await h(page, 'probe');
    // fp32: compared with the PyTorch goldens to TOL (the default dtype is tested below).
    const { info } = ok(await h(page, 'load', TINY, { device: 'auto', dtype: 'fp32' }));
    expect([...ortBinaries]).toEqual([
      isWebGpuProject() ? 'ort-wasm-simd-threaded.jsep.wasm' : 'ort-wasm-simd-threaded.wasm',
    ]);
    if (isWebGpuProject()) {
      expect(probe.hasAdapter, 'the webgpu project needs a WebGPU adapter (--enable-unsafe-webgpu)').toBe(true);
      expect(info.backend).toBe('webgpu');
      expect(info.backendReason).toMatch(/adapter/i);
      expect(info.canaryMaxAbsDiff, 'the canary diff is reported').toEqual(expect.any(Number));
      expect(info.canaryMaxAbsDiff!).toBeLessThanOrEqual(1e-3);
      expect(info.warnings).toEqual([]);
    } else {
      expect(probe.hasAdapter).toBe(false);
      expect(info.backend).toBe('wasm');
      expect(info.backendReason).toMatch(/^auto: no WebGPU/);
      expect(info.canaryMaxAbsDiff).toBeUndefined();
    }
    expect(info.dim).toBe(DIM);

    const a = ok(await h(page, 'addExpert', 'expert-a', EXPERT_A)).expert;
    expect(a.targets).toHaveLength(4); // query + value of 2 layers
    // expert-b is an adapter_model.bin targeting query, key, value: the engine widens its weight inputs once.
    const b = ok(await h(page, 'addExpert', 'expert-b', EXPERT_B)).expert;
    expect(b.targets).toHaveLength(6);
    const list = await h(page, 'listExperts');
    expect(list.map((e) => e.name)).toEqual(['expert-a', 'expert-b']);
    for (const e of list) expect(e.residentBytes).toBeGreaterThanOrEqual(e.targets.length * DIM * DIM * 4);

    const idx = goldenIndices();
    const texts = idx.map((i) => golden.texts[i]);
    const base = ok(await h(page, 'embedDocuments', texts, 4));
    expect(worstRowDiff(base.values, golden.embeddings.base, idx)).toBeLessThanOrEqual(TOL);
    for (const name of ['expert-a', 'expert-b']) {
      const q = ok(await h(page, 'embedQueries', texts, name));
      expect(worstRowDiff(q.values, golden.embeddings[name], idx), name).toBeLessThanOrEqual(TOL);
    }
    // One query at a time, switching experts between queries, base unchanged in between.
    for (const name of ['expert-a', null, 'expert-b', 'expert-a'] as const) {
      const q = ok(await h(page, 'embedQuery', golden.texts[0], name));
      expect(worstRowDiff(q.values, golden.embeddings[name ?? 'base'], [0]), String(name)).toBeLessThanOrEqual(TOL);
    }
  });

  test('dtype q8 runs in the worker on WASM: cosine to the PyTorch goldens >= 0.995, experts switched by feeds', async ({
    page,
  }) => {
    const { info } = ok(await h(page, 'load', TINY, { device: 'auto', dtype: 'q8' }));
    expect(info).toMatchObject({ backend: 'wasm', dtype: 'q8', dtypeReason: 'q8 requested' });
    expect(info.backendReason).toBe('auto: dtype q8 runs on WASM');
    ok(await h(page, 'addExpert', 'expert-a', EXPERT_A));
    ok(await h(page, 'addExpert', 'expert-b', EXPERT_B));
    const list = await h(page, 'listExperts');
    // int8 levels plus one float scale per output column: 4608 bytes for query + value of 2 layers
    expect(list[0].residentBytes).toBe(list[0].targets.length * (DIM * DIM + DIM * 4));
    const idx = goldenIndices();
    const texts = idx.map((i) => golden.texts[i]);
    const cos = (v: number[], row: number, ref: number[]) => {
      let [dot, na, nb] = [0, 0, 0];
      for (let j = 0; j < DIM; j++) {
        dot += v[row * DIM + j] * ref[j];
        na += v[row * DIM + j] ** 2;
        nb += ref[j] ** 2;
      }
      return dot / Math.sqrt(na * nb);
    };
    for (const name of [null, 'expert-a', 'expert-b'] as const) {
      const q = ok(await h(page, 'embedQueries', texts, name));
      idx.forEach((gi, row) => {
        expect(cos(q.values, row, golden.embeddings[name ?? 'base'][gi]), `${name} text ${gi}`).toBeGreaterThanOrEqual(
          0.995,
        );
      });
    }
  });

  test('CLS pooling + normalisation matches the reference', async ({ page }) => {
    const { info } = ok(
      await h(page, 'load', TINY, { device: 'auto', dtype: 'fp32', pooling: 'cls', normalize: true }),
    );
    expect(info.pooling).toBe('cls');
    expect(info.normalize).toBe(true);
    const idx = goldenIndices();
    const out = ok(
      await h(
        page,
        'embedDocuments',
        idx.map((i) => golden.texts[i]),
        4,
      ),
    );
    expect(worstRowDiff(out.values, golden.embeddings['base-cls-normalized'], idx)).toBeLessThanOrEqual(TOL);
  });

  test('loads from pytorch_model.bin alone (in-memory files, no model.safetensors)', async ({ page }) => {
    const files = ['config.json', 'tokenizer_config.json', 'vocab.txt', 'pytorch_model.bin'];
    const { info } = ok(await h(page, 'load', { fetchFrom: TINY, files }, { device: 'wasm', dtype: 'fp32' }));
    expect(info.backend).toBe('wasm');
    const idx = [0, 1, 3, 12];
    const out = ok(
      await h(
        page,
        'embedDocuments',
        idx.map((i) => golden.texts[i]),
        4,
      ),
    );
    expect(worstRowDiff(out.values, golden.embeddings.base, idx)).toBeLessThanOrEqual(TOL);
  });

  test('hostile and truncated weights are refused with typed errors that cross the worker', async ({ page }) => {
    const pickle = await h(page, 'load', { hostile: 'pickle' }, { device: 'wasm' });
    expect(pickle.ok).toBe(false);
    if (pickle.ok) return;
    expect(pickle.isRouterRetrieverError).toBe(true);
    expect(pickle.code).toBe('UNSAFE_PICKLE');
    expect(pickle.message).toMatch(/os\.system/);

    const truncated = await h(page, 'load', { hostile: 'truncated-safetensors' }, { device: 'wasm' });
    expect(truncated.ok).toBe(false);
    if (truncated.ok) return;
    expect(truncated.isRouterRetrieverError).toBe(true);
    expect(truncated.code).toBe('MODEL_FORMAT');
  });

  test("a vocabulary longer than the embedding table is refused at load, on this project's backend too", async ({
    page,
  }, info) => {
    const device = info.project.name === 'webgpu' ? 'webgpu' : 'wasm';
    const r = await h(page, 'load', { hostile: 'long-vocab' }, { device });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe('MODEL_FORMAT');
    expect(r.message).toMatch(
      /word_embeddings\.weight" has shape \[30522, 32\] but config\.json implies \[30572, 32\]/,
    );
  });

  test('device webgpu without an adapter is a BACKEND error; forced wasm works everywhere', async ({ page }) => {
    if (isWebGpuProject()) {
      const { info } = ok(await h(page, 'load', TINY, { device: 'wasm' }));
      expect(info.backend).toBe('wasm');
      expect(info.backendReason).toBe('wasm requested');
      // The default dtype is 'auto': q8 on WASM, as transformers.js users get.
      expect([info.dtype, info.dtypeReason]).toEqual(['q8', 'default auto: q8 on WASM']);
      return;
    }
    const r = await h(page, 'load', TINY, { device: 'webgpu' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.isRouterRetrieverError).toBe(true);
    expect(r.name).toBe('RouterRetrieverError');
    expect(r.code).toBe('BACKEND');
    expect(r.message).toMatch(/WebGPU/);
  });

  test('a second load of the same URL downloads nothing (Cache API)', async ({ page }) => {
    await h(page, 'clearCaches');
    const requests: { url: string; status: number; bytes: number }[] = [];
    page.context().on('requestfinished', async (req) => {
      if (!req.url().includes(TINY)) return;
      const res = await req.response();
      const sizes = await req.sizes().catch(() => ({ responseBodySize: -1 }));
      requests.push({ url: req.url(), status: res?.status() ?? 0, bytes: sizes.responseBodySize });
    });
    const first = ok(await h(page, 'load', TINY, { device: 'wasm' }));
    console.log(`first load ${first.info.loadMs.toFixed(0)} ms`);
    await page.waitForTimeout(200);
    const fetched = requests
      .filter((r) => r.status === 200)
      .map((r) => r.url.slice(r.url.indexOf(TINY) + TINY.length))
      .sort();
    // (vite dev answers the optional files it lacks, e.g. tokenizer.json, with its SPA fallback page.)
    expect(fetched).toEqual(
      expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer_config.json', 'vocab.txt']),
    );
    expect(first.progress.some((p) => p.phase === 'download' && p.file === 'model.safetensors' && p.loaded === 0)).toBe(
      true,
    );

    requests.length = 0;
    const second = ok(await h(page, 'load', TINY, { device: 'wasm' }));
    console.log(`second load ${second.info.loadMs.toFixed(0)} ms`);
    await page.waitForTimeout(200);
    // Nothing that exists is downloaded again (only 404 probes for optional files may go out).
    expect(requests.filter((r) => r.status !== 404)).toEqual([]);
    expect(requests.reduce((n, r) => n + Math.max(0, r.bytes), 0)).toBeLessThan(4096);
    // Progress shows cache hits: one complete event per file, no streaming from 0. The weights
    // are not even read from the cache: the graph built from them on the first load is.
    const downloads = second.progress.filter((p) => p.phase === 'download');
    expect(downloads.filter((p) => p.file === 'config.json')).toEqual([
      expect.objectContaining({ loaded: first.progress.find((p) => p.file === 'config.json')?.total }),
    ]);
    expect(downloads.filter((p) => p.file === 'model.safetensors')).toEqual([]);
    expect(second.info.graphSource).toBe('cache');
    expect(second.info.fingerprint).toBe(first.info.fingerprint);
  });

  test('a second load of the same URL uses the cached graph, with identical embeddings; a damaged one is rebuilt', async ({
    page,
  }) => {
    await h(page, 'clearCaches');
    const texts = [golden.texts[0], golden.texts[9], golden.texts[13]];
    const loadAndEmbed = async () => {
      const loaded = ok(await h(page, 'load', TINY, { device: 'wasm', dtype: 'q8' }));
      const docs = ok(await h(page, 'embedDocuments', texts, 2));
      // An expert merges into base matrices that a cache hit reads from the cached weights on demand.
      ok(await h(page, 'addExpert', 'expert-a', EXPERT_A));
      const q = ok(await h(page, 'embedQuery', texts[2], 'expert-a'));
      return { ...loaded, values: docs.values, expert: q.values };
    };
    const first = await loadAndEmbed();
    expect(first.info.graphSource).toBe('build');
    expect(first.info.graphReason).toMatch(/first load.*stored for the next load/);
    expect(await h(page, 'graphEntries')).toHaveLength(1);

    const second = await loadAndEmbed();
    expect(second.info.graphSource).toBe('cache');
    expect(second.info.graphReason).toMatch(/^cache: .*SHA-256 checked$/);
    // Neither the weights' parse nor the graph build ran.
    expect(second.progress.map((p) => p.phase)).not.toContain('parse');
    expect(
      second.progress.some((p) => p.phase === 'build' && /using the q8 ONNX graph cached/.test(p.message ?? '')),
    ).toBe(true);
    expect(second.info.fingerprint).toBe(first.info.fingerprint);
    expect(second.values).toEqual(first.values);
    expect(second.expert).toEqual(first.expert);
    expect(second.expert).not.toEqual(second.values.slice(2 * DIM));

    for (const [how, problem] of [
      ['flip', /does not match its SHA-256/],
      ['truncate', /bytes \(truncated or replaced\)/],
    ] as const) {
      expect(await h(page, 'damageGraphEntries', how)).toBe(1);
      const rebuilt = await loadAndEmbed();
      expect(rebuilt.info.graphSource).toBe('build');
      expect(rebuilt.info.graphReason).toMatch(problem);
      expect(rebuilt.values).toEqual(first.values);
      expect((await loadAndEmbed()).info.graphSource).toBe('cache');
    }
    const off = ok(await h(page, 'load', TINY, { device: 'wasm', dtype: 'q8', cache: false }));
    expect(off.info.graphReason).toBe('build: cache: false');
  });

  test('Float32Array results arrive intact and are transferred, not copied', async ({ page }) => {
    ok(await h(page, 'load', TINY, { device: 'wasm', dtype: 'fp32' }, { probeTransfers: true }));
    ok(await h(page, 'addExpert', 'expert-a', EXPERT_A));
    const idx = [0, 9, 13, 14];
    const docs = ok(
      await h(
        page,
        'embedDocuments',
        idx.map((i) => golden.texts[i]),
        2,
      ),
    );
    expect(docs.isFloat32Array).toBe(true);
    expect(docs.length).toBe(idx.length * DIM);
    expect(docs.bufferBytes).toBe(idx.length * DIM * 4); // its own buffer, not a view on a bigger one
    expect(docs.byteOffset).toBe(0);
    expect(worstRowDiff(docs.values, golden.embeddings.base, idx)).toBeLessThanOrEqual(TOL);
    const q = ok(await h(page, 'embedQuery', golden.texts[13], 'expert-a'));
    expect(q.isFloat32Array).toBe(true);
    expect(q.bufferBytes).toBe(DIM * 4);
    expect(worstRowDiff(q.values, golden.embeddings['expert-a'], [13])).toBeLessThanOrEqual(TOL);
    const qs = ok(await h(page, 'embedQueries', [golden.texts[14]], 'expert-a'));
    expect(qs.bufferBytes).toBe(DIM * 4);

    await expect.poll(async () => (await h(page, 'transfers')).length).toBeGreaterThanOrEqual(3);
    const transfers = await h(page, 'transfers');
    // embedDocuments, embedQuery, embedQueries: each result buffer was moved out of the worker.
    expect(transfers.map((t) => t.transferred)).toEqual([[idx.length * DIM * 4], [DIM * 4], [DIM * 4]]);
    for (const t of transfers) expect(t.detachedAfter).toEqual([true]);
  });
});
