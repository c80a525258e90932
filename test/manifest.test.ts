import 'fake-indexeddb/auto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouterRetriever } from '../src/router-retriever.js';
import { checkManifest } from '../src/retriever/manifest.js';
import { EncoderEngine } from '../workers/engine/encoder-engine.js';
import { serveFiles } from './helpers/file-server.js';
import { FIXTURES } from './helpers/fixtures.js';

const files = new Map<string, Uint8Array>();
const add = (url: string, path: string) => files.set(url, new Uint8Array(readFileSync(path)));
for (const f of readdirSync(join(FIXTURES, 'tiny-bert'))) add(`/tiny/${f}`, join(FIXTURES, 'tiny-bert', f));
for (const e of ['expert-a', 'expert-b'])
  for (const f of readdirSync(join(FIXTURES, 'adapters', e)))
    add(`/tiny/experts/${e}/${f}`, join(FIXTURES, 'adapters', e, f));
// The demo's pilot library for the tiny fixture (tools/make-demo-data.ts): pilots of expert-a and expert-b.
add('/tiny/pilots.json', join(import.meta.dirname, '..', 'public', 'demo-data', 'tiny-pilots.json'));
const manifest = (m: unknown) => files.set('/tiny/router-retriever.json', new TextEncoder().encode(JSON.stringify(m)));

let server: { base: string; close: () => void };
let base = '';
let seq = 0;
const fresh = () => `manifest-${++seq}-${Date.now()}`;

describe('a self-describing model folder (router-retriever.json)', () => {
  const engine = new EncoderEngine();
  beforeAll(async () => {
    server = await serveFiles(files);
    base = server.base;
  });
  afterAll(async () => {
    await engine.dispose();
    server.close();
  });
  const open = (extra: Partial<Parameters<typeof RouterRetriever.open>[0]> = {}) =>
    RouterRetriever.open({ name: fresh(), model: `${base}/tiny`, encoder: engine, device: 'wasm', ...extra });

  it('open({ model }) loads the experts and the pilot library the folder names, and routes', async () => {
    manifest({
      experts: { 'expert-a': 'experts/expert-a/', 'expert-b': './experts/expert-b' },
      pilotLibrary: 'pilots.json',
      dtypes: ['fp32'],
    });
    const rr = await open();
    expect(rr.listExperts().map((e) => [e.name, e.loaded, e.pilots])).toEqual([
      ['expert-a', true, 1],
      ['expert-b', true, 1],
    ]);
    const r = await rr.route('apple banana');
    expect(['expert-a', 'expert-b']).toContain(r.expert);
    expect(rr.warnings).toEqual([]);
    await rr.close();
    // What the caller gives wins: no experts given -> the folder's; experts given -> those only.
    const own = await open({ experts: { 'expert-a': `${base}/tiny/experts/expert-a/` } });
    expect(
      own
        .listExperts()
        .filter((e) => e.loaded)
        .map((e) => e.name),
    ).toEqual(['expert-a']);
    // ...and the folder's pilots of expert-b, which is not loaded, are a warning, not silence.
    expect(own.warnings.join(' ')).toMatch(/expert-b/);
    await own.close();
  });

  it('no manifest: the folder opens as before; a broken one is MODEL_FORMAT naming the field', async () => {
    files.delete('/tiny/router-retriever.json');
    const plain = await open();
    expect(plain.listExperts()).toEqual([]);
    expect((await plain.route('apple')).expert).toBeNull();
    await plain.close();
    // A server that answers a missing file with its HTML page (a dev server's fallback) has no manifest.
    files.set('/tiny/router-retriever.json', new TextEncoder().encode('<!doctype html><html></html>'));
    const html = await open();
    expect(html.listExperts()).toEqual([]);
    await html.close();
    manifest({ experts: { a: 3 } });
    await expect(open()).rejects.toMatchObject({
      code: 'MODEL_FORMAT',
      message: expect.stringMatching(/expert "a" needs a folder path/),
    });
    expect(() => checkManifest({ pilotLibrary: '' })).toThrow(/"pilotLibrary" must be a file path/);
    expect(() => checkManifest([])).toThrow(/JSON object/);
    files.delete('/tiny/router-retriever.json');
  });
});
