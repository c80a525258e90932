/**
 * A model checked against itself before a session exists, so that WASM and WebGPU can never
 * disagree silently: one NaN or Inf in a weight made every embedding NaN and the SDK blamed the
 * document; a config with fewer layers than the checkpoint failed with an error about an argument
 * the user never passed, and `num_hidden_layers: 1e8` ran 22 s and took 1.4 GB before a RangeError.
 */
import { RouterRetrieverError } from '../../src/boundary/errors.js';
import type { StateDict, StoredTensor } from './tensor.js';

/** Index of the first NaN or infinite element of a floating-point tensor, or -1 (integer tensors: -1). */
export function firstNonFinite(t: StoredTensor): number {
  const d = t.data;
  if (t.dtype === 'float32' || t.dtype === 'float64') {
    for (let i = 0; i < d.length; i++) if (!Number.isFinite((d as Float32Array)[i])) return i;
    return -1;
  }
  // Raw half bits: all-ones exponent is Inf or NaN (float16 0x7c00, bfloat16 0x7f80).
  const mask = t.dtype === 'float16' ? 0x7c00 : t.dtype === 'bfloat16' ? 0x7f80 : 0;
  if (mask === 0) return -1;
  const u = d as Uint16Array;
  for (let i = 0; i < u.length; i++) if ((u[i] & mask) === mask) return i;
  return -1;
}

/** MODEL_FORMAT naming the tensor and the file when any floating-point weight holds a NaN or Inf. */
export function checkFinite(weights: StateDict, file: string): void {
  for (const [name, t] of weights) {
    const at = firstNonFinite(t);
    if (at >= 0)
      throw new RouterRetrieverError(
        'MODEL_FORMAT',
        `${file}: tensor "${name}" holds a NaN or infinite value at element ${at}; every embedding would be NaN. Re-export the weights from a healthy checkpoint.`,
        { file, tensor: name, index: at },
      );
  }
}

/** The encoder layers a checkpoint holds: 1 + the largest N of its `encoder.layer.N.` keys (0 when none). */
export function checkpointLayers(weights: StateDict): number {
  let max = -1;
  for (const name of weights.keys()) {
    const m = /^encoder\.layer\.(\d+)\./.exec(name);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}

/** MODEL_FORMAT unless config.json's num_hidden_layers is the checkpoint's layer count. */
export function checkLayers(configLayers: number, weights: StateDict, file: string): void {
  const have = checkpointLayers(weights);
  if (have !== configLayers)
    throw new RouterRetrieverError(
      'MODEL_FORMAT',
      `config.json says num_hidden_layers ${configLayers} but ${file} holds ${have} encoder layers: the config and the weights belong to different models. Use the model's own config.json.`,
      { configLayers, checkpointLayers: have, file },
    );
}
