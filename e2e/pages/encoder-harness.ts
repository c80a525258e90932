/**
 * Exposes the SDK's encoder client to Playwright as window.harness. Every method returns
 * plain JSON (errors included), so the tests stay free of page-side object handles.
 */
import { EncoderClient } from '../../src/encoder-client.js';
import { isRouterRetrieverError } from '../../src/boundary/errors.js';
import { writeStoredZip } from '../../workers/model/zip.js';
import type { EmbedProgress, LoadOptions, LoadProgress, ModelSpec } from '../../src/boundary/encoder-api.js';

export interface ErrorJson {
  ok: false;
  name: string;
  code?: string;
  message: string;
  isRouterRetrieverError: boolean;
}

export interface VectorsJson {
  ok: true;
  /** Row-major values as a plain array (JSON-safe). */
  values: number[];
  length: number;
  /** Properties of what arrived on the main thread. */
  isFloat32Array: boolean;
  bufferBytes: number;
  byteOffset: number;
  ms: number;
}

type Result<T> = ({ ok: true } & T) | ErrorJson;

function errorJson(e: unknown): ErrorJson {
  const err = e as { name?: string; code?: string; message?: string };
  return {
    ok: false,
    name: String(err?.name ?? typeof e),
    code: err?.code,
    message: String(err?.message ?? e),
    isRouterRetrieverError: isRouterRetrieverError(e),
  };
}

async function guard<T>(fn: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, ...(await fn()) };
  } catch (e) {
    return errorJson(e);
  }
}

function vectors(v: Float32Array, ms: number): VectorsJson {
  return {
    ok: true,
    values: Array.from(v),
    length: v.length,
    isFloat32Array: v instanceof Float32Array,
    bufferBytes: v.buffer.byteLength,
    byteOffset: v.byteOffset,
    ms,
  };
}

/** A worker that reports the transfer list of every message it posts (see encoder-transfer-probe.worker.ts). */
function startProbeWorker(): Worker {
  return new Worker(new URL('./encoder-transfer-probe.worker.ts', import.meta.url), {
    type: 'module',
    name: 'encoder-transfer-probe',
  });
}

interface TransferRecord {
  transferred: number[];
  detachedAfter: boolean[];
}

let client: EncoderClient | null = null;
let progress: (LoadProgress & { t: number })[] = [];
const transfers: TransferRecord[] = [];
const channel = new BroadcastChannel('encoder-transfer-probe');
channel.onmessage = (ev: MessageEvent<TransferRecord>) => transfers.push(ev.data);

function current(): EncoderClient {
  if (!client) throw new Error('harness: call load() first');
  return client;
}

async function fetchFiles(base: string, names: string[]): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {};
  for (const n of names) {
    const r = await fetch(base + n);
    if (!r.ok) throw new Error(`harness: ${base + n} -> HTTP ${r.status}`);
    files[n] = new Uint8Array(await r.arrayBuffer());
  }
  return files;
}

const enc = new TextEncoder();
/** Pickle protocol 2: os.system('echo pwned'), the classic payload (GLOBAL, SHORT_BINUNICODE-free form). */
function hostilePickle(): Uint8Array {
  const cmd = enc.encode('echo pwned');
  return new Uint8Array([
    0x80,
    2,
    ...enc.encode('cos\nsystem\n'),
    0x55 /* SHORT_BINSTRING */,
    cmd.length,
    ...cmd,
    0x85 /* TUPLE1 */,
    0x52 /* REDUCE */,
    0x2e /* STOP */,
  ]);
}

const TINY = '/test/fixtures/tiny-bert/';
const TINY_TEXT_FILES = ['config.json', 'tokenizer_config.json', 'vocab.txt'];

