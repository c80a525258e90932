/**
 * The fusion setting: its default, its validation, and its place in the pilot library JSON.
 * A pilot library file (the authors' shape `{ "expert": [[...]] }`) may carry one more top-level
 * key, `"_fusion": { "method": "convex", "weight": 0.3 }`: the fusion learned with it, so that a
 * model folder carries both. `splitFusion` is the one reader of that key (through
 * src/router/library-file.ts, which the SDK, the eval harness and the tools call); `_fusion` is
 * never an expert.
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import { pilotLibraryValue } from '../router/pilot-json.js';
import type { FusionMethod } from './fusion.js';

/**
 * The lexical side's weights in the default convex fusion (min-max over each side's top 100,
 * BM25 with the SDK's default `english` analyzer), learned on training queries only: the grid
 * 0, 0.05, ..., 1 on the pilot queries of the five expert domains (scifact, nfcorpus, wikiqa
 * train; arguana, cranfield hash halves), macro nDCG@10 with the shipped model. BM25 + the
 * routed expert peaks at 0.65 (47.4; 0.8 gives 46.8); BM25 + the base encoder at 0.8 (45.0; 0.65
 * gives 44.6). `npm run eval -- --bm25-profile anserini --methods hybrid-base,hybrid-router ...`
 * prints both curves (meta.fusion of bench/results/quality-hybrid.json).
 */
export const DEFAULT_LEXICAL_WEIGHT = 0.65;
/** The lexical weight when a query stays on the base encoder (no expert chosen). */
export const DEFAULT_LEXICAL_WEIGHT_BASE = 0.8;

export const FUSION_KEY = '_fusion';

export interface FusionSetting {
  method: FusionMethod;
  /** Weight of the lexical side in [0, 1] (0 = dense only, 1 = lexical only). */
  weight: number;
  /** The lexical weight for a query that stays on the base encoder (no expert); default `weight`. */
  baseWeight?: number;
}

export const DEFAULT_FUSION: Readonly<FusionSetting> = Object.freeze({
  method: 'convex',
  weight: DEFAULT_LEXICAL_WEIGHT,
  baseWeight: DEFAULT_LEXICAL_WEIGHT_BASE,
});

/** Checks a fusion setting; INVALID_INPUT names the field (`field`.method, `field`.weight). */
export function checkFusion(x: unknown, field = 'fusion'): FusionSetting {
  const f = x as Partial<FusionSetting> | null;
  if (typeof f !== 'object' || f === null || Array.isArray(f)) {
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      `${field} must be an object { method: 'convex' | 'rrf', weight: number in [0, 1] }.`,
      { field },
    );
  }
  if (f.method !== 'convex' && f.method !== 'rrf') {
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      `${field}.method must be 'convex' or 'rrf', got ${JSON.stringify(f.method) ?? 'undefined'}.`,
      { field: `${field}.method` },
    );
  }
  if (typeof f.weight !== 'number' || !(f.weight >= 0 && f.weight <= 1)) {
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      `${field}.weight must be a number in [0, 1] (the lexical side's weight), got ${JSON.stringify(f.weight) ?? 'undefined'}.`,
      {
        field: `${field}.weight`,
      },
    );
  }
  if (f.baseWeight !== undefined && (typeof f.baseWeight !== 'number' || !(f.baseWeight >= 0 && f.baseWeight <= 1))) {
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      `${field}.baseWeight must be a number in [0, 1] (the lexical weight for queries on the base encoder), got ${JSON.stringify(f.baseWeight)}.`,
      { field: `${field}.baseWeight` },
    );
  }
  return f.baseWeight === undefined
    ? { method: f.method, weight: f.weight }
    : { method: f.method, weight: f.weight, baseWeight: f.baseWeight };
}

/**
 * Splits a pilot library (JSON text or parsed) into its experts and its fusion setting. The
 * experts part is returned unchecked (parsePilotLibrary validates it); the fusion is checked.
 */
export function splitFusion(input: string | unknown): { pilots: unknown; fusion: FusionSetting | undefined } {
  const obj = pilotLibraryValue(input);
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj) || !(FUSION_KEY in obj))
    return { pilots: obj, fusion: undefined };
  const { [FUSION_KEY]: raw, ...pilots } = obj as Record<string, unknown>;
  return { pilots, fusion: checkFusion(raw, `The pilot library's "${FUSION_KEY}"`) };
}
