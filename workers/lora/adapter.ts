/**
 * PEFT LoRA adapters: adapter_config.json parsing and validation of the adapter weights against
 * the base model (targets, shapes, ranks) before anything is merged.
 */
import { patternProblem } from './pattern-guard.js';
import { RouterRetrieverError } from '../../src/boundary/errors.js';
import type { F32Tensor, StateDict } from '../model/tensor.js';
import { toFloat32 } from '../model/tensor-convert.js';
import { loraScale } from './merge.js';

export interface AdapterConfig {
  r: number;
  loraAlpha: number;
  /** A list of module-name suffixes, or one regex string matched against the full module name. */
  targetModules: string[] | string;
  fanInFanOut: boolean;
  useRslora: boolean;
  useDora: boolean;
  /** Per-module rank / alpha overrides: regex key (matched against the module-name end) -> value. */
  rankPattern: Record<string, number>;
  alphaPattern: Record<string, number>;
  bias: 'none' | 'all' | 'lora_only';
  modulesToSave: string[];
  baseModelNameOrPath: string | null;
}

export interface ResolvedLora {
  /** HF key of the base weight, e.g. `encoder.layer.0.attention.self.query.weight`. */
  target: string;
  /** [r, in] */
  A: F32Tensor;
  /** [out, r] */
  B: F32Tensor;
  r: number;
  alpha: number;
  scale: number;
  /** Always false for BERT: PEFT turns fan_in_fan_out off for torch.nn.Linear targets. */
  fanInFanOut: boolean;
}

export interface ResolveOptions {
  onWarning?: (message: string) => void;
}

function mismatch(message: string, details: Record<string, unknown> = {}): RouterRetrieverError {
  return new RouterRetrieverError('ADAPTER_MISMATCH', message, details);
}
function format(message: string, details: Record<string, unknown> = {}): RouterRetrieverError {
  return new RouterRetrieverError('MODEL_FORMAT', message, details);
}

function numberMap(v: unknown, field: string): Record<string, number> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw format(`adapter_config.json: ${field} must be an object.`);
  const out = Object.create(null) as Record<string, number>;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (typeof x !== 'number' || !(x > 0))
      throw format(`adapter_config.json: ${field}["${k}"] must be a positive number.`);
    // Matched as PEFT does, against the end of a module name (see patternValue).
    guardPattern(`(?:.*\\.)?(?:${k})`, `${field} key "${k}"`);
    out[k] = x;
  }
  return out;
}

/** MODEL_FORMAT before any match runs when a pattern could take unbounded time (./pattern-guard.ts). */
function guardPattern(pattern: string, what: string): void {
  const problem = patternProblem(pattern);
  if (problem)
    throw format(
      `adapter_config.json: ${what} is refused as a regular expression: ${problem}, which can take unbounded time to match. Use a list of module names (PEFT's usual target_modules) or a simpler pattern.`,
      { pattern },
    );
}

/** Parses a PEFT adapter_config.json (LoRA only). */
export function parseAdapterConfig(json: unknown): AdapterConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw format('adapter_config.json must be a JSON object.');
  const c = json as Record<string, unknown>;
  if (c.peft_type !== undefined && c.peft_type !== 'LORA') {
    throw format(
      `adapter_config.json: peft_type "${String(c.peft_type)}" is not supported; only LoRA adapters (peft_type "LORA") work.`,
    );
  }
  const r = c.r ?? 8;
  if (typeof r !== 'number' || !Number.isInteger(r) || r <= 0)
    throw format(`adapter_config.json: r must be a positive integer, got ${JSON.stringify(r)}.`);
  const loraAlpha = c.lora_alpha ?? 8;
  if (typeof loraAlpha !== 'number' || !Number.isFinite(loraAlpha))
    throw format(`adapter_config.json: lora_alpha must be a number, got ${JSON.stringify(loraAlpha)}.`);
  const tm = c.target_modules;
  let targetModules: string[] | string;
  if (typeof tm === 'string') {
    guardPattern(tm, `target_modules "${tm}"`);
    targetModules = tm;
  } else if (Array.isArray(tm) && tm.every((x) => typeof x === 'string')) targetModules = tm as string[];
  else if (tm === undefined || tm === null) targetModules = [];
  else throw format('adapter_config.json: target_modules must be a list of names or a regex string.');
  if (c.use_dora === true) {
    throw format('This adapter uses DoRA (use_dora: true), which is not supported; use a plain LoRA adapter.');
  }
  const bias = c.bias ?? 'none';
  if (bias !== 'none' && bias !== 'all' && bias !== 'lora_only')
    throw format(`adapter_config.json: bias ${JSON.stringify(bias)} is not one of none, all, lora_only.`);
  const mts = c.modules_to_save;
  const modulesToSave = Array.isArray(mts) ? mts.filter((x): x is string => typeof x === 'string') : [];
  return {
    r,
    loraAlpha,
    targetModules,
    fanInFanOut: c.fan_in_fan_out === true,
    useRslora: c.use_rslora === true,
    useDora: false,
    rankPattern: numberMap(c.rank_pattern, 'rank_pattern'),
    alphaPattern: numberMap(c.alpha_pattern, 'alpha_pattern'),
    bias,
    modulesToSave,
    baseModelNameOrPath: typeof c.base_model_name_or_path === 'string' ? c.base_model_name_or_path : null,
  };
}

