/**
 * The SDK as npm users get it: `npm run build:lib`, `npm pack`, and the tarball installed into a
 * copy of e2e/consumer-app (test-results/consumer). From there:
 * - a Vite app imports the main entry and the widget entry: its encoder worker comes out of the
 *   app's own bundle, fetches only the plain WASM onnxruntime binary and matches the PyTorch
 *   goldens; the widget entry defines <router-search>;
 * - a plain Node script imports the Node entry and embeds texts with the fixture model;
 * - the bin (`router-retriever index`) writes a collection file, and stops on a bad line with file:line;
 * - `tsc` typechecks a consumer file against the tarball's d.ts files under moduleResolution
 *   nodenext and bundler.
 * Packages the tarball depends on resolve from this repo's node_modules (the consumer folder sits
 * below it), so nothing is downloaded.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, test } from '@playwright/test';
import { build, preview, type PreviewServer } from 'vite';

const ROOT = resolve(import.meta.dirname, '..');
const CONSUMER = join(ROOT, 'test-results', 'consumer');
const OUT = join(CONSUMER, 'dist');
const FIXTURES = join(ROOT, 'test', 'fixtures');
const golden = JSON.parse(readFileSync(join(FIXTURES, 'golden.json'), 'utf8')) as {
  texts: string[];
  embeddings: Record<string, number[][]>;
};
const DIM = golden.embeddings.base[0].length;

let server: PreviewServer | undefined;

function run(cmd: string, args: string[], cwd = ROOT): string {
  try {
    return execFileSync(cmd, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}\n${err.message}`);
  }
}

function worstDiff(values: number[], expected: number[][], n: number): number {
  let worst = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < DIM; j++) worst = Math.max(worst, Math.abs(values[i * DIM + j] - expected[i][j]));
  return worst;
}

test.describe('the packed SDK in third-party consumers', () => {
  // One browser project is enough: this is about packaging, the backends are covered elsewhere.
  test.skip(() => test.info().project.name !== 'wasm', 'packaging is checked once, in the wasm project');

  test.beforeAll(async () => {
    test.setTimeout(300_000);
    run('npm', ['run', 'build:lib', '--silent']);
    rmSync(CONSUMER, { recursive: true, force: true });
    const pack = join(CONSUMER, 'pack');
    mkdirSync(pack, { recursive: true });
    run('npm', ['pack', '--silent', '--pack-destination', pack]);
    const tarball = readdirSync(pack).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error('npm pack wrote no tarball');
    cpSync(join(ROOT, 'e2e', 'consumer-app'), CONSUMER, { recursive: true });
    writeFileSync(join(CONSUMER, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    const installed = join(CONSUMER, 'node_modules', 'router-retriever-web');
    mkdirSync(installed, { recursive: true });
    run('tar', ['-xzf', join(pack, tarball), '-C', installed, '--strip-components=1']);
    await build({
      configFile: false,
      root: CONSUMER,
      logLevel: 'warn',
      publicDir: FIXTURES,
      worker: { format: 'es' },
      build: {
        outDir: OUT,
        emptyOutDir: true,
        target: 'es2022',
        rollupOptions: { input: join(CONSUMER, 'index.html') },
      },
    });
    server = await preview({
      configFile: false,
      root: CONSUMER,
      logLevel: 'warn',
      build: { outDir: OUT },
      preview: { host: '127.0.0.1', port: 0 },
    });
  });

  test.afterAll(async () => {
    await server?.close();
  });

  test('the tarball holds the built entries, their types and the license, and no sources', () => {
    const listed = JSON.parse(run('npm', ['pack', '--dry-run', '--json', '--silent'])) as {
      files: { path: string }[];
    }[];
    const files = listed[0].files.map((f) => f.path);
    for (const f of [
      'LICENSE',
      'README.md',
      'package.json',
      'dist/lib/index.js',
      'dist/lib/widget.js',
      'dist/lib/node.js',
      'dist/lib/encoder.worker.js',
      'dist/lib/cli.js',
      'bin/router-retriever.js',
    ]) {
      expect(files, f).toContain(f);
    }
    for (const f of ['dist/lib/src/index.d.ts', 'dist/lib/src/widget.d.ts', 'dist/lib/src/node.d.ts'])
      expect(files, f).toContain(f);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  test('a Vite app imports the main and widget entries: one onnxruntime binary, golden embeddings, <router-search> defined', async ({
    page,
  }) => {
    const origin = server!.resolvedUrls!.local[0];
    const wasm: string[] = [];
    page.on('request', (r) => {
      const file = new URL(r.url()).pathname.split('/').pop() ?? '';
      if (file.endsWith('.wasm')) wasm.push(file);
    });
    await page.goto(origin);
    await page.waitForFunction(() => (window as unknown as { appReady?: boolean }).appReady === true);
    expect(await page.evaluate(() => (window as unknown as { widgetDefined: boolean }).widgetDefined)).toBe(true);
    const texts = golden.texts.slice(0, 3);
    const out = await page.evaluate(
      (t) =>
        (
          window as unknown as { embed(t: string[]): Promise<{ backend: string; base: number[]; expert: number[] }> }
        ).embed(t),
      texts,
    );
    expect(out.backend).toBe('wasm');
    expect(wasm).toHaveLength(1);
    expect(wasm[0]).toMatch(/^ort-wasm-simd-threaded-[\w-]+\.wasm$/); // the app's hashed copy of the plain build
    expect(worstDiff(out.base, golden.embeddings.base, texts.length), 'base').toBeLessThanOrEqual(1e-4);
    expect(worstDiff(out.expert, golden.embeddings['expert-a'], texts.length), 'expert-a').toBeLessThanOrEqual(1e-4);
  });

  test('a plain Node script imports the Node entry and embeds with the fixture model', () => {
    const texts = golden.texts.slice(0, 2);
    const out = JSON.parse(
      run('node', [join(CONSUMER, 'embed-node.mjs'), join(FIXTURES, 'tiny-bert'), ...texts], CONSUMER)
        .trim()
        .split('\n')
        .pop()!,
    ) as {
      backend: string;
      dim: number;
      base: number[];
      typedErrors: string;
    };
    expect(out.backend).toBe('wasm');
    expect(out.dim).toBe(DIM);
    expect(out.typedErrors).toBe('function');
    expect(worstDiff(out.base, golden.embeddings.base, texts.length)).toBeLessThanOrEqual(1e-4);
  });

  test("the package's bin indexes a JSONL file into a collection file; a bad line stops it with file:line", () => {
    const bin = join(CONSUMER, 'node_modules', 'router-retriever-web', 'bin', 'router-retriever.js');
    const docs = join(CONSUMER, 'docs.jsonl');
    const out = join(CONSUMER, 'site.rrc');
    writeFileSync(docs, golden.texts.map((t, i) => JSON.stringify({ id: `g${i}`, text: t })).join('\n'));
    const model = join(FIXTURES, 'tiny-bert');
    let log = '';
    try {
      execFileSync('node', [bin, 'index', docs, '--model', model, '--out', out, '--threads', '1'], {
        cwd: CONSUMER,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      throw new Error(`the bin failed: ${(e as { stderr?: string }).stderr}`);
    }
    const bytes = readFileSync(out);
    expect(bytes.subarray(0, 6).toString('latin1')).toBe('RRCOLL');
    writeFileSync(docs, '{"id":"a","text":"x"}\n{"id":"a","text":"y"}\n');
    try {
      execFileSync('node', [bin, 'index', docs, '--model', model, '--out', out], { cwd: CONSUMER, stdio: 'pipe' });
    } catch (e) {
      const err = e as { status: number; stderr: Buffer };
      log = err.stderr.toString();
      expect(err.status).toBe(1);
    }
    expect(log).toContain(`${docs}:2: duplicate id "a" (first on line 1)`);
    expect(readFileSync(out).equals(bytes)).toBe(true);
  });

  for (const resolution of ['nodenext', 'bundler'] as const) {
    test(`tsc typechecks a consumer against the tarball's types (moduleResolution ${resolution})`, () => {
      const config = {
        compilerOptions: {
          target: 'ES2022',
          module: resolution === 'nodenext' ? 'NodeNext' : 'ESNext',
          moduleResolution: resolution === 'nodenext' ? 'NodeNext' : 'Bundler',
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          types: [],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ['check-types.ts'],
      };
      const file = `tsconfig.${resolution}.json`;
      writeFileSync(join(CONSUMER, file), JSON.stringify(config, null, 2));
      run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', file], CONSUMER);
    });
  }
});
