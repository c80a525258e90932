/**
 * open({ prebuilt: url }) (src/retriever/prebuilt.ts): a file served over real HTTP is imported
 * into an empty collection, left alone when it is the same file (writes made on top stay), replaced
 * by a new version, never imported over documents from elsewhere, and refused for another model
 * with the old collection intact. Real engine (tiny model, WASM), fake-indexeddb for the store.
 */
import 'fake-indexeddb/auto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadProgress } from '../src/boundary/encoder-api.js';
import { RouterRetriever } from '../src/router-retriever.js';
import type { Doc } from '../src/types.js';
import { EncoderEngine } from '../workers/engine/encoder-engine.js';
import { serveFiles } from './helpers/file-server.js';
import { FIXTURES, folderSpec } from './helpers/fixtures.js';

const model = folderSpec(join(FIXTURES, 'tiny-bert'));
const docs = (word: string, n: number): Doc[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${word}${i}`, text: `${word} number ${i}` }));
const files = new Map<string, Uint8Array>();
let server: { base: string; close: () => void };
let base = '';
let seq = 0;
const fresh = () => `pre-${++seq}-${Date.now()}`;

describe('open({ prebuilt })', () => {
  const engine = new EncoderEngine();
  beforeAll(async () => {
    await engine.load(model, { device: 'wasm' });
    server = await serveFiles(files);
    base = server.base;
  }, 60_000);
  afterAll(async () => {
    await engine.dispose();
    server.close();
  });

  /** A collection file of `list`, as exportCollection() writes it. */
  async function fileOf(list: Doc[]): Promise<Uint8Array> {
    const rr = await RouterRetriever.open({ name: fresh(), model, encoder: engine });
    await rr.add(list);
    const f = new Uint8Array(await (await rr.exportCollection()).arrayBuffer());
    await rr.close();
    return f;
  }
  const open = (name: string, url: string, onProgress?: (p: LoadProgress) => void) =>
    RouterRetriever.open({ name, model, encoder: engine, prebuilt: `${base}${url}`, onProgress });

  it('imports into an empty collection, then keeps writes made on top until the file changes', async () => {
    files.set('/v1.rrc', await fileOf(docs('river', 30)));
    const name = fresh();
    const progress: LoadProgress[] = [];
    const a = await open(name, '/v1.rrc', (p) => progress.push(p));
    expect(a.prebuilt).toMatchObject({ action: 'imported', documents: 30, reason: 'the collection was empty' });
    const downloads = progress.filter((p) => p.phase === 'download' && p.file === `${base}/v1.rrc`);
    expect(downloads.at(-1)).toMatchObject({
      loaded: files.get('/v1.rrc')!.byteLength,
      total: files.get('/v1.rrc')!.byteLength,
    });
    expect((await a.stats()).documents).toBe(30);
    expect((await a.search('river number 3', { k: 1, mode: 'lexical' })).hits[0].id).toBe('river3');
    await a.add([{ id: 'lake', text: 'a lake' }]);
    await a.delete(['river0']);
    await a.close();

    const b = await open(name, '/v1.rrc');
    expect(b.prebuilt).toMatchObject({ action: 'unchanged' });
    expect((await b.stats()).documents).toBe(30);
    expect(await b.get('lake')).toMatchObject({ text: 'a lake' });
    expect(await b.get('river0')).toBeUndefined();
    await b.close();

    files.set('/v1.rrc', await fileOf(docs('mountain', 12)));
    const c = await open(name, '/v1.rrc');
    expect(c.prebuilt).toMatchObject({
      action: 'imported',
      documents: 12,
      reason: 'the file changed since the last import',
    });
    expect((await c.stats()).documents).toBe(12);
    expect(await c.get('lake')).toBeUndefined();
    expect((await c.search('mountain number 5', { k: 1, mode: 'lexical' })).hits[0].id).toBe('mountain5');
    await c.close();
  }, 120_000);

  it('filterable fields are built from the imported documents; a re-import replaces them', async () => {
    const tagged = (word: string, n: number): Doc[] =>
      docs(word, n).map((d, i) => ({ ...d, metadata: { lang: i % 2 ? 'en' : 'de' } }));
    files.set('/f.rrc', await fileOf(tagged('river', 10)));
    const name = fresh();
    const open2 = () =>
      RouterRetriever.open({ name, model, encoder: engine, prebuilt: `${base}/f.rrc`, filterable: ['lang'] });
    const a = await open2();
    const en = await a.search('river number', { k: 10, mode: 'lexical', filter: { lang: 'en' } });
    expect(en.hits.map((h) => h.id).sort()).toEqual(['river1', 'river3', 'river5', 'river7', 'river9']);
    await a.close();
    files.set('/f.rrc', await fileOf(tagged('lake', 4)));
    const b = await open2();
    expect(b.prebuilt).toMatchObject({ action: 'imported' });
    const de = await b.search('lake number', { k: 10, mode: 'lexical', filter: { lang: 'de' } });
    expect(de.hits.map((h) => h.id).sort()).toEqual(['lake0', 'lake2']);
    await b.close();
  }, 120_000);

  it('never imports over documents that came from elsewhere; another model or a missing file is an error', async () => {
    files.set('/v2.rrc', await fileOf(docs('ocean', 5)));
    const name = fresh();
    const own = await RouterRetriever.open({ name, model, encoder: engine });
    await own.add(docs('mine', 3));
    await own.close();
    const k = await open(name, '/v2.rrc');
    expect(k.prebuilt).toMatchObject({ action: 'kept', documents: 5 });
    expect(k.prebuilt!.reason).toMatch(/3 documents that did not come from a prebuilt file/);
    expect((await k.stats()).documents).toBe(3);
    await k.close();

    // The same documents under another model's fingerprint.
    const other = new Uint8Array(files.get('/v2.rrc')!);
    const hlen = new DataView(other.buffer).getUint32(8, true);
    const header = new TextDecoder().decode(other.subarray(12, 12 + hlen));
    const fp = (JSON.parse(header) as { fingerprint: string }).fingerprint;
    other.set(new TextEncoder().encode(header.replace(fp, 'f'.repeat(fp.length))), 12);
    files.set('/other.rrc', other);
    const empty = fresh();
    await expect(open(empty, '/other.rrc')).rejects.toMatchObject({ code: 'MODEL_MISMATCH' });
    await expect(open(empty, '/missing.rrc')).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    const after = await RouterRetriever.open({ name: empty, model, encoder: engine });
    expect((await after.stats()).documents).toBe(0);
    await after.close();
  }, 120_000);
});
