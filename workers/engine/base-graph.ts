/**
 * The base model's graph and its session: from the Cache API when an entry for the same
 * cached weights file, config, dtype and targets is there (./graph-cache.ts), else read,
 * check, hash and build as before, then stored for the next load. A cached graph whose size
 * or SHA-256 does not match is deleted and rebuilt; nothing built from it is served.
 */
import type { LoadProgress } from '../../src/boundary/encoder-api.js';
import { buildBertGraph, type BertGraph } from '../model/bert-graph.js';
import { openCache } from '../model/cache-entry.js';
import type { FileSource } from '../model/file-source.js';
import { sha256Hex } from '../model/sha256.js';
import type { F32Tensor, StateDict } from '../model/tensor.js';
import { BaseTargets } from './base-targets.js';
import { f32, matchTargets } from './experts.js';
import {
  type CachedGraph,
  deleteGraph,
  type GraphKey,
  graphEntryUrl,
  graphOfEntry,
  readCachedGraph,
  storeGraph,
} from './graph-cache.js';
import { loadWeights, type ModelHead, rereadWeights, WEIGHT_FILES } from './model-files.js';

export interface GraphRequest {
  dtype: 'fp32' | 'q8';
  baseBranches: boolean;
  /** LoRA target modules (LoadOptions.loraTargets or the default). */
  loraTargets: string[];
  /** LoadOptions.cache: false skips the graph cache too. */
  cache: string | false | undefined;
}

/** How to make (and drop) a session of a graph. */
export interface Sessions<R> {
  create(graph: BertGraph, targets: BaseTargets): Promise<R>;
  release(runtime: R): Promise<void>;
}

export interface OpenedGraph<R> {
  runtime: R;
  graph: BertGraph;
  targets: BaseTargets;
  fingerprint: string;
  readWeights: () => Promise<StateDict>;
  /** ModelInfo.graphSource and graphReason. */
  graphSource: 'cache' | 'build';
  graphReason: string;
}

interface Slot {
  cache: Cache;
  /** Absolute base URL of the model files (Cache API keys are absolute). */
  base: string;
}

function absolute(url: string): string {
  try {
    return new URL(url, (globalThis as { location?: { href: string } }).location?.href).href;
  } catch {
    return url;
  }
}

async function cacheSlot(source: FileSource, cache: string | false | undefined): Promise<Slot | string> {
  if (cache === false) return 'cache: false';
  if (!source.cacheName || !source.cachedIdentity) return 'the model files were given in memory, not by URL';
  const opened = await openCache(source.cacheName);
  return opened ? { cache: opened, base: absolute(source.id) } : 'no Cache API here';
}

function keyOf(head: ModelHead, req: GraphRequest, weights: string): GraphKey {
  const { dtype, baseBranches, loraTargets } = req;
  return {
    weights,
    configSha256: sha256Hex([head.configBytes]),
    config: head.config,
    dtype,
    baseBranches,
    loraTargets,
  };
}

/** The identity of the weights file a read would return now: the first of WEIGHT_FILES that is cached. */
async function cachedWeights(source: FileSource): Promise<string | null> {
  for (const name of WEIGHT_FILES) {
    const id = await source.cachedIdentity?.(name);
    if (id) return id;
  }
  return null;
}

/**
 * The target matrices, copied out of the weights file so that its buffer (436 MB for the
 * Contriever-shaped model, against 57 MB for query + value of 12 layers) can be freed.
 */
async function readTargets(source: FileSource, file: string, names: string[]): Promise<Map<string, F32Tensor>> {
  const all = await rereadWeights(source, file);
  return new Map(
    names.map((n) => {
      const t = f32(all, n);
      return [n, { shape: t.shape, data: t.data.slice() }];
    }),
  );
}

