/**
 * A pilot library file: the authors' shape `{ "expert": [[...]] }` plus what the SDK learned
 * with it, under keys no expert can have: "_fusion" (src/hybrid/fusion-json.ts) and "_abstain"
 * (./abstain-json.ts). readLibraryFile is the one reader of those keys (the SDK, the eval
 * harness and the tools all call it); writeLibraryFile puts them back.
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import { FUSION_KEY, splitFusion, type FusionSetting } from '../hybrid/fusion-json.js';
import type { AbstainRule } from './abstain.js';
import { ABSTAIN_KEY, abstainFromJson, abstainToJson, checkRuleCovers } from './abstain-json.js';

/** What a pilot library carries besides the pilots. */
export interface PilotExtras {
  fusion?: FusionSetting;
  abstain?: AbstainRule;
}

/** Keys of a pilot library file that are not experts. */
export const RESERVED_KEYS: readonly string[] = [FUSION_KEY, ABSTAIN_KEY];

/**
 * Splits a pilot library (JSON text or parsed) into its experts (returned unchecked:
 * parsePilotLibrary validates them) and its extras (checked; `dim` the model's when known).
 */
export function readLibraryFile(input: string | unknown, dim?: number): { pilots: unknown } & PilotExtras {
  const { pilots, fusion } = splitFusion(input);
  const out: { pilots: unknown } & PilotExtras = { pilots };
  if (fusion) out.fusion = fusion;
  if (typeof pilots === 'object' && pilots !== null && !Array.isArray(pilots) && ABSTAIN_KEY in pilots) {
    const { [ABSTAIN_KEY]: raw, ...rest } = pilots as Record<string, unknown>;
    out.pilots = rest;
    out.abstain = abstainFromJson(raw, dim);
    checkRuleCovers(out.abstain, Object.keys(rest));
  }
  return out;
}

/** The authors' JSON shape with the extras added (those present). */
export function writeLibraryFile<T extends Record<string, unknown>>(pilots: T, extras: PilotExtras): T {
  const out: Record<string, unknown> = { ...pilots };
  if (extras.fusion) out[FUSION_KEY] = { ...extras.fusion };
  if (extras.abstain) out[ABSTAIN_KEY] = abstainToJson(extras.abstain);
  return out as T;
}

/** The expert names of a pilot library (JSON text or parsed), in order, without decoding the extras. */
export function libraryExperts(input: string | unknown): string[] {
  const obj = typeof input === 'string' ? (JSON.parse(input) as unknown) : input;
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return [];
  return Object.keys(obj).filter((k) => !RESERVED_KEYS.includes(k));
}

/** Throws INVALID_INPUT unless `name` can name an expert: a non-empty string that is not a reserved key. */
export function checkExpertName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '')
    throw new RouterRetrieverError('INVALID_INPUT', 'An expert needs a non-empty name.');
  if (RESERVED_KEYS.includes(name))
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      `"${name}" cannot name an expert: the pilot library file keeps its ${name.slice(1)} setting under that key. Choose another name.`,
      { expert: name },
    );
}
