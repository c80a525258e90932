/**
 * Node side of the dense evaluation: the SDK's EncoderEngine (workers/engine) on
 * onnxruntime-web's WASM backend, in-process, with the model and experts read from
 * disk as in-memory file sets by src/cli/model-dir.ts, the indexing CLI's reader (or fetched from a URL).
 */
import { modelSpecFrom } from '../../src/cli/model-dir.js';
import { encoderBackend, type DenseBackend } from '../../src/eval/dense.js';
import { EncoderEngine, type OrtRuntime } from '../../workers/engine/encoder-engine.js';
import type { ModelInfo } from '../../src/boundary/encoder-api.js';

export interface NodeEncoderOptions {
  model: string;
  experts: { name: string; dir: string }[];
  /** Tokens per text (documents and queries), at most the model's. */
  maxLength?: number;
  /** WASM threads (default 1: the eval usually shares the machine; raise it on an idle one). */
  threads?: number;
  batchSize?: number;
  /** Documents truncated to this many tokens (queries keep maxLength). */
  docMaxLength?: number;
  /** Encoder precision (LoadOptions.dtype; default fp32). */
  dtype?: 'fp32' | 'q8' | 'auto';
  /** onnxruntime build: 'wasm' (onnxruntime-web, as in the browser; default) or 'node' (onnxruntime-node, native). */
  runtime?: 'wasm' | 'node';
  log?: (line: string) => void;
}

export interface NodeEncoder {
  backend: DenseBackend;
  engine: EncoderEngine;
  info: ModelInfo;
  dispose(): Promise<void>;
}

export async function createNodeEncoder(o: NodeEncoderOptions): Promise<NodeEncoder> {
  const log = o.log ?? (() => {});
  const engine =
    o.runtime === 'node'
      ? new EncoderEngine({ ort: (await import('onnxruntime-node')) as unknown as OrtRuntime, cpuProvider: 'cpu' })
      : new EncoderEngine();
  const info = await engine.load(await modelSpecFrom(o.model), {
    device: 'wasm',
    cache: false,
    numThreads: o.threads ?? 1,
    ...(o.maxLength ? { maxLength: o.maxLength } : {}),
    ...(o.dtype ? { dtype: o.dtype } : {}),
  });
  log(
    `model ${o.model}: ${info.layers} layers, dim ${info.dim}, ${info.pooling} pooling${info.normalize ? ', normalised' : ''}, max length ${info.maxLength}, ${info.backend} ${info.dtype} (${o.runtime === 'node' ? 'onnxruntime-node' : 'onnxruntime-web'}, ${o.threads ?? 1} thread(s)), fingerprint ${info.fingerprint.slice(0, 12)}, loaded in ${info.loadMs.toFixed(0)} ms`,
  );
  for (const e of o.experts) {
    const x = await engine.addExpert(e.name, await modelSpecFrom(e.dir, 'the adapter'));
    log(`expert ${e.name}: r ${x.r}, alpha ${x.alpha}, targets ${x.targets.length}, from ${e.dir}`);
  }
  return {
    backend: encoderBackend(engine, info, { batchSize: o.batchSize, docMaxLength: o.docMaxLength }),
    engine,
    info,
    dispose: () => engine.dispose(),
  };
}
