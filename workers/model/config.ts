/**
 * BertConfig from a Hugging Face config.json, plus the sentence-transformers files that choose
 * pooling and normalisation (1_Pooling/config.json, modules.json). Contriever has neither and
 * uses masked mean pooling without normalisation, which are the defaults.
 */
import { RouterRetrieverError } from '../../src/boundary/errors.js';

export type HiddenAct = 'gelu' | 'gelu_new' | 'relu';
export type Pooling = 'mean' | 'cls';

export interface BertConfig {
  modelType: 'bert';
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  /** 'gelu' = exact erf GELU; 'gelu_new' = tanh approximation (also 'gelu_pytorch_tanh'). */
  hiddenAct: HiddenAct;
  pooling: Pooling;
  normalize: boolean;
  /** Longest token sequence fed to the model, [CLS] and [SEP] included. */
  maxLength: number;
}

export interface ConfigExtras {
  /** sentence-transformers 1_Pooling/config.json */
  poolingConfig?: unknown;
  /** sentence-transformers modules.json (a Normalize module => normalize) */
  modulesJson?: unknown;
  /** tokenizer_config.json (model_max_length caps maxLength) */
  tokenizerConfig?: unknown;
  /** sentence-transformers sentence_bert_config.json (max_seq_length caps maxLength) */
  sentenceBertConfig?: unknown;
}

export interface ConfigOverrides {
  pooling?: Pooling;
  normalize?: boolean;
  maxLength?: number;
}

function fmt(message: string, details: Record<string, unknown> = {}): RouterRetrieverError {
  return new RouterRetrieverError('MODEL_FORMAT', message, details);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function posInt(obj: Record<string, unknown>, key: string, dflt: number): number {
  const v = obj[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw fmt(`config.json: "${key}" must be a positive integer, got ${JSON.stringify(v)}.`, { field: key });
  }
  return v;
}

function parseAct(v: unknown): HiddenAct {
  switch (v ?? 'gelu') {
    case 'gelu':
      return 'gelu';
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return 'gelu_new';
    case 'relu':
      return 'relu';
    default:
      throw fmt(
        `config.json: hidden_act ${JSON.stringify(v)} is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh, relu).`,
        { field: 'hidden_act' },
      );
  }
}

/** Pooling from a sentence-transformers 1_Pooling/config.json. */
function parsePoolingConfig(pc: unknown): Pooling {
  if (!isObject(pc)) throw fmt('1_Pooling/config.json must be a JSON object.');
  if (typeof pc.pooling_mode === 'string') {
    if (pc.pooling_mode === 'mean' || pc.pooling_mode === 'cls') return pc.pooling_mode;
    throw fmt(`1_Pooling/config.json: pooling_mode "${pc.pooling_mode}" is not supported (use mean or cls).`);
  }
  const on = Object.entries(pc)
    .filter(([k, v]) => k.startsWith('pooling_mode_') && v === true)
    .map(([k]) => k.slice('pooling_mode_'.length));
  if (on.length === 1 && on[0] === 'mean_tokens') return 'mean';
  if (on.length === 1 && on[0] === 'cls_token') return 'cls';
  throw fmt(
    `1_Pooling/config.json enables pooling [${on.join(', ')}]; only exactly one of mean_tokens or cls_token is supported.`,
    { pooling: on },
  );
}

/** True when modules.json lists a Normalize module; rejects modules that would change outputs. */
function parseModules(mj: unknown): boolean {
  if (!Array.isArray(mj)) throw fmt('modules.json must be a JSON array.');
  let normalize = false;
  for (const m of mj) {
    const type = isObject(m) && typeof m.type === 'string' ? m.type : '';
    const short = type.split('.').pop() ?? '';
    if (short === 'Normalize') normalize = true;
    else if (short === 'Transformer' || short === 'Pooling') continue;
    else
      throw fmt(
        `modules.json: module ${JSON.stringify(type)} is not supported (only Transformer, Pooling and Normalize).`,
        { module: type },
      );
  }
  return normalize;
}

/**
 * Parses config.json (+ optional sentence-transformers files). Only `model_type: "bert"` with
 * absolute position embeddings is supported.
 */
export function parseBertConfig(
  configJson: unknown,
  extras: ConfigExtras = {},
  overrides: ConfigOverrides = {},
): BertConfig {
  if (!isObject(configJson)) throw fmt('config.json must be a JSON object.');
  const c = configJson;
  const modelType = c.model_type ?? 'bert';
  if (modelType !== 'bert') {
    throw fmt(
      `config.json: model_type ${JSON.stringify(modelType)} is not supported; only "bert" models work for now.`,
      {
        field: 'model_type',
      },
    );
  }
  const pet = c.position_embedding_type ?? 'absolute';
  if (pet !== 'absolute') {
    throw fmt(`config.json: position_embedding_type ${JSON.stringify(pet)} is not supported (only "absolute").`);
  }
  const hidden = posInt(c, 'hidden_size', 768);
  const heads = posInt(c, 'num_attention_heads', 12);
  if (hidden % heads !== 0) {
    throw fmt(`config.json: hidden_size ${hidden} is not a multiple of num_attention_heads ${heads}.`);
  }
  const eps = c.layer_norm_eps ?? 1e-12;
  if (typeof eps !== 'number' || !(eps > 0)) throw fmt('config.json: layer_norm_eps must be a positive number.');
  const maxPositions = posInt(c, 'max_position_embeddings', 512);

  let pooling: Pooling = 'mean';
  if (extras.poolingConfig !== undefined) pooling = parsePoolingConfig(extras.poolingConfig);
  let normalize = false;
  if (extras.modulesJson !== undefined) normalize = parseModules(extras.modulesJson);

  let maxLength = Math.min(512, maxPositions);
  for (const [obj, key] of [
    [extras.tokenizerConfig, 'model_max_length'],
    [extras.sentenceBertConfig, 'max_seq_length'],
  ] as const) {
    const v = isObject(obj) ? obj[key] : undefined;
    // tokenizer_config often holds a huge sentinel (1e30) meaning "unset".
    if (typeof v === 'number' && Number.isInteger(v) && v > 0 && v < maxLength) maxLength = v;
  }

  if (overrides.pooling !== undefined) {
    if (overrides.pooling !== 'mean' && overrides.pooling !== 'cls') {
      throw new RouterRetrieverError(
        'INVALID_INPUT',
        `pooling must be "mean" or "cls", got ${JSON.stringify(overrides.pooling)}.`,
      );
    }
    pooling = overrides.pooling;
  }
  if (overrides.normalize !== undefined) normalize = overrides.normalize;
  if (overrides.maxLength !== undefined) {
    const m = overrides.maxLength;
    if (!Number.isInteger(m) || m < 2 || m > maxPositions) {
      throw new RouterRetrieverError(
        'INVALID_INPUT',
        `maxLength must be an integer between 2 and max_position_embeddings (${maxPositions}), got ${m}.`,
      );
    }
    maxLength = m;
  }

  return {
    modelType: 'bert',
    vocabSize: posInt(c, 'vocab_size', 30522),
    hidden,
    layers: posInt(c, 'num_hidden_layers', 12),
    heads,
    intermediate: posInt(c, 'intermediate_size', 3072),
    maxPositions,
    typeVocabSize: posInt(c, 'type_vocab_size', 2),
    layerNormEps: eps,
    hiddenAct: parseAct(c.hidden_act),
    pooling,
    normalize,
    maxLength,
  };
}
