import { describe, expect, it } from 'vitest';
import { DatasetRouter, exportPilotLibrary, parsePilotLibrary, routeMax, routeMean } from '../src/router/index.js';
import { isRouterRetrieverError } from '../src/boundary/errors.js';

const f = (...x: number[]) => new Float32Array(x);

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isRouterRetrieverError(e) ? e.code : 'other';
  }
  return undefined;
}

describe('routing', () => {
  const pilots = new Map([
    ['a', [f(1, 0), f(0, 1)]],
    ['b', [f(0.5, 0.5)]],
    ['c', [f(-1, 0), f(2, 0)]],
  ]);
  it('mean: average dot product per expert', () => {
    // q=(2,1): a (2+1)/2=1.5, b 1.5, c (-2+4)/2=1 -> tie a/b -> a (first)
    expect(routeMean(f(2, 1), pilots)).toEqual({ expert: 'a', scores: { a: 1.5, b: 1.5, c: 1 } });
    // q=(3,0): a 1.5, b 1.5, c 1.5 -> three-way tie -> a
    expect(routeMean(f(3, 0), pilots).expert).toBe('a');
  });
  it('max: nearest single pilot', () => {
    // q=(2,1): a max(2,1)=2, b 1.5, c max(-2,4)=4 -> c
    expect(routeMax(f(2, 1), pilots)).toEqual({ expert: 'c', scores: { a: 2, b: 1.5, c: 4 } });
  });
  it('ties follow insertion order, experts without pilots are skipped', () => {
    const p = new Map([
      ['empty', [] as Float32Array[]],
      ['z', [f(1, 1)]],
      ['y', [f(1, 1)]],
    ]);
    expect(routeMean(f(1, 2), p)).toEqual({ expert: 'z', scores: { z: 3, y: 3 } });
    expect(routeMax(f(1, 2), new Map([...p].reverse())).expert).toBe('y');
  });
  it('errors', () => {
    expect(code(() => routeMean(f(1, 2, 3), pilots))).toBe('INVALID_INPUT');
    expect(code(() => routeMean(f(1, NaN), pilots))).toBe('INVALID_INPUT');
    expect(code(() => routeMax(f(1, 2), new Map()))).toBe('INVALID_INPUT');
  });
});

describe('pilot library JSON (authors shape)', () => {
  it('round trips exactly and keeps expert order', () => {
    const lib = new Map([
      ['msmarco', [f(0.1, -2.5, 3e-8)]],
      ['scifact', [f(1, 2, 3), f(Math.PI, Math.E, -1.5)]],
      ['none', []],
    ]);
    const json = exportPilotLibrary(lib);
    expect(JSON.parse(json).msmarco[0][0]).toBe(Math.fround(0.1));
    const back = parsePilotLibrary(json);
    expect([...back.keys()]).toEqual(['msmarco', 'scifact', 'none']);
    expect(back.get('scifact')![1]).toEqual(lib.get('scifact')![1]);
    expect(back.get('msmarco')![0]).toEqual(lib.get('msmarco')![0]);
  });
  it('validates', () => {
    expect(code(() => parsePilotLibrary('{'))).toBe('INVALID_INPUT');
    expect(code(() => parsePilotLibrary('[]'))).toBe('INVALID_INPUT');
    expect(code(() => parsePilotLibrary({ a: [1, 2] }))).toBe('INVALID_INPUT');
    expect(code(() => parsePilotLibrary({ a: [[1, 2]], b: [[1, 2, 3]] }))).toBe('INVALID_INPUT');
    expect(code(() => parsePilotLibrary({ a: [[1, '2']] }))).toBe('INVALID_INPUT');
    expect(code(() => parsePilotLibrary({ a: [[1, null]] }))).toBe('INVALID_INPUT');
    expect(code(() => parsePilotLibrary({ a: [[1, 1e39]] }))).toBe('INVALID_INPUT'); // overflows float32
    expect(code(() => parsePilotLibrary({ a: [[]] }))).toBe('INVALID_INPUT');
    expect(code(() => parsePilotLibrary({ a: [[1, 2]] }, { dim: 3 }))).toBe('INVALID_INPUT');
    expect(parsePilotLibrary({ a: [[1, 2]] }, { dim: 2 }).get('a')).toEqual([f(1, 2)]);
  });
});

describe('DatasetRouter', () => {
  const mk = (n: number, x: number) => Array.from({ length: n }, (_, i) => f(x, i / 1000));
  it('keeps 100 per domain deterministically and routes to the nearest instance domain', () => {
    const r1 = new DatasetRouter([
      { name: 'scifact', expert: 'e-sci', queryEmbeddings: mk(300, 1) },
      { name: 'fiqa', expert: 'e-fiqa', queryEmbeddings: mk(50, -1) },
    ]);
    const r2 = new DatasetRouter([
      { name: 'scifact', expert: 'e-sci', queryEmbeddings: mk(300, 1) },
      { name: 'fiqa', expert: 'e-fiqa', queryEmbeddings: mk(50, -1) },
    ]);
    expect(r1.instances.length).toBe(150);
    expect(r1.instances.map((i) => i.embedding[1])).toEqual(r2.instances.map((i) => i.embedding[1]));
    expect(new Set(r1.instances.slice(0, 100).map((i) => i.embedding[1])).size).toBe(100);
    const r = r1.route(f(2, 0));
    expect(r.expert).toBe('e-sci');
    expect(r.domain).toBe('scifact');
    expect(r.scores['e-sci']).toBe(2);
    expect(r.scores['e-fiqa']).toBe(-2);
    expect(r1.route(f(-1, 0)).expert).toBe('e-fiqa');
  });
  it('ties go to the first instance', () => {
    const r = new DatasetRouter([
      { name: 'a', expert: 'ea', queryEmbeddings: [f(1, 0)] },
      { name: 'b', expert: 'eb', queryEmbeddings: [f(1, 0)] },
    ]);
    expect(r.route(f(1, 1)).expert).toBe('ea');
  });
});
