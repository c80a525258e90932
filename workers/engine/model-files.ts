/**
 * Reading a base model or a LoRA adapter from a FileSource, the way users have them
 * (Hugging Face layout), into parsed config, tokenizer and weights.
 */
import { checkFinite, checkLayers } from '../model/model-check.js';
import { RouterRetrieverError } from '../../src/boundary/errors.js';
import { memorySource, urlSource, type FileSource } from '../model/file-source.js';
import { parseSafetensors } from '../model/safetensors.js';
import { sha256HexFast } from '../model/sha256.js';
import { parseBertConfig, type BertConfig } from '../model/config.js';
import { bertTokenizerFromVocab, optionsFromConfig, type TokenizerConfigJson } from '../tokenizer/from-vocab.js';
import { HfTokenizer, type TextTokenizer } from '../tokenizer/tokenizer.js';
import type { StateDict } from '../model/tensor.js';
import type { LoadOptions, LoadProgress, ModelSpec } from '../../src/boundary/encoder-api.js';

export const DEFAULT_CACHE = 'router-retriever-models';

export function sourceOf(spec: ModelSpec, cache: string | false | undefined): FileSource {
  if (typeof spec === 'string') {
    if (spec.trim() === '')
      throw new RouterRetrieverError(
        'INVALID_INPUT',
        'The model location is empty: pass a URL, a path such as /models/contriever-mini, or a Hub id.',
      );
    return urlSource(spec, { cacheName: cache === undefined ? DEFAULT_CACHE : cache });
  }
  if (spec && typeof spec === 'object' && spec.files && typeof spec.files === 'object') {
    return memorySource(spec.files, spec.id);
  }
  throw new RouterRetrieverError(
    'INVALID_INPUT',
    'A model must be a URL/path string or { files: { "config.json": ..., ... } }.',
  );
}

const decoder = new TextDecoder();

export async function readJson(
  source: FileSource,
  name: string,
  onProgress?: (p: LoadProgress) => void,
): Promise<unknown | null> {
  const bytes = await source.read(name, progressTo(onProgress));
  if (!bytes) return null;
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch (e) {
    throw new RouterRetrieverError(
      'MODEL_FORMAT',
      `${source.id}/${name} is not valid JSON (${(e as Error).message}). Check that the file is complete and not an HTML error page.`,
    );
  }
}

/** An HTML page (an SPA fallback or error page) where a binary or JSON file was expected. */
export function looksLikeHtml(bytes: Uint8Array): boolean {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 64));
  return /^\s*<(!doctype html|html[\s>])/i.test(head);
}

/**
 * Like readJson, for files a model folder may lack (tokenizer.json, tokenizer_config.json,
 * sentence-transformers files). Static hosts with an SPA fallback (vite dev, many CDNs)
 * answer a missing file with 200 and their index.html: an HTML page here means "absent".
 */
export async function readOptionalJson(
  source: FileSource,
  name: string,
  onProgress?: (p: LoadProgress) => void,
): Promise<unknown | null> {
  const bytes = await source.read(name, progressTo(onProgress));
  if (!bytes) return null;
  if (looksLikeHtml(bytes)) return null;
  const text = decoder.decode(bytes);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RouterRetrieverError(
      'MODEL_FORMAT',
      `${source.id}/${name} is not valid JSON (${(e as Error).message}). Check that the file is complete and not an HTML error page.`,
    );
  }
}

export function progressTo(onProgress?: (p: LoadProgress) => void) {
  return onProgress
    ? (p: { file: string; loaded: number; total: number | null }) =>
        onProgress({ phase: 'download', file: p.file, loaded: p.loaded, total: p.total })
    : undefined;
}

/** Keys as HF BertModel names them: `bert.` prefix removed, heads and buffers dropped. */
export function normalizeBertKeys(dict: StateDict): StateDict {
  const out: StateDict = new Map();
  for (const [key, t] of dict) {
    const k = key.startsWith('bert.') ? key.slice(5) : key;
    if (k.startsWith('cls.') || k.startsWith('pooler.') || k.endsWith('position_ids') || k.startsWith('lm_head.'))
      continue;
    out.set(k, t);
  }
  return out;
}

