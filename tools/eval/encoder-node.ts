/**
 * Node side of the dense evaluation: the SDK's EncoderEngine (workers/engine) on
 * onnxruntime-web's WASM backend, in-process, with the model and experts read from
 * disk as in-memory file sets (or fetched from a URL).
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { RouterRetrieverError } from '../../src/boundary/errors.js';
import { encoderBackend, type DenseBackend } from '../../src/eval/dense.js';
import { EncoderEngine, type OrtRuntime } from '../../workers/engine/encoder-engine.js';
import type { ModelInfo, ModelSpec } from '../../src/boundary/encoder-api.js';

/** Files the loaders read (model folder, sentence-transformers extras, PEFT adapter), in preference order per role. */
const TEXT_FILES = [
  'config.json',
  'tokenizer.json',
  'vocab.txt',
  'tokenizer_config.json',
  'modules.json',
  '1_Pooling/config.json',
  'adapter_config.json',
];
const WEIGHT_FILES = [
  ['model.safetensors', 'pytorch_model.bin'],
  ['adapter_model.safetensors', 'adapter_model.bin'],
];

async function exists(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** A model or adapter location: an http(s) URL stays a URL; a folder is read into { files } (one weights file per role). */
export async function modelSpecOf(location: string): Promise<ModelSpec> {
  if (/^https?:\/\//i.test(location)) return location;
  const dir = resolve(location);
  let isDir = false;
  try {
    isDir = (await stat(dir)).isDirectory();
  } catch {
    /* reported below */
  }
  if (!isDir)
    throw new RouterRetrieverError('FILE_NOT_FOUND', `${location} is not a folder (nor an http(s) URL)`, { file: dir });
  const files: Record<string, Uint8Array> = {};
  for (const name of TEXT_FILES)
    if (await exists(join(dir, name))) files[name] = new Uint8Array(await readFile(join(dir, name)));
  for (const group of WEIGHT_FILES) {
    for (const name of group) {
      if (await exists(join(dir, name))) {
        files[name] = new Uint8Array(await readFile(join(dir, name)));
        break;
      }
    }
  }
  return { id: dir, files };
}

/** Every subfolder of `dir` that holds an adapter_config.json, sorted by name: [{ name, dir }]. */
export async function expertsInDir(dir: string): Promise<{ name: string; dir: string }[]> {
  let entries: string[];
  try {
    entries = (await readdir(resolve(dir))).sort();
  } catch (e) {
    throw new RouterRetrieverError('FILE_NOT_FOUND', `cannot list --experts-dir ${dir}: ${(e as Error).message}`, {
      file: dir,
    });
  }
  const out: { name: string; dir: string }[] = [];
  for (const name of entries) {
    const sub = join(resolve(dir), name);
    if (await exists(join(sub, 'adapter_config.json'))) out.push({ name: basename(sub), dir: sub });
  }
  if (out.length === 0)
    throw new RouterRetrieverError('NOT_FOUND', `--experts-dir ${dir}: no subfolder with an adapter_config.json`);
  return out;
}

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
  const info = await engine.load(await modelSpecOf(o.model), {
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
    const x = await engine.addExpert(e.name, await modelSpecOf(e.dir));
    log(`expert ${e.name}: r ${x.r}, alpha ${x.alpha}, targets ${x.targets.length}, from ${e.dir}`);
  }
  return {
    backend: encoderBackend(engine, info, { batchSize: o.batchSize, docMaxLength: o.docMaxLength }),
    engine,
    info,
    dispose: () => engine.dispose(),
  };
}
