/**
 * The WebGPU canary: one text through the WebGPU session and through a WASM session of the
 * same graph; if they disagree, WebGPU is dropped and the WASM session serves instead.
 */
import type { BertConfig } from '../model/config.js';
import type { BertGraph } from '../model/bert-graph.js';
import type { TextTokenizer } from '../tokenizer/tokenizer.js';
import type { BaseTargets } from './base-targets.js';
import { createRuntime, releaseRuntime, type Runtime, type RuntimeSettings } from './runtime.js';

export const CANARY_TEXT =
  'RouterRetriever canary: the quick brown fox jumps over the lazy dog, 42 times in Ångström units.';
export const CANARY_TOLERANCE = 1e-3;

function maxAbsDiffOf(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return a.length === b.length ? m : Infinity;
}

export interface CanaryResult {
  /** The runtime to serve: the WebGPU one, or the WASM one when WebGPU was dropped. */
  runtime: Runtime;
  maxAbsDiff: number;
  /** Why WebGPU was dropped (also the warning), or null. */
  dropped: string | null;
}

export async function checkCanary(
  gpu: Runtime,
  graph: BertGraph,
  targets: BaseTargets,
  tokenizer: TextTokenizer,
  config: BertConfig,
  settings: RuntimeSettings,
  embed: (rt: Runtime, ids: number[]) => Promise<Float32Array>,
): Promise<CanaryResult> {
  // The WebGPU build's own WASM provider: no second onnxruntime binary to download.
  // Same graph (no base branches): if WebGPU is dropped, this runtime serves as it is.
  const wasm = await createRuntime(graph, 'wasm', targets, settings, gpu.ort);
  const ids = tokenizer.encode(CANARY_TEXT, config.maxLength).inputIds;
  const gpuEmb = await embed(gpu, ids);
  const cpuEmb = await embed(wasm, ids);
  const maxAbsDiff = maxAbsDiffOf(gpuEmb, cpuEmb);
  if (!(maxAbsDiff <= CANARY_TOLERANCE)) {
    const msg = `WebGPU disagreed with WASM on the canary text (max abs diff ${maxAbsDiff.toExponential(2)} > ${CANARY_TOLERANCE}); using WASM so that no wrong embeddings are served.`;
    console.warn(`[router-retriever] ${msg}`);
    await releaseRuntime(gpu);
    return { runtime: wasm, maxAbsDiff, dropped: msg };
  }
  await releaseRuntime(wasm);
  return { runtime: gpu, maxAbsDiff, dropped: null };
}
