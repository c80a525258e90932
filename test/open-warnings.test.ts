/**
 * Pilots whose expert has no loaded adapter are never routed to; open() says so (rr.warnings and
 * the console) instead of routing nothing in silence, as the widget page did.
 */
import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RouterRetriever } from '../src/router-retriever.js';
import { EncoderEngine } from '../workers/engine/encoder-engine.js';
import { FIXTURES, folderSpec } from './helpers/fixtures.js';

const model = folderSpec(join(FIXTURES, 'tiny-bert'));
const pilots = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'public', 'demo-data', 'tiny-pilots.json'), 'utf8'),
) as Record<string, number[][]>;

describe('open() warnings', () => {
  const engine = new EncoderEngine();
  beforeAll(() => engine.load(model, { device: 'wasm' }), 60_000);
  afterAll(() => engine.dispose());
  const adapter = (name: string) => folderSpec(join(FIXTURES, 'adapters', name));
  const openWith = (name: string, experts?: string[]) =>
    RouterRetriever.open({
      name,
      model,
      encoder: engine,
      pilotLibrary: pilots,
      ...(experts ? { experts: Object.fromEntries(experts.map((e) => [e, adapter(e)])) } : {}),
    });

  it('names the pilot-library experts without an adapter; none when every one is loaded', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const bare = await openWith('warn-bare');
    expect(bare.warnings).toHaveLength(1);
    expect(bare.warnings[0]).toMatch(/"expert-a", "expert-b" but no adapter is loaded for them/);
    expect(warn).toHaveBeenCalledWith(`RouterRetriever: ${bare.warnings[0]}`);
    expect((await bare.route('river')).expert).toBeNull();
    await bare.close();

    const half = await openWith('warn-half', ['expert-a']);
    expect(half.warnings).toEqual([expect.stringMatching(/has "expert-b" but no adapter is loaded for it/)]);
    await half.close();

    const full = await openWith('warn-full', ['expert-a', 'expert-b']);
    expect(full.warnings).toEqual([]);
    expect((await full.route('river')).expert).not.toBeNull();
    await full.close();
    warn.mockRestore();
  });
});
