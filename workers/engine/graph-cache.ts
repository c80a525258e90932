/**
 * The built encoder graph (ONNX bytes) kept in the Cache API, so that a second visit skips
 * parsing, checking and hashing the weights and building the graph (Contriever-shaped model,
 * Node: 4.6 s of an 8.4 s q8 load, 5.7 s of 11.6 s at fp32).
 *
 * An entry lives under the model's base URL, beside its files, at
 * `<base>.router-retriever-graph/v<format>-<dtype>-<key hash>.onnx`; the key hashes everything
 * the bytes depend on (see GraphKey). Its metadata (what the engine needs besides the bytes,
 * and their size and SHA-256) travels in one header of the same response, so that the two are
 * stored and evicted together. A hit is served only once its size and hash match.
 */
import { GRAPH_FORMAT_VERSION, type BertGraph } from '../model/bert-graph.js';
import type { BertConfig } from '../model/config.js';
import { sha256Hex, sha256HexFast } from '../model/sha256.js';

export const GRAPH_DIR = '.router-retriever-graph/';
export const GRAPH_META_HEADER = 'x-router-retriever-graph';

/** Everything the graph's bytes depend on. */
export interface GraphKey {
  /** Identity of the cached weights file (FileSource.cachedIdentity): its URL, size and storage id. */
  weights: string;
  /** SHA-256 of config.json: the fingerprint kept in the entry covers it. */
  configSha256: string;
  config: BertConfig;
  dtype: 'fp32' | 'q8';
  baseBranches: boolean;
  /** The LoRA target modules asked for; the weight names they matched are in the entry. */
  loraTargets: string[];
}

/** JSON with object keys sorted, so that the same key always hashes the same. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What the entry URL hashes. maxLength is left out: the graph takes any length up to maxPositions. */
export function graphKeyMaterial(key: GraphKey, format = GRAPH_FORMAT_VERSION): string {
  const { maxLength: _unused, ...config } = key.config;
  return stableJson({ format, ...key, config, loraTargets: [...key.loraTargets].sort() });
}

export function graphEntryUrl(base: string, key: GraphKey, format = GRAPH_FORMAT_VERSION): string {
  const hash = sha256Hex([new TextEncoder().encode(graphKeyMaterial(key, format))]).slice(0, 32);
  return `${base}${GRAPH_DIR}v${format}-${key.dtype}-${hash}.onnx`;
}

/** What an entry says about its bytes. */
export interface GraphEntryMeta {
  format: number;
  /** The weights identity the graph was built from (GraphKey.weights), for pruning stale entries. */
  weights: string;
  /** ModelInfo.fingerprint of the model (SHA-256 of config.json ++ weights), computed at build. */
  fingerprint: string;
  weightsFile: string;
  /** Weight names that are graph inputs (the LoRA targets matched in the weights). */
  targets: string[];
  inputNames: string[];
  weightInputs: { name: string; dims: number[] }[];
  outputName: BertGraph['outputName'];
  baseBranches: boolean;
  dtype: 'fp32' | 'q8';
  byteLength: number;
  sha256: string;
  builtAt: string;
}

const isStrings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');

/** The entry's metadata from its header, or why it cannot be used. */
export function parseGraphMeta(header: string | null): GraphEntryMeta | string {
  if (!header) return 'the entry has no metadata';
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(decodeURIComponent(header));
  } catch {
    return 'its metadata does not parse';
  }
  if (!m || typeof m !== 'object') return 'its metadata is not an object';
  if (m.format !== GRAPH_FORMAT_VERSION) return `it was built by graph format ${m.format}, not ${GRAPH_FORMAT_VERSION}`;
  const strings = ['weights', 'fingerprint', 'weightsFile', 'sha256', 'builtAt'] as const;
  for (const k of strings) if (typeof m[k] !== 'string') return `its metadata lacks ${k}`;
  if (!/^[0-9a-f]{64}$/.test(m.sha256 as string)) return 'its metadata has no valid sha256';
  if (!Number.isSafeInteger(m.byteLength) || (m.byteLength as number) <= 0) return 'its metadata has no byteLength';
  if (!isStrings(m.targets) || !isStrings(m.inputNames)) return 'its metadata lacks the input names';
  const wi = m.weightInputs;
  if (
    !Array.isArray(wi) ||
    !wi.every((w) => w && typeof w.name === 'string' && Array.isArray(w.dims) && w.dims.every(Number.isSafeInteger))
  )
    return 'its metadata lacks the weight inputs';
  if (m.outputName !== 'embeddings' && m.outputName !== 'last_hidden_state') return 'its metadata lacks outputName';
  if (typeof m.baseBranches !== 'boolean') return 'its metadata lacks baseBranches';
  if (m.dtype !== 'fp32' && m.dtype !== 'q8') return 'its metadata lacks dtype';
  return m as unknown as GraphEntryMeta;
}

export function encodeGraphMeta(meta: GraphEntryMeta): string {
  return encodeURIComponent(JSON.stringify(meta));
}

