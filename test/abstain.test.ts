import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  buildAbstainRule,
  decideRoute,
  quantizeUnit,
  withExpertGains,
  withoutExpert,
  type AbstainRule,
} from '../src/router/abstain.js';
import { abstainFromJson, abstainToJson } from '../src/router/abstain-json.js';
import { libraryExperts, readLibraryFile, writeLibraryFile } from '../src/router/library-file.js';

// test/fixtures/abstain-golden.json: tools/reference/abstain_ref.py (numpy, independent of the SDK).
const golden = JSON.parse(readFileSync(new URL('./fixtures/abstain-golden.json', import.meta.url), 'utf8')) as {
  experts: string[];
  dim: number;
  embeddings: number[][];
  codes: number[][];
  scales: number[];
  gains: number[][];
  cases: {
    k: number;
    minGain: number;
    allowed: string[];
    query: number[];
    expert: string | null;
    gains: Record<string, number>;
    similarity: number;
  }[];
};

function goldenRule(k: number, minGain: number): AbstainRule {
  const embeddings = golden.embeddings.map((r) => Float32Array.from(r));
  const scores: Record<string, number[]> = {};
  // Scores whose difference from the base is the golden gain.
  golden.experts.forEach((e, j) => (scores[e] = golden.gains.map((g) => 0.5 + g[j])));
  const base = golden.gains.map(() => 0.5);
  return buildAbstainRule(golden.experts, [{ queryEmbeddings: embeddings, baseScores: base, scores }], { k, minGain });
}

describe('abstaining router (kNN over training queries)', () => {
  it('quantizes each training query as numpy does: unit length, int8 codes, a scale per row', () => {
    const rule = goldenRule(7, 0.02);
    expect(Array.from(rule.codes)).toEqual(golden.codes.flat());
    rule.scales.forEach((s, i) => expect(s).toBeCloseTo(golden.scales[i], 7));
    // Every row's largest code is +-127 and the codes read back as a unit vector.
    for (let i = 0; i < golden.embeddings.length; i++) {
      const row = rule.codes.subarray(i * golden.dim, (i + 1) * golden.dim);
      expect(Math.max(...Array.from(row, Math.abs))).toBe(127);
      const norm = Math.hypot(...Array.from(row, (c) => c * rule.scales[i]));
      expect(norm).toBeCloseTo(1, 2);
    }
    const zero = new Int8Array(3);
    expect(quantizeUnit([0, 0, 0], zero, 0)).toBe(0);
  });

  it('decides like the reference: mean gains of the k nearest, the best expert above minGain, else the base', () => {
    let abstained = 0;
    for (const c of golden.cases) {
      const d = decideRoute(Float32Array.from(c.query), goldenRule(c.k, c.minGain), new Set(c.allowed));
      expect(d.expert).toBe(c.expert);
      expect(Object.keys(d.gains)).toEqual(c.allowed);
      for (const e of c.allowed) expect(d.gains[e]).toBeCloseTo(c.gains[e], 6);
      expect(d.similarity).toBeCloseTo(c.similarity, 6);
      expect(d.margin).toBeCloseTo(Math.max(...Object.values(c.gains)) - c.minGain, 6);
      if (d.expert === null) abstained++;
    }
    // The fixture exercises both outcomes.
    expect(abstained).toBeGreaterThan(0);
    expect(abstained).toBeLessThan(golden.cases.length);
  });

  it('adds and removes an expert column without touching the others', () => {
    const rule = goldenRule(7, 0.02);
    const q = Float32Array.from(golden.cases[0].query);
    const before = decideRoute(q, rule);
    const extra = Array.from({ length: golden.embeddings.length }, (_, i) => (i < 20 ? 0.5 : -0.5));
    const more = withExpertGains(rule, 'delta', extra);
    expect(more.experts).toEqual([...golden.experts, 'delta']);
    const after = decideRoute(q, more);
    for (const e of golden.experts) expect(after.gains[e]).toBeCloseTo(before.gains[e], 12);
    expect(after.expert).toBe('delta'); // query 0 sits in the first cluster, where delta gains 0.5
    const back = withoutExpert(more, 'delta')!;
    expect(back.experts).toEqual(golden.experts);
    expect(Array.from(back.gains)).toEqual(Array.from(rule.gains));
    expect(withoutExpert(withoutExpert(withoutExpert(rule, 'alpha')!, 'beta')!, 'gamma')).toBeUndefined();
    expect(() => withExpertGains(rule, 'x', [1, 2])).toThrow(/needs 60 gains/);
  });

  it('checks its inputs', () => {
    const v = new Float32Array([1, 0]);
    expect(() => buildAbstainRule([], [{ queryEmbeddings: [v], baseScores: [0], scores: {} }])).toThrow(/expert/);
    expect(() => buildAbstainRule(['a'], [{ queryEmbeddings: [v], baseScores: [0], scores: {} }])).toThrow(
      /score for expert "a"/,
    );
    expect(() =>
      buildAbstainRule(['a'], [{ queryEmbeddings: [v], baseScores: [0], scores: { a: [1] } }], { k: 0 }),
    ).toThrow(/k must be/);
    const rule = buildAbstainRule(['a'], [{ queryEmbeddings: [v], baseScores: [0], scores: { a: [1] } }]);
    expect(() => decideRoute(new Float32Array(3), rule)).toThrow(/3 dimensions, expected 2/);
    // Fewer training queries than k: all of them vote.
    expect(decideRoute(v, rule)).toMatchObject({ expert: 'a', k: 1, gains: { a: 1 } });
  });
});

