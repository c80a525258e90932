/**
 * The indexing pipeline: documents are embedded and committed in slices (default 256), each
 * slice in ONE store transaction (documents, vectors and term vectors) right after it is
 * embedded, then written into both live indexes (searchable at once). A cancellation, a closed tab or QUOTA_EXCEEDED keeps every
 * slice committed before. Identical stored content is skipped without embedding.
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import type { EncoderApi } from '../boundary/encoder-api.js';
import { docText, sameContent, toDoc, validateDocs, type Doc } from '../doc.js';
import { checkDocFields } from '../filter/fields.js';
import type { AnalyzedBatch } from '../store/lexical.js';
import type { IndexOptions, IndexProgress, IndexResult } from '../types.js';
import { rowsOf } from '../vectors.js';
import type { DenseIndex } from './dense-index.js';
import type { LiveIndex } from './live-index.js';
import type { WrittenDocs } from '../store/documents.js';
import type { RetrieverStore } from './store.js';

/** Documents embedded and committed per IndexedDB transaction. */
export const DEFAULT_SLICE = 256;

export interface RouterIndexOptions extends IndexOptions {
  /** Documents embedded and committed per transaction (default 256). */
  sliceSize?: number;
}

export interface IndexingDeps {
  encoder: Pick<EncoderApi, 'embedDocuments' | 'cancel'>;
  store: Pick<
    RetrieverStore,
    | 'getDoc'
    | 'getDocs'
    | 'writeDocs'
    | 'analyze'
    | 'deleteDocs'
    | 'storedIds'
    | 'pendingDocs'
    | 'loadIndex'
    | 'lexicon'
    | 'meta'
  >;
  live: LiveIndex;
  /** A remote dense index written before each local commit and delete (none: the local rows only). */
  dense?: DenseIndex;
  /** Called after every committed change (cross-tab notice). */
  changed: () => void;
}

function cancelled(done: number, total: number): RouterRetrieverError {
  return new RouterRetrieverError(
    'CANCELLED',
    `Indexing was cancelled after ${done} of ${total} documents; those stay stored and searchable.`,
    {
      done,
      total,
    },
  );
}

let jobCounter = 0;

export class Indexing {
  constructor(private readonly deps: IndexingDeps) {}

  /** Validates a call before anything is embedded; returns the slice size. */
  static check(docs: unknown, options: RouterIndexOptions): number {
    validateDocs(docs);
    const slice = options.sliceSize ?? DEFAULT_SLICE;
    if (!Number.isInteger(slice) || slice < 1)
      throw new RouterRetrieverError('INVALID_INPUT', `sliceSize must be a positive integer, got ${slice}.`);
    return slice;
  }

  /** Embeds and stores `docs` (validated by check()) slice by slice. */
  async upsert(docs: Doc[], slice: number, options: RouterIndexOptions = {}): Promise<IndexResult> {
    const { store, live } = this.deps;
    // A filterable field's value of another type: refused before anything is embedded (the store checks again).
    checkDocFields(docs, live.fields.schema);
    const result: IndexResult = { added: 0, replaced: 0, skipped: 0 };
    const total = docs.length;
    const signal = options.signal;
    const t0 = performance.now();
    let done = 0;
    let embedded = 0;
    const report = (phase: IndexProgress['phase'], d: number, embeddedNow: number) => {
      if (!options.onProgress) return;
      const secs = (performance.now() - t0) / 1000;
      const rate = secs > 0 ? embeddedNow / secs : 0;
      const left = total - d;
      options.onProgress({
        phase,
        done: d,
        total,
        docsPerSec: rate,
        etaSec: rate > 0 ? left / rate : left === 0 ? 0 : null,
      });
    };
    for (let s = 0; s < total; s += slice) {
      if (signal?.aborted) throw cancelled(done, total);
      const part = docs.slice(s, s + slice);
      const existing = await store.getDocs(part.map((d) => d.id));
      const todo: Doc[] = [];
      part.forEach((d, i) => {
        const e = existing[i];
        if (e && e.slot >= 0 && sameContent(e, d)) result.skipped++;
        else todo.push(d);
      });
      if (todo.length > 0) {
        const embedding = this.embed(todo, options, done, total, (p) =>
          report('embed', done + (part.length - todo.length) + p, embedded + p),
        );
        // The analysis runs on this thread while the worker embeds: it adds no time to the slice
        // unless it takes longer than the embedding (bench/lexical.ts measures both).
        let analyzed: AnalyzedBatch | undefined;
        try {
          analyzed = store.analyze(todo);
        } catch (e) {
          await embedding.catch(() => undefined);
          throw e;
        }
        const flat = await embedding;
        if (signal?.aborted) throw cancelled(done, total);
        const vecs = rowsOf(flat, store.meta.dim);
        await this.sendRemote(todo, vecs, done, total);
        const { slots, terms, replaced } = await this.commit(todo, flat, analyzed, done, total);
        // Counted from what the write found, not from the read before the embedding: another tab
        // may have stored some of these ids meanwhile (two tabs adding 200 shared ids both said
        // all were added).
        for (const r of replaced) r ? result.replaced++ : result.added++;
        // The committed slots and term vectors come back from the write: no second read, no second analysis.
        todo.forEach((d, i) => {
          live.index.setRow(slots[i], d.id, vecs[i]);
          live.lexical.setRow(slots[i], d.id, terms[i]);
          live.fields.setRow(slots[i], d.metadata ?? null);
        });
        embedded += todo.length;
        this.deps.changed();
      }
      done += part.length;
      report('store', done, embedded);
    }
    if (total === 0) report('store', 0, 0);
    return result;
  }

