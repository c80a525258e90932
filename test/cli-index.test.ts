/**
 * `router-retriever index` (src/cli/): input errors name the file and the line, a failed run writes
 * nothing, a second run embeds only what changed, and the file it writes imports into a collection
 * that searches as one filled by add() (real engines: onnxruntime-node in the CLI, onnxruntime-web
 * WASM in the retriever; fake-indexeddb for the store).
 */
import 'fake-indexeddb/auto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIndex } from '../src/cli/index-command.js';
import { parseDocsCsv, parseDocsJsonl } from '../src/cli/read-docs.js';
import { RouterRetriever } from '../src/router-retriever.js';
import { readCollectionFile } from '../src/store/transfer.js';
import type { Doc } from '../src/types.js';
import { EncoderEngine } from '../workers/engine/encoder-engine.js';
import { FIXTURES, folderSpec } from './helpers/fixtures.js';

const MODEL = join(FIXTURES, 'tiny-bert');
const dir = mkdtempSync(join(tmpdir(), 'rr-cli-'));
const WORDS = 'apple banana cherry river mountain ocean protein cell gene market stock bond'.split(' ');
const docs: Doc[] = Array.from({ length: 40 }, (_, i) => ({
  id: `d${i}`,
  ...(i % 3 ? { title: `${WORDS[i % WORDS.length]} ${i}` } : {}),
  text: `${WORDS[(i * 7) % WORDS.length]} ${WORDS[(i * 5 + 1) % WORDS.length]} number ${i}`,
}));
const jsonl = (ds: Doc[]) => ds.map((d) => JSON.stringify(d)).join('\n');