const harness = {
  async probe() {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    const adapter = gpu ? await gpu.requestAdapter() : null;
    return { hasGpu: Boolean(gpu), hasAdapter: Boolean(adapter), isolated: self.crossOriginIsolated };
  },

  /**
   * Loads a model in a fresh worker. `model` is a URL, or { fetchFrom, files } to build an
   * in-memory ModelSpec from fetched files, or { hostile: 'pickle' | 'truncated-safetensors' | 'long-vocab' }.
   */
  async load(
    model:
      | string
      | { fetchFrom: string; files: string[] }
      | { hostile: 'pickle' | 'truncated-safetensors' | 'long-vocab' },
    options: LoadOptions = {},
    opts: { probeTransfers?: boolean } = {},
  ) {
    await client?.dispose().catch(() => undefined);
    client = new EncoderClient(opts.probeTransfers ? startProbeWorker() : undefined);
    progress = [];
    return guard(async () => {
      let spec: ModelSpec;
      if (typeof model === 'string') {
        spec = model;
      } else if ('fetchFrom' in model) {
        spec = { id: `memory:${model.fetchFrom}`, files: await fetchFiles(model.fetchFrom, model.files) };
      } else {
        const files = await fetchFiles(TINY, TINY_TEXT_FILES);
        if (model.hostile === 'pickle') {
          files['pytorch_model.bin'] = writeStoredZip([
            ['archive/data.pkl', hostilePickle()],
            ['archive/version', enc.encode('3\n')],
          ]);
        } else if (model.hostile === 'long-vocab') {
          // vocab.txt and config.json both longer than the checkpoint's embedding table: on WebGPU
          // the extra ids were once embedded silently from out-of-range rows.
          Object.assign(files, await fetchFiles(TINY, ['model.safetensors']));
          const extra = Array.from({ length: 50 }, (_, i) => `zzextra${i}`).join('\n');
          files['vocab.txt'] = enc.encode(`${new TextDecoder().decode(files['vocab.txt']).trimEnd()}\n${extra}\n`);
          const config = JSON.parse(new TextDecoder().decode(files['config.json']));
          files['config.json'] = enc.encode(JSON.stringify({ ...config, vocab_size: config.vocab_size + 50 }));
        } else {
          const whole = (await fetchFiles(TINY, ['model.safetensors']))['model.safetensors'];
          files['model.safetensors'] = whole.slice(0, Math.floor(whole.byteLength / 2));
        }
        spec = { id: `memory:hostile-${model.hostile}`, files };
      }
      const t0 = performance.now();
      const info = await current().load(spec, options, (p) =>
        progress.push({ ...p, t: Math.round(performance.now() - t0) }),
      );
      return { info, progress };
    });
  },

  async addExpert(name: string, adapter: string) {
    return guard(async () => ({ expert: await current().addExpert(name, adapter) }));
  },

  async listExperts() {
    return current().listExperts();
  },

  async embedDocuments(texts: string[], batchSize = 4) {
    return guard(async () => {
      const t0 = performance.now();
      const events: EmbedProgress[] = [];
      const v = await current().embedDocuments(texts, { batchSize }, (p) => events.push(p));
      return { ...vectors(v, performance.now() - t0), events: events.length };
    });
  },

  async embedQueries(texts: string[], expert: string | null) {
    return guard(async () => {
      const t0 = performance.now();
      return vectors(await current().embedQueries(texts, expert), performance.now() - t0);
    });
  },

  async embedQuery(text: string, expert: string | null) {
    return guard(async () => {
      const t0 = performance.now();
      return vectors(await current().embedQuery(text, expert), performance.now() - t0);
    });
  },

  transfers(): TransferRecord[] {
    return transfers.slice();
  },

  /** URLs of the built graphs kept in the model cache (workers/engine/graph-cache.ts). */
  async graphEntries(): Promise<string[]> {
    const cache = await caches.open('router-retriever-models');
    return (await cache.keys()).map((r) => r.url).filter((u) => u.includes('/.router-retriever-graph/'));
  },

  /** Damages every cached graph as a failing disk or a cut-off write would: one flipped byte, or half the body. */
  async damageGraphEntries(how: 'flip' | 'truncate'): Promise<number> {
    const cache = await caches.open('router-retriever-models');
    const urls = await harness.graphEntries();
    for (const url of urls) {
      const res = await cache.match(url);
      if (!res) continue;
      let body = new Uint8Array(await res.arrayBuffer());
      if (how === 'flip') body[body.length >> 1] ^= 0x40;
      else body = body.slice(0, body.length >> 1);
      const headers = new Headers(res.headers);
      headers.delete('content-length');
      await cache.put(url, new Response(body, { headers }));
    }
    return urls.length;
  },

  async clearCaches() {
    for (const k of await caches.keys()) await caches.delete(k);
  },

  async dispose() {
    await client?.dispose().catch(() => undefined);
    client = null;
  },
};

const w = window as unknown as Record<string, unknown>;
w.harness = harness;
w.harnessReady = true;
export type Harness = typeof harness;