export interface BaseModelFiles {
  config: BertConfig;
  tokenizer: TextTokenizer;
  /** SHA-256 of config.json ++ the weights file: identifies the base model of an index. */
  fingerprint: string;
  weightsFile: string;
  readWeights: () => Promise<StateDict>;
  weights: StateDict;
}

async function readWeightsFile(
  source: FileSource,
  names: string[],
  onProgress?: (p: LoadProgress) => void,
): Promise<{ name: string; bytes: Uint8Array }> {
  for (const name of names) {
    const bytes = await source.read(name, progressTo(onProgress));
    if (bytes && !looksLikeHtml(bytes)) return { name, bytes };
  }
  throw new RouterRetrieverError(
    'FILE_NOT_FOUND',
    `No weights found in ${source.id}: expected one of ${names.join(', ')}.`,
  );
}

/**
 * safetensors, or PyTorch's zip/pickle format. The latter (zip + pickle + torch-bin, ~1,000
 * lines) is a separate chunk, fetched only for a folder that has no safetensors file.
 */
export async function parseWeights(name: string, bytes: Uint8Array): Promise<StateDict> {
  if (name.endsWith('.safetensors')) return parseSafetensors(bytes);
  const { parseTorchBin } = await import('../model/torch-bin.js');
  return parseTorchBin(bytes);
}

async function readOptionalText(
  source: FileSource,
  name: string,
  onProgress?: (p: LoadProgress) => void,
): Promise<string | null> {
  const bytes = await source.read(name, progressTo(onProgress));
  return bytes && !looksLikeHtml(bytes) ? decoder.decode(bytes) : null;
}

/** tokenizer.json when the folder has one, else one built from vocab.txt (+ tokenizer_config.json). */
export async function readTokenizer(
  source: FileSource,
  tokenizerConfig: Record<string, unknown> | null,
  onProgress?: (p: LoadProgress) => void,
): Promise<TextTokenizer> {
  const json = await readOptionalJson(source, 'tokenizer.json', onProgress);
  if (json) return HfTokenizer.fromJson(json, tokenizerConfig ?? {});
  const vocab = await readOptionalText(source, 'vocab.txt', onProgress);
  if (vocab === null)
    throw new RouterRetrieverError(
      'FILE_NOT_FOUND',
      `${source.id} has neither tokenizer.json nor vocab.txt: add the tokenizer files of the model.`,
    );
  const built = bertTokenizerFromVocab(vocab, optionsFromConfig((tokenizerConfig ?? {}) as TokenizerConfigJson));
  return HfTokenizer.fromJson(built.tokenizerJson, { ...built.tokenizerConfig, ...tokenizerConfig });
}

/** What a load reads before the weights: the small files, parsed and checked against each other. */
export interface ModelHead {
  source: FileSource;
  config: BertConfig;
  /** config.json as served (part of the fingerprint). */
  configBytes: Uint8Array;
  tokenizer: TextTokenizer;
}

