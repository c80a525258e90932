/**
 * open()'s and importCollection()'s lexical, fusion and filterable options, checked before the
 * model loads (INVALID_INPUT names the field).
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import { checkFilterable } from '../filter/fields.js';
import { checkFusion } from '../hybrid/fusion-json.js';
import { checkLexicalOptions } from '../lexical/options.js';
import type { OpenOptions } from '../types.js';

export function checkHybridOptions(options: Omit<OpenOptions, 'name'>): void {
  checkLexicalOptions(options.lexical, 'lexical');
  if (options.filterable !== undefined) checkFilterable(options.filterable);
  if (options.fusion !== undefined) checkFusion(options.fusion, 'fusion');
  const m = options.onLexicalMismatch;
  if (m !== undefined && m !== 'error' && m !== 'rebuild')
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      `onLexicalMismatch must be 'error' or 'rebuild', got ${String(m)}.`,
    );
}
