/**
 * The page of bench/lexical.ts: the SDK's BM25 index in Chromium over the corpus the driver
 * wrote (fetched from /.cache/lexical-bench/), and RouterRetriever.add() beside a dense-only
 * write of the same documents.
 */
import { openDB } from 'idb';
import { docText, type Doc } from '../../src/doc.js';
import { EncoderClient } from '../../src/encoder-client.js';
import { LexicalIndex } from '../../src/lexical/lexical-index.js';
import { RouterRetriever } from '../../src/router-retriever.js';
import { CollectionStore } from '../../src/store/collection.js';

let corpus: { docs: Doc[]; queries: string[] } | undefined;

async function data(): Promise<{ docs: Doc[]; queries: string[] }> {
  corpus ??= (await (await fetch('/.cache/lexical-bench/corpus.json')).json()) as { docs: Doc[]; queries: string[] };
  return corpus;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

const tick = () => new Promise((r) => setTimeout(r, 0));

/** Bytes of the terms and lexicon stores as stored (buffers and UTF-8 terms; IndexedDB's own overhead not included). */
async function storedLexicalBytes(name: string): Promise<{ terms: number; lexicon: number; vectors: number }> {
  const db = await openDB(`rr:${name}`);
  let terms = 0;
  for (const r of await db.getAll('terms'))
    terms += r.offsets.byteLength + r.lengths.byteLength + r.terms.byteLength + r.tfs.byteLength;
  let lexicon = 0;
  const enc = new TextEncoder();
  for (const r of await db.getAll('lexicon')) for (const t of r.terms as string[]) lexicon += enc.encode(t).length + 1;
  let vectors = 0;
  for (const r of await db.getAll('vectors')) vectors += r.vectors.byteLength;
  db.close();
  return { terms, lexicon, vectors };
}

const bench = {
  async info() {
    const d = await data();
    return { docs: d.docs.length, queries: d.queries.length };
  },

  /** The in-memory index over the first n documents: build rate, query latency, memory; then the store: write rate, stored bytes, reopen without analysis. */
  async lexical(n: number, storeToo: boolean) {
    const { docs: all, queries } = await data();
    const docs = all.slice(0, n);
    const idx = new LexicalIndex();
    let analyzeMs = 0;
    const t0 = performance.now();
    for (let i = 0; i < docs.length; i++) {
      const ta = performance.now();
      const v = idx.termVector(docText(docs[i]));
      analyzeMs += performance.now() - ta;
      idx.setRow(i, docs[i].id, v);
    }
    idx.compact(); // what an opened collection searches: one base, no delta
    const buildMs = performance.now() - t0;
    for (const q of queries.slice(0, 20)) idx.search(q, 100); // warm-up
    const per: number[] = [];
    for (const q of queries) {
      const t = performance.now();
      idx.search(q, 100);
      per.push(performance.now() - t);
    }
    const out: Record<string, number> = {
      docs: n,
      terms: idx.lexicon.size,
      build_docs_per_s: n / (buildMs / 1000),
      analyze_docs_per_s: n / (analyzeMs / 1000),
      query_p50_ms: quantile(per, 0.5),
      query_p95_ms: quantile(per, 0.95),
      memory_bytes: idx.memoryBytes(),
    };
    if (storeToo) {
      const name = `bench-lex-${n}-${Date.now()}`;
      const store = await CollectionStore.open(name, { fingerprint: 'bench', dim: 1 });
      const one = new Float32Array(1).fill(1);
      const ts = performance.now();
      for (let s = 0; s < docs.length; s += 1024) {
        const part = docs.slice(s, s + 1024);
        await store.putDocs(
          part,
          part.map(() => one),
        );
        await tick();
      }
      out.store_docs_per_s = n / ((performance.now() - ts) / 1000);
      store.close();
      const bytes = await storedLexicalBytes(name);
      out.idb_terms_bytes = bytes.terms;
      out.idb_lexicon_bytes = bytes.lexicon;
      const tr = performance.now();
      const re = await CollectionStore.open(name, { fingerprint: 'bench', dim: 1 });
      const snap = await re.loadIndex();
      const loaded = new LexicalIndex(re.meta.lexical, re.lexicon);
      loaded.load(snap.terms);
      out.reopen_ms = performance.now() - tr;
      out.reopen_analyzed = re.analyzedDocuments;
      out.reopen_same =
        JSON.stringify(queries.slice(0, 20).map((q) => loaded.search(q, 10))) ===
        JSON.stringify(queries.slice(0, 20).map((q) => idx.search(q, 10)))
          ? 1
          : 0;
      re.close();
      await CollectionStore.deleteCollection(name);
    }
    return out;
  },

  /**
   * Dense indexing with and without the lexical side, same documents, same worker: A =
   * RouterRetriever.add() (embed, analyze while the worker embeds, one transaction with documents,
   * vectors and term vectors); B = the same slices embedded and written as documents plus one
   * vector record per slice, no lexical data (the SDK's write path before the lexical index, minus
   * its slot bookkeeping). Returns docs/s of each, per round, alternating A and B.
   */
  async dense(n: number, rounds: number) {
    const { docs: all } = await data();
    const docs = all.slice(0, n);
    const encoder = new EncoderClient();
    const info = await encoder.load('/test/fixtures/tiny-bert/', { device: 'wasm' });
    await encoder.embedDocuments(docs.slice(0, 64).map(docText)); // warm-up
    const res: { withLexical: number[]; denseOnly: number[] } = { withLexical: [], denseOnly: [] };
    for (let r = 0; r < rounds; r++) {
      for (const variant of r % 2 === 0 ? ['A', 'B'] : ['B', 'A']) {
        const name = `bench-dense-${r}-${variant}-${Date.now()}`;
        if (variant === 'A') {
          const rr = await RouterRetriever.open({ name, model: '/test/fixtures/tiny-bert/', encoder, device: 'wasm' });
          const t = performance.now();
          await rr.add(docs);
          res.withLexical.push(n / ((performance.now() - t) / 1000));
          await rr.close();
          indexedDB.deleteDatabase(`rr:${name}`);
        } else {
          const db = await openDB(name, 1, {
            upgrade(d) {
              d.createObjectStore('docs', { keyPath: 'id' });
              d.createObjectStore('vectors', { keyPath: 'chunk' });
            },
          });
          const t = performance.now();
          for (let s = 0; s < docs.length; s += 256) {
            const part = docs.slice(s, s + 256);
            const flat = await encoder.embedDocuments(part.map(docText));
            const tx = db.transaction(['docs', 'vectors'], 'readwrite');
            for (let i = 0; i < part.length; i++) void tx.objectStore('docs').put({ ...part[i], slot: s + i });
            void tx.objectStore('vectors').put({ chunk: s / 256, ids: part.map((d) => d.id), vectors: flat.buffer });
            await tx.done;
          }
          res.denseOnly.push(n / ((performance.now() - t) / 1000));
          db.close();
          indexedDB.deleteDatabase(name);
        }
      }
    }
    await encoder.dispose();
    return { ...res, dim: info.dim };
  },
};

(window as unknown as Record<string, unknown>).lexBench = bench;
(window as unknown as Record<string, unknown>).lexBenchReady = true;
export type LexBench = typeof bench;