export async function openBaseGraph<R>(
  head: ModelHead,
  req: GraphRequest,
  sessions: Sessions<R>,
  onProgress?: (p: LoadProgress) => void,
): Promise<OpenedGraph<R>> {
  const slot = await cacheSlot(head.source, req.cache);
  let why: string;
  if (typeof slot === 'string') {
    why = slot;
  } else {
    const weights = await cachedWeights(head.source);
    if (!weights) {
      why = 'the weights file was not cached yet (first load)';
    } else {
      const url = graphEntryUrl(slot.base, keyOf(head, req, weights));
      const hit = await readCachedGraph(slot.cache, url);
      if (hit && 'meta' in hit) {
        const opened = await openHit(head.source, hit, sessions, onProgress);
        if (typeof opened !== 'string') return opened;
        await deleteGraph(slot.cache, url);
        why = `the cached graph was rebuilt: ${opened}`;
      } else {
        why = hit
          ? `the cached graph was rebuilt: ${hit.problem}`
          : 'no cached graph for this model, dtype and targets';
      }
    }
  }
  return build(head, req, typeof slot === 'string' ? null : slot, why, sessions, onProgress);
}

/** A session of a cached graph, or why the graph failed its check (the session is released then). */
async function openHit<R>(
  source: FileSource,
  hit: Extract<CachedGraph, { meta: unknown }>,
  sessions: Sessions<R>,
  onProgress?: (p: LoadProgress) => void,
): Promise<OpenedGraph<R> | string> {
  const { meta } = hit;
  onProgress?.({
    phase: 'build',
    message: `using the ${meta.dtype} ONNX graph cached ${meta.builtAt} (${(meta.byteLength / 1e6).toFixed(0)} MB)`,
  });
  const targets = new BaseTargets(meta.targets, () => readTargets(source, meta.weightsFile, meta.targets));
  const graph = graphOfEntry(meta, hit.bytes);
  let runtime: R | undefined;
  let error: unknown;
  try {
    // The SHA-256 check (0.4 s for a 180 MB q8 graph in Node) runs beside the session creation.
    runtime = await sessions.create(graph, targets);
  } catch (e) {
    error = e;
  }
  const problem = await hit.check;
  if (problem !== null) {
    if (runtime !== undefined) await sessions.release(runtime);
    return problem;
  }
  if (runtime === undefined) throw error;
  return {
    runtime,
    graph,
    targets,
    fingerprint: meta.fingerprint,
    readWeights: () => rereadWeights(source, meta.weightsFile),
    graphSource: 'cache',
    graphReason: `cache: built ${meta.builtAt} from the same cached weights file, config, dtype and targets; size and SHA-256 checked`,
  };
}

async function build<R>(
  head: ModelHead,
  req: GraphRequest,
  slot: Slot | null,
  why: string,
  sessions: Sessions<R>,
  onProgress?: (p: LoadProgress) => void,
): Promise<OpenedGraph<R>> {
  const { config, source } = head;
  const files = await loadWeights(head, onProgress);
  const names = matchTargets(files.weights.keys(), req.loraTargets);
  const targets = new BaseTargets(names, new Map(names.map((n) => [n, f32(files.weights, n)])));
  onProgress?.({
    phase: 'build',
    message: `building the ${req.dtype} ONNX graph (${config.layers} layers, hidden ${config.hidden})`,
  });
  const graph = buildBertGraph(config, (name) => f32(files.weights, name), {
    weightInputs: names,
    baseBranches: req.baseBranches,
    dtype: req.dtype,
  });
  // The identity after the read: the entry the weights were just stored under.
  const weights = slot ? await source.cachedIdentity?.(files.weightsFile) : null;
  const stored: Promise<string | null> =
    slot && weights
      ? storeGraph(slot.cache, graphEntryUrl(slot.base, keyOf(head, req, weights)), graph, {
          weights,
          fingerprint: files.fingerprint,
          weightsFile: files.weightsFile,
          targets: names,
        })
      : Promise.resolve(slot ? 'the weights file could not be cached' : null);
  // Storing (hashing, then the Cache API write) overlaps the session creation.
  const runtime = await sessions.create(graph, targets);
  const notStored = await stored;
  return {
    runtime,
    graph,
    targets,
    fingerprint: files.fingerprint,
    readWeights: files.readWeights,
    graphSource: 'build',
    graphReason: `build: ${why}${slot ? (notStored ? `; not stored (${notStored})` : '; stored for the next load') : ''}`,
  };
}