  private async embed(
    todo: Doc[],
    options: RouterIndexOptions,
    done: number,
    total: number,
    progress: (n: number) => void,
  ): Promise<Float32Array> {
    const { encoder } = this.deps;
    const signal = options.signal;
    const jobId = `rr-index-${++jobCounter}`;
    const onAbort = () => void encoder.cancel(jobId).catch(() => undefined);
    signal?.addEventListener('abort', onAbort);
    try {
      return await encoder.embedDocuments(todo.map(docText), { jobId, batchSize: options.batchSize }, (p) =>
        progress(p.done),
      );
    } catch (e) {
      if ((e as { code?: string }).code === 'CANCELLED' || signal?.aborted) throw cancelled(done, total);
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The slice to the remote dense index first: refused there, it is not stored here either. */
  private async sendRemote(todo: Doc[], vecs: Float32Array[], done: number, total: number): Promise<void> {
    try {
      await this.deps.dense?.add(todo.map((doc, i) => ({ doc, vector: vecs[i] })));
    } catch (e) {
      const err = e as RouterRetrieverError;
      if (!err.code) throw e;
      const msg = `${err.message} (${done} of ${total} documents of this call were stored.)`;
      throw new RouterRetrieverError(err.code, msg, { ...err.details, done, total });
    }
  }

  /** One store transaction for the slice; QUOTA_EXCEEDED says how much of this call was stored. */
  private async commit(
    todo: Doc[],
    flat: Float32Array,
    analyzed: AnalyzedBatch,
    done: number,
    total: number,
  ): Promise<WrittenDocs> {
    try {
      return await this.deps.store.writeDocs(todo, flat, analyzed);
    } catch (e) {
      if ((e as { code?: string }).code === 'QUOTA_EXCEEDED') {
        const err = e as RouterRetrieverError;
        throw new RouterRetrieverError(
          'QUOTA_EXCEEDED',
          `${err.message} (${done} of ${total} documents of this call were stored.)`,
          {
            ...err.details,
            done,
            total,
          },
        );
      }
      throw e;
    }
  }

  /** Deletes documents (unknown ids are ignored). Returns how many were deleted. */
  async delete(ids: string[]): Promise<number> {
    const { store, live } = this.deps;
    const recs = await store.getDocs(ids);
    await this.deps.dense?.delete(ids);
    const n = await store.deleteDocs(ids);
    for (const r of recs) {
      if (r && r.slot >= 0) {
        live.index.setRow(r.slot, null);
        live.lexical.setRow(r.slot, null);
        live.fields.setRow(r.slot, null);
      }
    }
    this.deps.changed();
    return n;
  }

  /** Removes every document and vector. */
  async clear(): Promise<void> {
    const { store, live } = this.deps;
    const ids = [...(await store.storedIds()), ...(await store.pendingDocs()).map((d) => d.id)];
    if (ids.length > 0) {
      await this.deps.dense?.delete(ids);
      await store.deleteDocs(ids);
    }
    await live.reload(store);
    this.deps.changed();
  }

  /** Documents left without a vector (a 'reindex' open), as Docs to embed again. */
  async pending(): Promise<Doc[]> {
    return (await this.deps.store.pendingDocs()).map(toDoc);
  }

  async get(id: string): Promise<Doc | undefined> {
    const r = await this.deps.store.getDoc(id);
    return r ? toDoc(r) : undefined;
  }
}
