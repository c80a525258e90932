/** Collections for store tests (fake-indexeddb): fresh names, opened with small chunks, closed after each test. */
import { afterEach } from 'vitest';
import { CollectionStore } from '../../src/store/collection.js';

/** A name-maker and `mk` for one test file; every store `mk` opens is closed after each test. */
export function testStores(prefix: string) {
  let seq = 0;
  const opened: CollectionStore[] = [];
  afterEach(() => {
    while (opened.length) opened.pop()!.close();
  });
  return {
    fresh: () => `${prefix}-${++seq}-${Math.random().toString(36).slice(2)}`,
    opened,
    async mk(name: string, extra: Partial<Parameters<typeof CollectionStore.open>[1]> = {}): Promise<CollectionStore> {
      const s = await CollectionStore.open(name, { fingerprint: 'fp', dim: 2, chunkSize: 4, ...extra });
      opened.push(s);
      return s;
    },
  };
}
