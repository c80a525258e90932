/**
 * Importing a collection file is one transaction (src/store/import-file.ts): a failure half-way
 * leaves the old collection as it was, a success leaves exactly the file's content (both indexes),
 * and the collection takes writes on top.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Doc } from '../src/doc.js';
import { CollectionStore } from '../src/store/index.js';
import { importedFrom, replaceWithFile } from '../src/store/import-file.js';
import { readCollectionFile } from '../src/store/transfer.js';

let seq = 0;
const fresh = () => `imp-${++seq}-${Math.random().toString(36).slice(2)}`;
const open: CollectionStore[] = [];
afterEach(() => {
  while (open.length) open.pop()!.close();
});
const dim = 3;
const vec = (i: number) => Float32Array.from({ length: dim }, (_, j) => ((i * 7 + j * 3) % 11) - 5);
const doc = (i: number, word: string): Doc => ({ id: `${word}${i}`, text: `${word} number ${i}`, metadata: { i } });

async function filled(name: string, word: string, n: number, chunkSize = 4): Promise<CollectionStore> {
  const s = await CollectionStore.open(name, { fingerprint: 'm', dim, chunkSize });
  open.push(s);
  const docs = Array.from({ length: n }, (_, i) => doc(i, word));
  await s.putDocs(
    docs,
    docs.map((_, i) => vec(i)),
  );
  return s;
}

/** Ids and term frequencies of every live row, read back from the store. */
async function content(s: CollectionStore): Promise<Record<string, { v: number[]; terms: string[] }>> {
  const snap = await s.loadIndex();
  const out: Record<string, { v: number[]; terms: string[] }> = {};
  const rowVec = new Map<string, number[]>();
  for (const c of snap.vectors)
    c.ids.forEach((id, r) => id && rowVec.set(id, Array.from(c.vectors.subarray(r * dim, (r + 1) * dim))));
  for (const t of snap.terms)
    out[t.id] = { v: rowVec.get(t.id)!, terms: [...t.vector.terms].map((x) => s.lexicon.term(x)).sort() };
  return out;
}

describe('replaceWithFile', () => {
  it('a failed import leaves the old collection intact; a good one replaces it whole', async () => {
    const src = await filled(fresh(), 'river', 7);
    const file = readCollectionFile(await src.exportCollection());
    const name = fresh();
    const old = await filled(name, 'mountain', 5);
    const before = await content(old);
    old.close();

    // A document the browser cannot store (structured clone fails at its put, mid-transaction).
    const broken = structuredClone(file);
    broken.header.docs[6] = {
      ...broken.header.docs[6],
      metadata: { f: () => 1 } as unknown as Record<string, unknown>,
    };
    await expect(replaceWithFile(name, broken)).rejects.toMatchObject({ name: 'DataCloneError' });
    const after = await CollectionStore.open(name, { fingerprint: 'm', dim });
    open.push(after);
    expect(await content(after)).toEqual(before);
    expect(after.meta.count).toBe(5);
    after.close();

    await replaceWithFile(name, file, { url: '/x.rrc', sha256: 'abc', documents: 7, importedAt: 1 });
    const now = await CollectionStore.open(name, { fingerprint: 'm', dim });
    open.push(now);
    expect(await content(now)).toEqual(await content(src));
    expect(now.meta).toMatchObject({ count: 7, nextSlot: 7, freeSlots: [] });
    expect(await importedFrom(name)).toMatchObject({ documents: 7, prebuilt: { sha256: 'abc' } });
    // Exported again, the file holds the same documents, vectors and lexical options (the name is the new one's).
    const again = readCollectionFile(await now.exportCollection());
    expect({ ...again.header, name: '' }).toEqual({ ...file.header, name: '' });
    expect(again.vectors).toEqual(file.vectors);
    // Writes on top: a new document, a deleted one.
    await now.putDocs([doc(9, 'lake')], [vec(9)]);
    await now.deleteDocs(['river0']);
    const c = await content(now);
    expect(Object.keys(c).sort()).toEqual(['lake9', 'river1', 'river2', 'river3', 'river4', 'river5', 'river6']);
    expect(c.lake9.terms).toEqual(['9', 'lake', 'number']);
  });

  it('an instance open on the replaced content refuses to write with stale term ids', async () => {
    const src = await filled(fresh(), 'river', 3);
    const file = readCollectionFile(await src.exportCollection());
    const name = fresh();
    const stale = await filled(name, 'mountain', 2);
    await replaceWithFile(name, file);
    await expect(stale.putDocs([doc(5, 'lake')], [vec(5)])).rejects.toMatchObject({ code: 'NOT_READY' });
  });
});