function errorOf(f: () => unknown): { code?: string; message: string; details?: Record<string, unknown> } {
  try {
    f();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected an error');
}

describe('CLI input', () => {
  it.each([
    ['{"id":"a","text":"x"}\n{"id":"b","text":"y"', 2, /not valid JSON/],
    ['{"id":"a","text":"x"}\n\n{"text":"y"}', 3, /no id/],
    ['{"id":"a","text":"x"}\n{"id":"a","text":"y"}', 2, /duplicate id "a" \(first on line 1\)/],
    ['{"id":"a","text":["x"]}', 1, /"text" must be a string/],
    ['{"id":"a","text":"x","title":7}', 1, /"title" must be a string/],
    ['["a"]', 1, /expected a JSON object/],
  ])('JSONL %#: names the line and the fix', (text, line, what) => {
    const e = errorOf(() => parseDocsJsonl(text, 'docs.jsonl'));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toMatch(new RegExp(`^docs\\.jsonl:${line}: `));
    expect(e.message).toMatch(what);
  });

  it('CSV: a header with id and text, quoted fields over lines, extra columns as metadata; errors name the line', () => {
    const ok = parseDocsCsv('id,title,text,lang\n1,,"a ""quoted""\nfield",en\n2,T,b,fr\n', 'd.csv');
    expect(ok).toEqual([
      { id: '1', text: 'a "quoted"\nfield', metadata: { lang: 'en' } },
      { id: '2', title: 'T', text: 'b', metadata: { lang: 'fr' } },
    ]);
    expect(errorOf(() => parseDocsCsv('id,text\n1,a\n2,b,c\n', 'd.csv')).message).toMatch(/^d\.csv:3: 3 fields/);
    expect(errorOf(() => parseDocsCsv('id,text\n1,a\n1,b\n', 'd.csv')).message).toMatch(/^d\.csv:3: duplicate id "1"/);
    expect(errorOf(() => parseDocsCsv('name,body\nx,y\n', 'd.csv')).message).toMatch(/needs an "id" and a "text"/);
    expect(errorOf(() => parseDocsCsv('id,text\n1,"open\n', 'd.csv')).message).toMatch(/^d\.csv:2: a quoted field/);
  });
});

describe('router-retriever index', () => {
  const engine = new EncoderEngine();
  const lines: string[] = [];
  const io = { err: { write: (s: string) => lines.push(s) } };
  beforeAll(() => engine.load(folderSpec(MODEL), { device: 'wasm', dtype: 'fp32' }), 60_000);
  afterAll(async () => {
    await engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const out = join(dir, 'site.rrc');
  const input = join(dir, 'docs.jsonl');

  it('writes a file that imports and searches as add() does; a second run embeds only new and changed documents', async () => {
    writeFileSync(input, jsonl(docs));
    await runIndex([input, '--model', MODEL, '--out', out, '--threads', '1'], io);
    expect(lines.join('')).toMatch(/40 embedded, 0 unchanged/);
    expect(lines.join('')).toMatch(/embedding 40 \/ 40 documents \(100 %\), [\d.]+ docs\/s, ETA/);
    const first = readCollectionFile(new Uint8Array(readFileSync(out)));
    expect(first.header.count).toBe(40);

    const model = folderSpec(MODEL);
    // The CLI embeds at fp32 by default; add() at the same precision gives the same vectors.
    const added = await RouterRetriever.open({ name: 'cli-added', model, encoder: engine, dtype: 'fp32' });
    await added.add(docs);
    const imported = await RouterRetriever.importCollection('cli-imported', readFileSync(out), {
      model,
      encoder: engine,
      dtype: 'fp32',
    });
    for (const q of ['river number 7', 'banana market', 'gene 12']) {
      for (const mode of ['dense', 'lexical', 'hybrid'] as const) {
        const a = await added.search(q, { k: 10, mode, expert: 'none' });
        const b = await imported.search(q, { k: 10, mode, expert: 'none' });
        expect(
          b.hits.map((h) => `${h.id} ${h.score.toFixed(4)}`),
          `${mode} ${q}`,
        ).toEqual(a.hits.map((h) => `${h.id} ${h.score.toFixed(4)}`));
        b.hits.forEach((h, i) => expect(h.score).toBeCloseTo(a.hits[i].score, 5));
      }
    }
    await added.close();
    await imported.close();

    // Changed corpus: one text edited, one document gone, one new.
    const next = docs.slice(1).map((d) => (d.id === 'd5' ? { ...d, text: `${d.text} edited` } : d));
    next.push({ id: 'new', text: 'ocean protein' });
    writeFileSync(input, jsonl(next));
    lines.length = 0;
    await runIndex([input, '--model', MODEL, '--out', out, '--threads', '1'], io);
    expect(lines.join('')).toMatch(/40 documents \(2 embedded, 38 unchanged, 1 removed\)/);
    const second = readCollectionFile(new Uint8Array(readFileSync(out)));
    const row = (f: typeof first, id: string) => {
      const i = f.header.docs.findIndex((d) => d.id === id);
      return Array.from(f.vectors.subarray(i * 32, (i + 1) * 32));
    };
    expect(row(second, 'd9')).toEqual(row(first, 'd9'));
    expect(row(second, 'd5')).not.toEqual(row(first, 'd5'));
    expect(second.header.encoderDtype).toBe('fp32');

    // Another encoder precision: the file records it, and no row embedded at fp32 is reused.
    lines.length = 0;
    await runIndex([input, '--model', MODEL, '--out', out, '--threads', '1', '--dtype', 'q8'], io);
    expect(lines.join('')).toMatch(/was not reused: it was embedded at dtype fp32, not q8/);
    expect(lines.join('')).toMatch(/40 documents \(40 embedded, 0 unchanged/);
    const q8 = readCollectionFile(new Uint8Array(readFileSync(out)));
    expect(q8.header.encoderDtype).toBe('q8');
    expect(row(q8, 'd9')).not.toEqual(row(second, 'd9'));
  }, 120_000);

  it('bad input stops before anything is written: the previous file stays, no temporary file is left', async () => {
    const before = readFileSync(out);
    writeFileSync(input, `${jsonl(docs.slice(0, 3))}\n{"id":"d1","text":"again"}`);
    await expect(runIndex([input, '--model', MODEL, '--out', out], io)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: `${input}:4: duplicate id "d1" (first on line 2); ids must be unique`,
    });
    expect(readFileSync(out).equals(before)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['docs.jsonl', 'site.rrc']);
    await expect(runIndex([input, '--out', out], io)).rejects.toMatchObject({ message: /--model is needed/ });
    // An --out that is not a collection file is not overwritten unless --full says so.
    writeFileSync(input, jsonl(docs.slice(0, 3)));
    writeFileSync(out, 'not a collection');
    await expect(runIndex([input, '--model', MODEL, '--out', out], io)).rejects.toMatchObject({
      message: /cannot be reused .*pass --full/,
    });
    expect(readFileSync(out, 'utf8')).toBe('not a collection');
    await runIndex([input, '--model', MODEL, '--out', out, '--full', '--threads', '1'], io);
    expect(readCollectionFile(new Uint8Array(readFileSync(out))).header.count).toBe(3);
  });
});
