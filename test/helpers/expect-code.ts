/** Awaits `p` and checks it fails with RouterRetrieverError code `code` (any other outcome fails the test, naming it). */
import { expect } from 'vitest';
import { isRouterRetrieverError } from '../../src/boundary/errors.js';

export async function expectCode(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (e) {
    expect(isRouterRetrieverError(e) ? e.code : `${(e as Error).name}: ${(e as Error).message}`).toBe(code);
    return e as Error;
  }
  throw new Error(`expected ${code}`);
}
