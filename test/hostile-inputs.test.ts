import { describe, expect, it } from 'vitest';
import { isRouterRetrieverError, type ErrorCode } from '../src/boundary/errors.js';
import { validateDocs } from '../src/doc.js';
import { DEFAULT_FUSION } from '../src/hybrid/fusion-json.js';
import { checkSearchOptions, MAX_K } from '../src/retriever/search-options.js';
import { checkExpertName } from '../src/router/library-file.js';
import { exportPilotLibrary, parsePilotLibrary } from '../src/router/pilot-json.js';
import { routeMean } from '../src/router/route.js';
import { matchesTargetModules, parseAdapterConfig } from '../workers/lora/adapter.js';
import { patternProblem } from '../workers/lora/pattern-guard.js';

function expectCode(f: () => unknown, code: ErrorCode, match?: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(isRouterRetrieverError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
  if (match) expect((err as Error).message).toMatch(match);
}

describe('adapter patterns that could backtrack forever are refused before any match runs', () => {
  it('nested quantifiers, too many unbounded repetitions, backreferences, lookbehind, length', () => {
    expect(patternProblem('((\\w|\\.)+)+Z')).toMatch(/nested quantifiers/);
    expect(patternProblem('(a*)*')).toMatch(/nested/);
    expect(patternProblem('(?:x+){2,}')).toMatch(/nested/);
    expect(patternProblem('.*a.*b.*c.*d')).toMatch(/more than 3 unbounded/);
    expect(patternProblem('(a)\\1')).toMatch(/backreference/);
    expect(patternProblem('(?<=a)b')).toMatch(/lookbehind/);
    expect(patternProblem('a'.repeat(300))).toMatch(/300 characters/);
    // What PEFT configs really hold passes.
    for (const ok of [
      'query|value',
      '.*\\.(query|key|value)',
      '(?:.*\\.)?(?:encoder\\.layer\\.0\\.attention\\.self\\.query)',
      'encoder\\.layer\\.\\d+\\.attention\\.self\\.(query|value)',
      '[a-z_]+\\.(q|v)_proj',
      '(a+)?b',
      'x{2,4}y*?',
    ])
      expect(patternProblem(ok), ok).toBeNull();
  });

  it('parseAdapterConfig refuses them as MODEL_FORMAT naming the field; normal configs match as before', () => {
    const base = { peft_type: 'LORA', r: 4, lora_alpha: 8 };
    expectCode(
      () => parseAdapterConfig({ ...base, target_modules: '((\\w|\\.)+)+Z' }),
      'MODEL_FORMAT',
      /target_modules .*nested quantifiers/,
    );
    expectCode(
      () => parseAdapterConfig({ ...base, target_modules: ['query'], rank_pattern: { '.*a.*b.*c': 2 } }),
      'MODEL_FORMAT',
      /rank_pattern key ".\*a.\*b.\*c"/,
    );
    const c = parseAdapterConfig({ ...base, target_modules: '.*\\.(query|value)', rank_pattern: { query: 2 } });
    expect(matchesTargetModules(c.targetModules, 'encoder.layer.0.attention.self.query')).toBe(true);
    expect(matchesTargetModules(c.targetModules, 'encoder.layer.0.attention.self.key')).toBe(false);
    // Pattern maps are null-prototype: a key "__proto__" is a key.
    const p = parseAdapterConfig({ ...base, target_modules: ['query'], rank_pattern: JSON.parse('{"__proto__": 3}') });
    expect(Object.keys(p.rankPattern)).toEqual(['__proto__']);
  });
});

describe('document metadata must be plain JSON data, checked before anything is embedded', () => {
  const doc = (metadata: unknown) => [{ id: 'd1', text: 'x', metadata }];
  it('cycles, BigInt, functions, symbols, undefined, NaN, Dates and Maps are INVALID_INPUT naming the field', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    expectCode(() => validateDocs(doc(cyclic)), 'INVALID_INPUT', /metadata\.self\.back .*refers back to itself/);
    expectCode(() => validateDocs(doc({ n: 10n })), 'INVALID_INPUT', /metadata\.n .*is a bigint/);
    expectCode(() => validateDocs(doc({ f: () => 1 })), 'INVALID_INPUT', /metadata\.f .*is a function/);
    expectCode(() => validateDocs(doc({ s: Symbol('x') })), 'INVALID_INPUT', /is a symbol/);
    expectCode(() => validateDocs(doc({ list: [1, undefined] })), 'INVALID_INPUT', /metadata\.list\[1\] .*undefined/);
    expectCode(() => validateDocs(doc({ x: Number.NaN })), 'INVALID_INPUT', /is NaN/);
    expectCode(() => validateDocs(doc({ when: new Date(0) })), 'INVALID_INPUT', /is a Date object/);
    expectCode(() => validateDocs(doc({ m: new Map() })), 'INVALID_INPUT', /is a Map object/);
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 100; i++) deep = (deep.x = {}) as Record<string, unknown>;
    expectCode(() => validateDocs(doc(root)), 'INVALID_INPUT', /nested deeper than 64/);
  });

  it('plain data passes, shared (non-cyclic) references included', () => {
    const shared = { tag: 'a' };
    validateDocs(doc({ a: 1, b: 'x', c: [true, null, { d: -2.5 }], e: shared, f: shared, g: Object.create(null) }));
  });
});

describe('other hostile arguments', () => {
  it('k beyond MAX_K is INVALID_INPUT, not a RangeError', () => {
    expectCode(
      () => checkSearchOptions({ k: 2 ** 31 }, DEFAULT_FUSION),
      'INVALID_INPUT',
      /k must be an integer from 0/,
    );
    expect(checkSearchOptions({ k: MAX_K }, DEFAULT_FUSION).k).toBe(MAX_K);
  });

  it('an expert named __proto__ routes, scores and exports like any other; reserved names are refused', () => {
    const lib = parsePilotLibrary(JSON.parse('{"__proto__": [[1, 0]], "b": [[0, 1]]}'));
    const r = routeMean(new Float32Array([1, 0]), lib);
    expect(r.expert).toBe('__proto__');
    expect(Object.keys(r.scores)).toEqual(['__proto__', 'b']);
    expect(Object.keys(JSON.parse(exportPilotLibrary(lib)))).toEqual(['__proto__', 'b']);
    expectCode(() => checkExpertName('_abstain'), 'INVALID_INPUT', /cannot name an expert/);
    expectCode(() => checkExpertName(''), 'INVALID_INPUT', /non-empty name/);
    checkExpertName('__proto__');
  });
});