/** Why `bytes` cannot be the entry's bytes by their size alone (no hashing), or null. */
function sizeProblem(meta: GraphEntryMeta, bytes: Uint8Array): string | null {
  return bytes.byteLength === meta.byteLength
    ? null
    : `its body has ${bytes.byteLength} of ${meta.byteLength} bytes (truncated or replaced)`;
}

/** Why `bytes` are not the entry's bytes (size first: a truncated body is told apart without hashing), or null. */
export async function checkGraphBytes(meta: GraphEntryMeta, bytes: Uint8Array): Promise<string | null> {
  const size = sizeProblem(meta, bytes);
  if (size !== null) return size;
  const sha = await sha256HexFast([bytes]);
  return sha === meta.sha256 ? null : 'its body does not match its SHA-256 (corrupt)';
}

export function graphOfEntry(meta: GraphEntryMeta, model: Uint8Array): BertGraph {
  const { inputNames, weightInputs, outputName, baseBranches, dtype } = meta;
  return { model, inputNames, weightInputs, outputName, baseBranches, dtype };
}

type GraphCache = Pick<Cache, 'match' | 'put' | 'delete' | 'keys'>;

export type CachedGraph =
  | {
      meta: GraphEntryMeta;
      bytes: Uint8Array;
      /** The hash check, in flight: a problem, or null. */
      check: Promise<string | null>;
    }
  | { problem: string };

/**
 * The entry at `url`: null when there is none; { problem } when it cannot be used (it is
 * deleted then); else its bytes, whose SHA-256 check runs meanwhile (the caller must await it
 * before serving anything built from them: it overlaps the session creation).
 */
export async function readCachedGraph(cache: GraphCache, url: string): Promise<CachedGraph | null> {
  let res: Response | undefined;
  try {
    res = await cache.match(url);
  } catch {
    return null;
  }
  if (!res) return null;
  const meta = parseGraphMeta(res.headers.get(GRAPH_META_HEADER));
  let problem = typeof meta === 'string' ? meta : null;
  let bytes: Uint8Array | null = null;
  if (typeof meta !== 'string') {
    try {
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      problem = `its body could not be read (${(e as Error)?.message ?? e})`;
    }
    if (bytes) problem = sizeProblem(meta, bytes);
  }
  if (problem !== null || typeof meta === 'string' || !bytes) {
    await deleteGraph(cache, url);
    return { problem: problem ?? 'unreadable' };
  }
  return { meta, bytes, check: checkGraphBytes(meta, bytes) };
}

export async function deleteGraph(cache: GraphCache, url: string): Promise<void> {
  try {
    await cache.delete(url);
  } catch {
    /* a broken entry that cannot be deleted is still never served: its check fails again */
  }
}

/** Stores `graph` at `url`; resolves to why it could not (e.g. quota), or null. */
export async function storeGraph(
  cache: GraphCache,
  url: string,
  graph: BertGraph,
  info: Pick<GraphEntryMeta, 'weights' | 'fingerprint' | 'weightsFile' | 'targets'>,
): Promise<string | null> {
  try {
    const meta: GraphEntryMeta = {
      format: GRAPH_FORMAT_VERSION,
      ...info,
      inputNames: graph.inputNames,
      weightInputs: graph.weightInputs,
      outputName: graph.outputName,
      baseBranches: graph.baseBranches,
      dtype: graph.dtype,
      byteLength: graph.model.byteLength,
      sha256: await sha256HexFast([graph.model]),
      builtAt: new Date().toISOString(),
    };
    await pruneGraphs(cache, url.slice(0, url.indexOf(GRAPH_DIR) + GRAPH_DIR.length), info.weights);
    const headers = {
      'content-type': 'application/octet-stream',
      'content-length': String(meta.byteLength),
      [GRAPH_META_HEADER]: encodeGraphMeta(meta),
    };
    await cache.put(url, new Response(graph.model as Uint8Array<ArrayBuffer>, { status: 200, headers }));
    return null;
  } catch (e) {
    return `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? e}`;
  }
}

/**
 * Deletes the graphs under `dir` that no load can hit again: those of another graph format, and
 * those built from other weights (a re-downloaded file gets a new identity). Each is hundreds
 * of MB for a BERT-base model (q8 180 MB, fp32 440 MB).
 */
export async function pruneGraphs(cache: GraphCache, dir: string, weights: string): Promise<void> {
  const current = `${dir}v${GRAPH_FORMAT_VERSION}-`;
  for (const req of await cache.keys()) {
    if (!req.url.startsWith(dir)) continue;
    let stale = !req.url.startsWith(current);
    if (!stale) {
      const meta = parseGraphMeta((await cache.match(req))?.headers.get(GRAPH_META_HEADER) ?? null);
      stale = typeof meta === 'string' || meta.weights !== weights;
    }
    if (stale) await deleteGraph(cache, req.url);
  }
}