describe('"_abstain" in the pilot library file', () => {
  const rule = goldenRule(7, 0.02);
  const lib = { alpha: [[1, 0]], beta: [[0, 1]], gamma: [[1, 1]] };

  it('round-trips exactly through JSON text, beside the pilots and "_fusion"', () => {
    const file = writeLibraryFile(lib, { fusion: { method: 'convex', weight: 0.6, baseWeight: 0.8 }, abstain: rule });
    const text = JSON.stringify(file);
    expect(libraryExperts(text)).toEqual(['alpha', 'beta', 'gamma']);
    const back = readLibraryFile(text, golden.dim);
    expect(back.pilots).toEqual(lib);
    expect(back.fusion).toEqual({ method: 'convex', weight: 0.6, baseWeight: 0.8 });
    expect(back.abstain).toEqual(rule);
    expect(readLibraryFile(lib)).toEqual({ pilots: lib });
  });

  it('refuses a broken rule with INVALID_INPUT naming the field and saying what to do', () => {
    const json = abstainToJson(rule);
    const bad = (patch: Record<string, unknown>, dim?: number) => () => abstainFromJson({ ...json, ...patch }, dim);
    expect(bad({ method: 'mean' })).toThrow(/method must be "knn"/);
    expect(bad({ k: 1.5 })).toThrow(/k must be an integer/);
    expect(bad({ experts: ['a', 'a', 'b'] })).toThrow(/twice/);
    expect(bad({ count: json.count + 1 })).toThrow(/codes holds/);
    expect(bad({ gains: json.scales })).toThrow(/gains holds/);
    expect(bad({ codes: '%%%' })).toThrow(/not valid base64/);
    expect(bad({}, 99)).toThrow(/12-d embeddings but the model's are 99-d/);
    expect(bad({ minGain: 'x' })).toThrow(/remove the key to route without abstaining/);
    const nan = new Float32Array(rule.scales);
    nan[3] = Number.NaN;
    expect(bad({ scales: abstainToJson({ ...rule, scales: nan }).scales })).toThrow(/non-finite value at 3/);
    // An expert of the library without a gain column could never be chosen.
    const file = writeLibraryFile({ ...lib, zeta: [[0, 0]] }, { abstain: rule });
    expect(() => readLibraryFile(file)).toThrow(/no gains for expert "zeta"/);
    let err: unknown;
    try {
      abstainFromJson({ ...json, k: 0 });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'INVALID_INPUT' });
  });
});
