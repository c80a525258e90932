/** Validation of the lexical options a caller passes (open({ lexical })). */
import { RouterRetrieverError } from '../boundary/errors.js';
import { isAnalyzerName } from './analyzer.js';
import type { LexicalOptions } from './lexical-index.js';

function bad(field: string, want: string, got: unknown): never {
  throw new RouterRetrieverError(
    'INVALID_INPUT',
    `${field} must be ${want}, got ${JSON.stringify(got) ?? String(got)}.`,
    { field },
  );
}

/** The given fields of `x`, checked; INVALID_INPUT names the first bad field (e.g. "lexical.k1"). */
export function checkLexicalOptions(x: unknown, field = 'lexical'): Partial<LexicalOptions> {
  if (x === undefined) return {};
  if (typeof x !== 'object' || x === null || Array.isArray(x))
    bad(field, 'an object { analyzer?, k1?, b?, uniqueQueryTerms? }', x);
  const o = x as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!['analyzer', 'k1', 'b', 'uniqueQueryTerms'].includes(k))
      bad(`${field}.${k}`, 'one of analyzer, k1, b, uniqueQueryTerms (unknown option)', o[k]);
  const out: Partial<LexicalOptions> = {};
  if (o.analyzer !== undefined) {
    if (!isAnalyzerName(o.analyzer)) bad(`${field}.analyzer`, "'plain' or 'english'", o.analyzer);
    out.analyzer = o.analyzer;
  }
  if (o.k1 !== undefined) {
    if (typeof o.k1 !== 'number' || !Number.isFinite(o.k1) || o.k1 < 0)
      bad(`${field}.k1`, 'a finite number >= 0', o.k1);
    out.k1 = o.k1;
  }
  if (o.b !== undefined) {
    if (typeof o.b !== 'number' || !(o.b >= 0 && o.b <= 1)) bad(`${field}.b`, 'a number in [0, 1]', o.b);
    out.b = o.b;
  }
  if (o.uniqueQueryTerms !== undefined) {
    if (typeof o.uniqueQueryTerms !== 'boolean') bad(`${field}.uniqueQueryTerms`, 'a boolean', o.uniqueQueryTerms);
    out.uniqueQueryTerms = o.uniqueQueryTerms;
  }
  return out;
}
