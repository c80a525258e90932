/** The checked form of search()'s options: k, mode, fusion and filter validated before any work. */
import { RouterRetrieverError } from '../boundary/errors.js';
import { checkFilter, type FilterNode } from '../filter/check.js';
import type { FieldSchema } from '../filter/fields.js';
import { checkFusion, type FusionSetting } from '../hybrid/fusion-json.js';
import type { SearchMode, SearchOptions } from '../types.js';

/** How many of each side's best take part in a fusion (the dense side is searched this deep, or k when larger). */
export const FUSION_DEPTH = 100;

/** The largest k: results are materialised as arrays of hits (a k of 2^31 was a plain RangeError). */
export const MAX_K = 100_000;

export interface CheckedSearch {
  k: number;
  mode: SearchMode;
  fusion: FusionSetting;
  expert: 'auto' | 'none' | string;
  /** The filter, checked against the collection's filterable fields (undefined: none). */
  filter?: FilterNode;
}

export function checkSearchOptions(
  options: SearchOptions | undefined,
  defaultFusion: FusionSetting,
  fields: FieldSchema = {},
): CheckedSearch {
  const o = options ?? {};
  if (typeof o !== 'object' || o === null)
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      'search() options must be an object { k?, mode?, fusion?, expert?, filter?, signal? }.',
    );
  const k = o.k ?? 10;
  if (!Number.isInteger(k) || k < 0 || k > MAX_K)
    throw new RouterRetrieverError('INVALID_INPUT', `k must be an integer from 0 to ${MAX_K}, got ${String(k)}.`, {
      field: 'k',
    });
  const mode = o.mode ?? 'hybrid';
  if (mode !== 'hybrid' && mode !== 'dense' && mode !== 'lexical') {
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      `mode must be 'hybrid', 'dense' or 'lexical', got ${JSON.stringify(mode)}.`,
      { field: 'mode' },
    );
  }
  const fusion = o.fusion === undefined ? defaultFusion : checkFusion(o.fusion, 'fusion');
  const expert = o.expert ?? 'auto';
  if (typeof expert !== 'string' || expert === '')
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      `expert must be 'auto', 'none' or an expert name, got ${JSON.stringify(expert)}.`,
      { field: 'expert' },
    );
  const filter = checkFilter(o.filter, fields);
  return filter ? { k, mode, fusion, expert, filter } : { k, mode, fusion, expert };
}