export async function loadModelHead(
  spec: ModelSpec,
  options: LoadOptions,
  onProgress?: (p: LoadProgress) => void,
): Promise<ModelHead> {
  const source = sourceOf(spec, options.cache);
  // The small files at once: each is a round trip, and most optional ones are a 404.
  const tokenizerConfigP = readOptionalJson(source, 'tokenizer_config.json', onProgress) as Promise<Record<
    string,
    unknown
  > | null>;
  const tokenizerP = tokenizerConfigP.then((tc) => readTokenizer(source, tc, onProgress));
  tokenizerP.catch(() => undefined); // reported below, after config.json's own errors
  const [configBytes, tokenizerConfig, poolingConfig, modulesJson] = await Promise.all([
    source.read('config.json', progressTo(onProgress)),
    tokenizerConfigP,
    readOptionalJson(source, '1_Pooling/config.json', onProgress) as Promise<Record<string, unknown> | null>,
    readOptionalJson(source, 'modules.json', onProgress) as Promise<unknown[] | null>,
  ]);
  if (!configBytes || looksLikeHtml(configBytes)) {
    throw new RouterRetrieverError(
      'FILE_NOT_FOUND',
      `${source.id}/config.json was not found. A model folder needs config.json, vocab.txt or tokenizer.json, and model.safetensors or pytorch_model.bin.`,
    );
  }
  let configJson: unknown;
  try {
    configJson = JSON.parse(decoder.decode(configBytes));
  } catch (e) {
    throw new RouterRetrieverError(
      'MODEL_FORMAT',
      `${source.id}/config.json is not valid JSON (${(e as Error).message}).`,
    );
  }
  const config = parseBertConfig(
    configJson,
    {
      poolingConfig: poolingConfig ?? undefined,
      modulesJson: modulesJson ?? undefined,
      tokenizerConfig: tokenizerConfig ?? undefined,
    },
    { pooling: options.pooling, normalize: options.normalize, maxLength: options.maxLength },
  );
  const tokenizer = await tokenizerP;
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new RouterRetrieverError(
      'MODEL_FORMAT',
      `The tokenizer has ${tokenizer.vocabSize} tokens but config.json's vocab_size is ${config.vocabSize}: the tokenizer files belong to another model.`,
      {
        tokenizerVocab: tokenizer.vocabSize,
        vocabSize: config.vocabSize,
      },
    );
  }
  return { source, config, configBytes, tokenizer };
}

/** The weights files a model folder may have, in the order they are looked for. */
export const WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin'];

/** The weights of the model of `head`, checked, and its fingerprint. */
export async function loadWeights(
  head: ModelHead,
  onProgress?: (p: LoadProgress) => void,
): Promise<Omit<BaseModelFiles, 'config' | 'tokenizer'>> {
  const { source, config, configBytes } = head;
  const first = await readWeightsFile(source, WEIGHT_FILES, onProgress);
  onProgress?.({ phase: 'parse', file: first.name });
  const weights = normalizeBertKeys(await parseWeights(first.name, first.bytes));
  checkLayers(config.layers, weights, first.name);
  checkFinite(weights, first.name);
  const fingerprint = await sha256HexFast([configBytes, first.bytes]);
  const readWeights = () => rereadWeights(source, first.name);
  return { fingerprint, weightsFile: first.name, readWeights, weights };
}

/** The weights file `name` of `source` read and parsed again (no checks: they passed when it was first read). */
export async function rereadWeights(source: FileSource, name: string): Promise<StateDict> {
  const again = await readWeightsFile(source, [name]);
  return normalizeBertKeys(await parseWeights(again.name, again.bytes));
}

export async function loadBaseModel(
  spec: ModelSpec,
  options: LoadOptions,
  onProgress?: (p: LoadProgress) => void,
): Promise<BaseModelFiles> {
  const head = await loadModelHead(spec, options, onProgress);
  return { config: head.config, tokenizer: head.tokenizer, ...(await loadWeights(head, onProgress)) };
}

export interface AdapterFiles {
  configJson: unknown;
  weights: StateDict;
  source: string;
}

export async function loadAdapter(
  spec: ModelSpec,
  cache: string | false | undefined,
  onProgress?: (p: LoadProgress) => void,
): Promise<AdapterFiles> {
  const source = sourceOf(spec, cache);
  const configJson = await readJson(source, 'adapter_config.json', onProgress);
  if (!configJson) {
    throw new RouterRetrieverError(
      'FILE_NOT_FOUND',
      `${source.id}/adapter_config.json was not found. An expert is a PEFT LoRA adapter folder: adapter_config.json + adapter_model.safetensors (or adapter_model.bin).`,
    );
  }
  const file = await readWeightsFile(source, ['adapter_model.safetensors', 'adapter_model.bin'], onProgress);
  const weights = await parseWeights(file.name, file.bytes);
  checkFinite(weights, `${source.id}/${file.name}`);
  return { configJson, weights, source: source.id };
}
