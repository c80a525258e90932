/**
 * Experts as the engine keeps them: each LoRA adapter merged into its target matrices once, and
 * held as weight feeds of the current runtime, so that switching expert is a change of feeds.
 */
import type * as ort from 'onnxruntime-web';
import type { ExpertInfo } from '../../src/boundary/encoder-api.js';
import { RouterRetrieverError } from '../../src/boundary/errors.js';
import type { ResolvedLora } from '../lora/adapter.js';
import { mergedTransposed } from '../lora/merge.js';
import { useBaseInput } from '../model/bert-graph.js';
import type { F32Tensor, StateDict } from '../model/tensor.js';
import { toFloat32 } from '../model/tensor-convert.js';
import { feedMapOf, type Runtime } from './runtime.js';
import { FeedSet } from './weight-feeds.js';

export interface Expert {
  info: ExpertInfo;
  loras: ResolvedLora[];
  feeds: FeedSet;
  feedMap: Record<string, ort.Tensor>;
}

/** Names of the Linear weights that match PEFT-style target module names. */
export function matchTargets(weightNames: Iterable<string>, modules: string[]): string[] {
  const out: string[] = [];
  for (const key of weightNames) {
    if (!key.endsWith('.weight')) continue;
    const module = key.slice(0, -'.weight'.length);
    if (module.includes('LayerNorm') || module.startsWith('embeddings.')) continue;
    if (modules.some((m) => module === m || module.endsWith(`.${m}`))) out.push(key);
  }
  return out.sort(compareLayerKeys);
}

export function compareLayerKeys(a: string, b: string): number {
  const la = Number(/layer\.(\d+)\./.exec(a)?.[1] ?? -1);
  const lb = Number(/layer\.(\d+)\./.exec(b)?.[1] ?? -1);
  return la - lb || (a < b ? -1 : a > b ? 1 : 0);
}

export function f32(dict: StateDict, name: string): F32Tensor {
  const t = dict.get(name);
  if (!t)
    throw new RouterRetrieverError(
      'MODEL_FORMAT',
      `The model has no tensor "${name}". Is it a BERT checkpoint in the Hugging Face layout?`,
    );
  return { shape: t.shape, data: toFloat32(t) };
}

/** Merges each LoRA into its base matrix and makes the feeds of `rt` that select them. */
export function makeExpert(
  name: string,
  loras: ResolvedLora[],
  r: number,
  alpha: number,
  addMs: number,
  targets: Map<string, F32Tensor>,
  rt: Runtime,
): Expert {
  const feeds = new FeedSet();
  for (const l of loras) {
    const w = targets.get(l.target);
    if (!w)
      throw new RouterRetrieverError(
        'ADAPTER_MISMATCH',
        `Expert "${name}" targets ${l.target}, which the base model does not have.`,
      );
    // Merged in fp32 (W + scale B A), then quantized like the base at q8.
    const merged = mergedTransposed(w, l.A, l.B, l.scale, l.fanInFanOut);
    const [nOut, nIn] = w.shape;
    for (const [k, f] of rt.factory.feedsOf(l.target, merged, nIn, nOut, rt.dtype)) feeds.feeds.set(k, f);
  }
  const feedMap = { ...rt.baseFeedMap, ...feedMapOf(feeds) };
  if (rt.useFed) for (const l of loras) feedMap[useBaseInput(l.target)] = rt.useFed;
  const info: ExpertInfo = {
    name,
    r,
    alpha,
    scale: loras[0]?.scale ?? alpha / r,
    targets: loras.map((l) => l.target),
    residentBytes: feeds.residentBytes,
    addMs,
  };
  return { info, loras, feeds, feedMap };
}
