/**
 * The shape of the code, read from the sources: which files the worker loads up front, the one
 * direction of imports (main thread -> src/boundary <- workers/; only the Node entry composes
 * both sides), and the size limit of a module.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports of a file: static ones (import/export ... from) and dynamic import(). */
function importsOf(file: string): { static: string[]; dynamic: string[] } {
  const src = readFileSync(file, 'utf8');
  const at = (re: RegExp) => [...src.matchAll(re)].map((m) => m[1]).filter((s) => s.startsWith('.'));
  const toPath = (s: string) => resolve(dirname(file), s.replace(/\.js$/, '.ts'));
  return {
    static: at(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)
      .concat(at(/^import\s+'([^']+)'/gm))
      .map(toPath),
    dynamic: at(/import\(\s*'([^']+)'\s*\)/g).map(toPath),
  };
}

function staticClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    todo.push(...importsOf(f).static);
  }
  return seen;
}

const rel = (p: string) => relative(ROOT, p);

describe('code layout', () => {
  it('loads the .bin readers (zip, pickle, torch-bin) only through a dynamic import', () => {
    const upFront = [...staticClosure(join(ROOT, 'workers', 'encoder.worker.ts'))].map(rel);
    expect(upFront).toContain('workers/model/safetensors.ts');
    expect(upFront).toContain('workers/tokenizer/tokenizer.ts');
    expect(upFront.filter((f) => /workers\/model\/(zip|pickle[^/]*|torch-bin)\.ts$/.test(f))).toEqual([]);
    const dynamic = filesUnder(join(ROOT, 'workers')).flatMap((f) => importsOf(f).dynamic.map(rel));
    expect(dynamic).toContain('workers/model/torch-bin.ts');
  });

  it('imports from src/ only the boundary, and the boundary imports nothing else', () => {
    const bad = filesUnder(join(ROOT, 'workers')).flatMap((f) =>
      [...importsOf(f).static, ...importsOf(f).dynamic]
        .map(rel)
        .filter((p) => p.startsWith('src/') && !p.startsWith('src/boundary/'))
        .map((p) => `${rel(f)} -> ${p}`),
    );
    expect(bad).toEqual([]);
    const boundary = filesUnder(join(ROOT, 'src', 'boundary')).flatMap((f) =>
      importsOf(f)
        .static.map(rel)
        .filter((p) => !p.startsWith('src/boundary/'))
        .map((p) => `${rel(f)} -> ${p}`),
    );
    expect(boundary).toEqual([]);
  });

  it('the main thread imports no worker code (only the Node entry composes both sides)', () => {
    const bad = filesUnder(join(ROOT, 'src')).flatMap((f) =>
      rel(f) === 'src/node.ts'
        ? []
        : [...importsOf(f).static, ...importsOf(f).dynamic]
            .map(rel)
            .filter((p) => p.startsWith('workers/'))
            .map((p) => `${rel(f)} -> ${p}`),
    );
    expect(bad).toEqual([]);
  });

  it('keeps the search service (server/) out of the SDK: src/ imports neither server/ nor its database packages', () => {
    const bad = filesUnder(join(ROOT, 'src')).flatMap((f) => {
      const src = readFileSync(f, 'utf8');
      const local = [...importsOf(f).static, ...importsOf(f).dynamic].map(rel).filter((p) => p.startsWith('server/'));
      const pkgs = [...src.matchAll(/from\s+'((?:pg|@electric-sql\/[^']+))'/g)].map((m) => m[1]);
      return [...local, ...pkgs].map((p) => `${rel(f)} -> ${p}`);
    });
    expect(bad).toEqual([]);
  });

  it('keeps every file of src/, workers/ and server/ under 400 lines', () => {
    const dirs = ['workers', 'src', 'server'];
    const long = dirs
      .flatMap((d) => filesUnder(join(ROOT, d)))
      .map((f) => [rel(f), readFileSync(f, 'utf8').split('\n').length] as const)
      .filter(([, n]) => n > 400);
    expect(long).toEqual([]);
  });
});