/** PEFT's pattern lookup: the first key whose regex matches the end of the module name. */
function patternValue(patterns: Record<string, number>, module: string): number | undefined {
  for (const [key, value] of Object.entries(patterns)) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:.*\\.)?(?:${key})$`);
    } catch {
      throw format(`adapter_config.json: pattern "${key}" is not a valid regular expression.`);
    }
    if (re.test(module)) return value;
  }
  return undefined;
}

/** Whether PEFT would have put a LoRA on `module` (target_modules semantics). */
export function matchesTargetModules(targetModules: string[] | string, module: string): boolean {
  if (typeof targetModules === 'string') {
    try {
      return new RegExp(`^(?:${targetModules})$`).test(module);
    } catch {
      throw format(`adapter_config.json: target_modules "${targetModules}" is not a valid regular expression.`);
    }
  }
  return targetModules.some((t) => module === t || module.endsWith(`.${t}`));
}

const HEAD_MODULES = /^(?:bert\.)?(?:classifier|pooler|cls|qa_outputs|score)(?:\.|$)/;

const LORA_KEY = /^(.*)\.(lora_A|lora_B)(?:\.([^.]+))?\.weight$/;

/**
 * Maps the adapter's tensors onto base weights and validates them.
 * `baseShapes` maps HF keys (without a `bert.` prefix) of the base Linear weights to their shapes
 * ([out, in]). Throws ADAPTER_MISMATCH naming the tensor on any inconsistency.
 */
export function resolveAdapter(
  config: AdapterConfig,
  adapterWeights: StateDict,
  baseShapes: ReadonlyMap<string, readonly number[]>,
  options: ResolveOptions = {},
): ResolvedLora[] {
  const warn = options.onWarning ?? (() => {});
  const pairs = new Map<string, { A?: string; B?: string }>();
  const adapterNames = new Set<string>();

  for (const rawKey of adapterWeights.keys()) {
    let key = rawKey.startsWith('base_model.model.') ? rawKey.slice('base_model.model.'.length) : rawKey;
    if (key.startsWith('bert.')) key = key.slice('bert.'.length);
    if (key.includes('lora_magnitude_vector')) {
      throw format(`Adapter tensor "${rawKey}" is a DoRA magnitude vector; DoRA adapters are not supported.`);
    }
    if (key.includes('.modules_to_save.') || key.includes('.original_module.')) {
      if (HEAD_MODULES.test(key)) {
        warn(`Ignoring "${rawKey}": a task head (modules_to_save) does not change the embeddings.`);
        continue;
      }
      throw mismatch(
        `Adapter tensor "${rawKey}" fully replaces a base module (modules_to_save), which is not supported: retrain the adapter without modules_to_save.`,
        { tensor: rawKey },
      );
    }
    if (key.includes('lora_embedding_')) {
      throw mismatch(
        `Adapter tensor "${rawKey}" adapts an embedding matrix; only Linear layers (query, key, value, dense) can be experts.`,
        {
          tensor: rawKey,
        },
      );
    }
    const m = LORA_KEY.exec(key);
    if (!m) {
      if (/\.bias$/.test(key) && config.bias !== 'none') {
        throw mismatch(
          `Adapter tensor "${rawKey}" is a trained bias (bias: "${config.bias}"); bias-trained adapters are not supported: retrain with bias="none".`,
          { tensor: rawKey },
        );
      }
      throw mismatch(
        `Adapter tensor "${rawKey}" is not a LoRA A/B matrix; this file does not look like a PEFT LoRA adapter for a BERT model.`,
        {
          tensor: rawKey,
        },
      );
    }
    const [, module, which, adapterName] = m;
    if (adapterName) adapterNames.add(adapterName);
    const p = pairs.get(module) ?? {};
    if (which === 'lora_A') p.A = rawKey;
    else p.B = rawKey;
    pairs.set(module, p);
  }
  if (adapterNames.size > 1) {
    throw mismatch(
      `The adapter file holds several adapters (${[...adapterNames].join(', ')}); save one adapter per folder.`,
    );
  }
  if (config.bias !== 'none') {
    throw mismatch(
      `adapter_config.json has bias: "${config.bias}"; bias-trained adapters are not supported: retrain with bias="none".`,
    );
  }
  if (pairs.size === 0) throw mismatch('The adapter has no LoRA tensors (lora_A / lora_B).');

  const out: ResolvedLora[] = [];
  for (const [module, p] of pairs) {
    if (!p.A || !p.B) {
      const have = p.A ?? p.B;
      throw mismatch(
        `Adapter tensor "${have}" has no matching ${p.A ? 'lora_B' : 'lora_A'}: the adapter file is incomplete.`,
        { tensor: have },
      );
    }
    const target = `${module}.weight`;
    const shape = baseShapes.get(target);
    if (!shape) {
      throw mismatch(
        `Adapter "${p.A}" targets "${target}", which the base model does not have (or which is not a switchable Linear weight). Is the adapter for this base model${config.baseModelNameOrPath ? ` (it was trained on ${config.baseModelNameOrPath})` : ''}?`,
        { tensor: p.A, target },
      );
    }
    if (
      !matchesTargetModules(config.targetModules, module) &&
      !matchesTargetModules(config.targetModules, `bert.${module}`)
    ) {
      warn(`"${module}" carries LoRA weights but is not listed in target_modules; merging it anyway.`);
    }
    if (shape.length !== 2)
      throw mismatch(`Base weight "${target}" is not a matrix (shape [${shape.join(', ')}]).`, { target });
    const [outDim, inDim] = shape;
    const r = patternValue(config.rankPattern, module) ?? config.r;
    const alpha = patternValue(config.alphaPattern, module) ?? config.loraAlpha;
    const At = adapterWeights.get(p.A)!;
    const Bt = adapterWeights.get(p.B)!;
    const expectA = [r, inDim];
    const expectB = [outDim, r];
    const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
    if (!same(At.shape, expectA)) {
      throw mismatch(
        `Adapter tensor "${p.A}" has shape [${At.shape.join(', ')}] but [${expectA.join(', ')}] (r, in) is expected for base weight "${target}" [${shape.join(', ')}] with r=${r}. Is the adapter for this base model and is adapter_config.json's r right?`,
        { tensor: p.A, expected: expectA, actual: At.shape },
      );
    }
    if (!same(Bt.shape, expectB)) {
      throw mismatch(
        `Adapter tensor "${p.B}" has shape [${Bt.shape.join(', ')}] but [${expectB.join(', ')}] (out, r) is expected for base weight "${target}" [${shape.join(', ')}] with r=${r}.`,
        { tensor: p.B, expected: expectB, actual: Bt.shape },
      );
    }
    const A: F32Tensor = { shape: [...At.shape], data: toFloat32(At) };
    const B: F32Tensor = { shape: [...Bt.shape], data: toFloat32(Bt) };
    out.push({ target, A, B, r, alpha, scale: loraScale(alpha, r, config.useRslora), fanInFanOut: false });
  }
  if (config.fanInFanOut) {
    warn('fan_in_fan_out is true but BERT layers are torch.nn.Linear; like PEFT, it is treated as false.');
  }
  return out;
}
