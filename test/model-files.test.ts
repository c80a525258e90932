import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isRouterRetrieverError } from '../src/boundary/errors.js';
import { loadBaseModel } from '../workers/engine/model-files.js';
import { parseSafetensors, serializeSafetensors } from '../workers/model/safetensors.js';
import { Sha256, sha256Hex, sha256HexFast } from '../workers/model/sha256.js';
import { FIXTURES, folderSpec } from './helpers/fixtures.js';

const TINY = join(FIXTURES, 'tiny-bert');
// The fingerprints the code before the streaming hash gave the fixture (WebCrypto over one
// joined copy of config.json ++ the weights): a stored collection keeps matching its model.
const FINGERPRINT = {
  'model.safetensors': '6836119c89d0154cbd2eb232c615dd39b7c9f6a78fae9c71d75ab3252bd2adfc',
  'pytorch_model.bin': '68c12dd667a6d93ad5521db2cb3244833d95fcf9b6834c79a47dda2400b5f02e',
};

describe('sha256 over parts', () => {
  it('gives the standard digests', () => {
    expect(sha256Hex([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex([new TextEncoder().encode('abc')])).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('the WebCrypto path gives the same hex digest as the JS one and node:crypto', async () => {
    const parts = [randomBytes(100), randomBytes(70_001), new Uint8Array(0), randomBytes(64)];
    const want = createHash('sha256').update(Buffer.concat(parts)).digest('hex');
    expect(await sha256HexFast(parts)).toBe(want);
    expect(sha256Hex(parts)).toBe(want);
  });

  it('equals node:crypto over the joined bytes, whatever the cut points', () => {
    const data = randomBytes(5000);
    const ref = createHash('sha256').update(data).digest('hex');
    for (const cuts of [[0], [1], [55], [56], [63], [64], [65], [700, 701, 702], [3, 64, 128, 129, 4999]]) {
      const parts: Uint8Array[] = [];
      let prev = 0;
      for (const c of [...cuts, data.length]) {
        parts.push(data.subarray(prev, c));
        prev = c;
      }
      expect(sha256Hex(parts)).toBe(ref);
    }
    for (const n of [0, 55, 56, 64, 119, 120, 128]) {
      expect(
        Array.from(new Sha256().update(data.subarray(0, n)).digest(), (b) => b.toString(16).padStart(2, '0')).join(''),
      ).toBe(createHash('sha256').update(data.subarray(0, n)).digest('hex'));
    }
  });
});

describe('loadBaseModel', () => {
  afterEach(() => vi.unstubAllGlobals());

  it.each(['model.safetensors', 'pytorch_model.bin'] as const)(
    'fingerprints %s as before: SHA-256 of config.json ++ the weights',
    async (weights) => {
      const spec = folderSpec(TINY);
      delete spec.files[weights === 'model.safetensors' ? 'pytorch_model.bin' : 'model.safetensors'];
      const files = await loadBaseModel(spec, {});
      expect(files.weightsFile).toBe(weights);
      expect(files.fingerprint).toBe(FINGERPRINT[weights]);
      const joined = Buffer.concat([readFileSync(join(TINY, 'config.json')), readFileSync(join(TINY, weights))]);
      expect(files.fingerprint).toBe(createHash('sha256').update(joined).digest('hex'));
    },
  );

  it('asks for the small files at once, before the weights', async () => {
    let inFlight = 0;
    let most = 0;
    const order: string[] = [];
    vi.stubGlobal('fetch', async (url: string) => {
      const name = url.slice('https://models.test/tiny/'.length);
      order.push(name);
      inFlight++;
      most = Math.max(most, inFlight);
      // Answer only after every request already started has been counted.
      await new Promise((r) => setTimeout(r, 0));
      inFlight--;
      try {
        return new Response(readFileSync(join(TINY, name)));
      } catch {
        return new Response('not found', { status: 404 });
      }
    });
    const files = await loadBaseModel('https://models.test/tiny/', { cache: false });
    expect(files.fingerprint).toBe(FINGERPRINT['model.safetensors']);
    // config.json, tokenizer_config.json, 1_Pooling/config.json, modules.json together; then the
    // tokenizer (needs tokenizer_config.json), then the weights.
    expect(most).toBeGreaterThanOrEqual(4);
    expect(order.slice(0, 4).sort()).toEqual([
      '1_Pooling/config.json',
      'config.json',
      'modules.json',
      'tokenizer_config.json',
    ]);
    expect(order.indexOf('model.safetensors')).toBe(order.length - 1);
    expect(order).toContain('vocab.txt');
  });

  it('says which files are missing or do not fit', async () => {
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'no error',
        (e) => (isRouterRetrieverError(e) ? e.code : String(e)),
      );
    const spec = folderSpec(TINY);
    const { 'config.json': _c, ...noConfig } = spec.files;
    expect(await code(loadBaseModel({ files: noConfig }, {}))).toBe('FILE_NOT_FOUND');
    const { 'vocab.txt': _v, ...noVocab } = spec.files;
    expect(await code(loadBaseModel({ files: noVocab }, {}))).toBe('FILE_NOT_FOUND');
    const small = JSON.stringify({ ...JSON.parse(readFileSync(join(TINY, 'config.json'), 'utf8')), vocab_size: 1000 });
    expect(
      await code(loadBaseModel({ files: { ...spec.files, 'config.json': new TextEncoder().encode(small) } }, {})),
    ).toBe('MODEL_FORMAT');
  });

  it('checks the model against itself before a session exists: layer count, finite weights', async () => {
    const spec = folderSpec(TINY);
    const fail = (p: Promise<unknown>) =>
      p.then(
        () => 'no error',
        (e) => (isRouterRetrieverError(e) ? `${e.code}: ${e.message}` : String(e)),
      );
    const config = JSON.parse(readFileSync(join(TINY, 'config.json'), 'utf8'));
    const withConfig = (c: object) => ({
      files: { ...spec.files, 'config.json': new TextEncoder().encode(JSON.stringify({ ...config, ...c })) },
    });
    // Fewer layers than the checkpoint, and an absurd count: refused before any graph is built.
    expect(await fail(loadBaseModel(withConfig({ num_hidden_layers: 1 }), {}))).toMatch(
      /^MODEL_FORMAT: config.json says num_hidden_layers 1 but model.safetensors holds 2 encoder layers/,
    );
    expect(await fail(loadBaseModel(withConfig({ num_hidden_layers: 1e8 }), {}))).toMatch(
      /num_hidden_layers 100000000/,
    );
    // One NaN in a base weight (fp16 bits 0x7e00), named with its tensor and file.
    const sd = parseSafetensors(new Uint8Array(spec.files['model.safetensors'] as Uint8Array));
    const name = [...sd.keys()].find((k) => k.endsWith('attention.self.query.weight'))!;
    const bits = new Uint16Array(sd.get(name)!.data as Uint16Array);
    bits[5] = 0x7e00;
    sd.set(name, { ...sd.get(name)!, data: bits });
    const { 'pytorch_model.bin': _bin, ...rest } = spec.files;
    const bad = { files: { ...rest, 'model.safetensors': serializeSafetensors(sd) } };
    expect(await fail(loadBaseModel(bad, {}))).toMatch(
      new RegExp(
        `^MODEL_FORMAT: model.safetensors: tensor "${name.replace(/\./g, '\\.')}" holds a NaN or infinite value at element 5`,
      ),
    );
  });
});
