import { deleteDB, openDB, type IDBPDatabase, type IDBPTransaction } from 'idb';
import { RouterRetrieverError, isRouterRetrieverError } from '../boundary/errors.js';
import { exportPilotLibrary, parsePilotLibrary } from '../router/pilot-json.js';
import type { PilotLibrary } from '../router/route.js';
import type { PilotLibraryState } from '../router/pilots.js';
import type { VectorChunk } from '../search/types.js';
import { decodeContainer, encodeContainer, type BlobRef, type CollectionFileHeader } from './container.js';
import {
  META_KEY,
  PILOT_STATE_KEY,
  SCHEMA_VERSION,
  dbName,
  migrate,
  type ChunkRecord,
  type CollectionMeta,
  type DocRecord,
  type ExpertRecord,
  type PilotRecord,
} from './schema.js';

export interface DocInput {
  id: string;
  title?: string;
  text: string;
  metadata?: Record<string, unknown>;
}

export interface OpenCollectionOptions {
  /** Fingerprint of the base model (hash of config + weights). */
  fingerprint: string;
  /** Embedding dimension of the base model. */
  dim: number;
  /** Vectors per chunk record for a NEW collection (default 1024). */
  chunkSize?: number;
  /**
   * When the stored fingerprint differs: 'error' (default) throws MODEL_MISMATCH;
   * 'reindex' clears every vector and the pilot library (both live in the old
   * model's space), keeps documents and experts, and marks every document as
   * pending (see pendingIds()) so the caller re-embeds them.
   */
  onModelMismatch?: 'error' | 'reindex';
}

type RWTx = IDBPTransaction<unknown, string[], 'readwrite'>;

const STORES = ['meta', 'docs', 'vectors', 'experts', 'pilots'];

function invalid(msg: string, details: Record<string, unknown> = {}): never {
  throw new RouterRetrieverError('INVALID_INPUT', msg, details);
}

function isQuotaError(e: unknown): boolean {
  const n = (e as { name?: unknown } | null)?.name;
  return n === 'QuotaExceededError' || (e as { code?: unknown } | null)?.code === 22;
}

/** Marks a request promise as handled: if a later request in the same batch throws, the transaction aborts and the already-issued ones reject with AbortError, which Promise.all never gets to observe. */
function settle<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/**
 * IndexedDB requests issued per main-thread task. Issuing a request is synchronous work on
 * the calling thread (key and value serialisation, request setup); a slice of 256 documents
 * issued ~1,000 requests in one microtask burst, which measured as 60-120 ms main-thread
 * tasks while indexing. Awaiting each batch before issuing the next splits that work into
 * one task per batch (each batch's last success event runs the next one), inside the same
 * transaction: the transaction stays active while a request is pending.
 */
export const REQUEST_BATCH = 32;

/** `f` over `items`, at most REQUEST_BATCH requests in flight, results in order. */
async function inBatches<T, R>(items: readonly T[], f: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let s = 0; s < items.length; s += REQUEST_BATCH) {
    const part = items.slice(s, s + REQUEST_BATCH);
    out.push(...(await Promise.all(part.map((x, k) => settle(f(x, s + k))))));
  }
  return out;
}

function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

function approxJsonBytes(x: unknown): number {
  try {
    return JSON.stringify(x)?.length ?? 0;
  } catch {
    return 0;
  }
}

/**
 * One collection = one IndexedDB database `rr:<name>` (schema in ./schema.ts).
 * Vectors live in chunk records of `chunkSize` rows (one ArrayBuffer each); a
 * document's `slot` is its row (slot / chunkSize = chunk). Deleted rows become
 * free slots (id null, zeroed) reused by later writes; there is no compaction.
 *
 * Every write is ONE readwrite transaction: validated first, then committed
 * whole or not at all. The in-memory `meta` is only updated after a commit.
 */
export class CollectionStore {
  readonly name: string;
  private dbp: Promise<IDBPDatabase<unknown>> | undefined;
  private _meta: CollectionMeta;
  private closed = false;

  private constructor(name: string, db: IDBPDatabase<unknown>, meta: CollectionMeta) {
    this.name = name;
    this.dbp = Promise.resolve(db);
    this._meta = meta;
  }

  /** The collection's metadata as of the last commit seen by this instance. */
  get meta(): Readonly<CollectionMeta> {
    return this._meta;
  }

  private static connect(name: string, onLost: () => void): Promise<IDBPDatabase<unknown>> {
    return openDB(dbName(name), SCHEMA_VERSION, {
      upgrade(db, oldVersion, newVersion, tx) {
        migrate(db, oldVersion, newVersion ?? SCHEMA_VERSION, tx as unknown as Parameters<typeof migrate>[3]);
      },
      // Another tab wants to upgrade or delete this database: let it, reopen lazily.
      blocking(_cur, _next, event) {
        (event.target as IDBDatabase).close();
        onLost();
      },
      terminated: onLost,
    }).catch((e: unknown) => {
      if ((e as { name?: string }).name === 'VersionError') {
        throw new RouterRetrieverError(
          'NOT_READY',
          `Collection "${name}" was upgraded by a newer version of the SDK (in another tab?). Reload the page.`,
        );
      }
      throw e;
    });
  }

  /** Opens (or creates) a collection. See OpenCollectionOptions for model mismatches. */
  static async open(name: string, options: OpenCollectionOptions): Promise<CollectionStore> {
    if (typeof name !== 'string' || name === '') invalid('A collection needs a non-empty name.');
    if (typeof options?.fingerprint !== 'string' || options.fingerprint === '') invalid('open() needs the base model fingerprint.');
    if (!Number.isInteger(options.dim) || options.dim < 1) invalid(`dim must be a positive integer, got ${options.dim}.`);
    const chunkSize = options.chunkSize ?? 1024;
    if (!Number.isInteger(chunkSize) || chunkSize < 1) invalid(`chunkSize must be a positive integer, got ${chunkSize}.`);
    let store: CollectionStore | undefined;
    const db = await CollectionStore.connect(name, () => store?.lost());
    let meta = (await db.get('meta', META_KEY)) as CollectionMeta | undefined;
    if (!meta) {
      const now = Date.now();
      meta = {
        name,
        schemaVersion: SCHEMA_VERSION,
        fingerprint: options.fingerprint,
        dim: options.dim,
        dtype: 'float32',
        chunkSize,
        count: 0,
        nextSlot: 0,
        freeSlots: [],
        createdAt: now,
        updatedAt: now,
      };
      // add(): if another tab created it meanwhile, this fails and we re-read.
      try {
        await db.add('meta', meta, META_KEY);
      } catch {
        meta = (await db.get('meta', META_KEY)) as CollectionMeta;
      }
    }
    store = new CollectionStore(name, db, meta);
    if (meta.fingerprint !== options.fingerprint || meta.dim !== options.dim) {
      if ((options.onModelMismatch ?? 'error') !== 'reindex') {
        db.close();
        throw new RouterRetrieverError(
          'MODEL_MISMATCH',
          `Collection "${name}" was indexed with another base model (fingerprint ${meta.fingerprint}, dim ${meta.dim}); ` +
            `this model is ${options.fingerprint} (dim ${options.dim}). Open it with the same model, or pass ` +
            `{ onModelMismatch: 'reindex' } to drop its vectors and re-embed the documents.`,
          { stored: meta.fingerprint, given: options.fingerprint, storedDim: meta.dim, givenDim: options.dim },
        );
      }
      await store.reindex(options.fingerprint, options.dim);
    }
    return store;
  }

  /** Deletes a collection's database (other open instances close and report NOT_FOUND afterwards). */
  static async deleteCollection(name: string): Promise<void> {
    await deleteDB(dbName(name));
  }

  private lost(): void {
    this.dbp = undefined;
  }

  /** The connection, reopened after a versionchange from another tab. */
  private async db(): Promise<IDBPDatabase<unknown>> {
    if (this.closed) throw new RouterRetrieverError('NOT_READY', `Collection "${this.name}" is closed.`);
    if (!this.dbp) {
      const p = CollectionStore.connect(this.name, () => this.lost()).then(async (db) => {
        const meta = (await db.get('meta', META_KEY)) as CollectionMeta | undefined;
        if (!meta) {
          db.close();
          await deleteDB(dbName(this.name)).catch(() => undefined); // don't leave an empty shell behind
          throw new RouterRetrieverError('NOT_FOUND', `Collection "${this.name}" was deleted (in another tab?).`);
        }
        this._meta = meta;
        return db;
      });
      this.dbp = p;
      p.catch(() => {
        if (this.dbp === p) this.dbp = undefined;
      });
    }
    return this.dbp;
  }

  close(): void {
    this.closed = true;
    void this.dbp?.then((db) => db.close(), () => undefined);
    this.dbp = undefined;
  }

  /**
   * Runs `fn` in one readwrite transaction. Any failure aborts the whole
   * transaction; a QuotaExceededError becomes RouterRetrieverError('QUOTA_EXCEEDED')
   * with details.neededBytes = `neededBytes` (an estimate of what the write needed).
   */
  private async write<T>(stores: string[], neededBytes: number, what: string, fn: (tx: RWTx) => Promise<T>): Promise<T> {
    const db = await this.db();
    const tx = db.transaction(stores, 'readwrite') as unknown as RWTx;
    const done = tx.done;
    try {
      const r = await fn(tx);
      await done;
      return r;
    } catch (e) {
      try {
        tx.abort();
      } catch {
        /* already finished */
      }
      // A quota failure may surface as the transaction's error (abort at commit)
      // while the request promises only see AbortError.
      const doneErr: unknown = await done.then(
        () => undefined,
        (x: unknown) => x,
      );
      if (isQuotaError(e) || isQuotaError(doneErr) || isQuotaError((tx as unknown as { error?: unknown }).error)) {
        let quota = '';
        try {
          const est = await globalThis.navigator?.storage?.estimate?.();
          if (est?.quota !== undefined) quota = ` (this origin uses ${mb(est.usage ?? 0)} of ${mb(est.quota)})`;
        } catch {
          /* no StorageManager */
        }
        throw new RouterRetrieverError(
          'QUOTA_EXCEEDED',
          `Storage is full: ${what} needed about ${mb(neededBytes)} more${quota}. Nothing of this write was saved; ` +
            `everything committed before stays searchable. Free space (delete unused collections or site data), ` +
            `call navigator.storage.persist() for a larger quota, or index fewer documents, then retry (already stored ids can be skipped).`,
          { neededBytes, cause: (e as Error).message },
        );
      }
      throw e;
    }
  }

  /** Validates a batch before any write. Returns the vectors as one flat array. */
  private validateBatch(docs: readonly DocInput[], vectors: readonly Float32Array[] | Float32Array): Float32Array[] {
    const dim = this._meta.dim;
    if (!Array.isArray(docs)) invalid('docs must be an array.');
    const seen = new Set<string>();
    docs.forEach((d, i) => {
      if (typeof d !== 'object' || d === null) invalid(`Document ${i} is not an object.`);
      if (typeof d.id !== 'string' || d.id === '') invalid(`Document ${i} needs a non-empty string id.`, { index: i });
      if (seen.has(d.id)) invalid(`Document id "${d.id}" appears twice in the batch.`, { id: d.id });
      seen.add(d.id);
      if (typeof d.text !== 'string') invalid(`Document "${d.id}" needs a string text.`, { id: d.id });
      if (d.title !== undefined && typeof d.title !== 'string') invalid(`The title of document "${d.id}" must be a string.`);
      if (d.metadata !== undefined && (typeof d.metadata !== 'object' || d.metadata === null)) {
        invalid(`The metadata of document "${d.id}" must be an object.`);
      }
    });
    let rows: Float32Array[];
    if (vectors instanceof Float32Array) {
      if (vectors.length !== docs.length * dim) {
        invalid(`Expected ${docs.length} x ${dim} = ${docs.length * dim} floats, got ${vectors.length}.`);
      }
      rows = docs.map((_, i) => vectors.subarray(i * dim, (i + 1) * dim));
    } else {
      if (!Array.isArray(vectors) || vectors.length !== docs.length) invalid(`Expected ${docs.length} vectors, got ${vectors?.length}.`);
      rows = vectors as Float32Array[];
    }
    rows.forEach((v, i) => {
      if (!(v instanceof Float32Array) || v.length !== dim) {
        invalid(`The vector of document "${docs[i].id}" must be a Float32Array of ${dim} values.`, { id: docs[i].id });
      }
      for (let j = 0; j < dim; j++) {
        if (!Number.isFinite(v[j])) invalid(`The vector of document "${docs[i].id}" has a non-finite value at ${j}.`, { id: docs[i].id });
      }
    });
    return rows;
  }

  /**
   * Adds or replaces documents with their base-encoder vectors, atomically: the
   * whole batch commits in one transaction or nothing does. An existing id keeps
   * its slot (upsert); new ids take the lowest free slot, else a new one.
   * Returns each document's vector slot (parallel to `docs`).
   */
  async putDocs(docs: readonly DocInput[], vectors: readonly Float32Array[] | Float32Array): Promise<number[]> {
    const rows = this.validateBatch(docs, vectors);
    if (docs.length === 0) return [];
    const { dim, chunkSize } = this._meta;
    const needed =
      docs.length * dim * 4 + docs.reduce((s, d) => s + d.id.length + d.text.length + (d.title?.length ?? 0) + approxJsonBytes(d.metadata) + 64, 0);
    const { meta, slots } = await this.write(['meta', 'docs', 'vectors'], needed, `writing ${docs.length} documents`, async (tx) => {
      const metaStore = tx.objectStore('meta');
      const docStore = tx.objectStore('docs');
      const vecStore = tx.objectStore('vectors');
      const m = { ...((await metaStore.get(META_KEY)) as CollectionMeta) };
      const existing = (await inBatches(docs, (d) => docStore.get(d.id))) as (DocRecord | undefined)[];
      const free = [...m.freeSlots].sort((a, b) => a - b);
      let fi = 0;
      const slots = existing.map((e) => {
        if (e && e.slot >= 0) return e.slot;
        m.count++;
        return fi < free.length ? free[fi++] : m.nextSlot++;
      });
      m.freeSlots = free.slice(fi);
      const chunkIds = [...new Set(slots.map((s) => Math.floor(s / chunkSize)))];
      const recs = (await inBatches(chunkIds, (c) => vecStore.get(c))) as (ChunkRecord | undefined)[];
      const byChunk = new Map<number, { rec: ChunkRecord; f: Float32Array }>();
      chunkIds.forEach((c, i) => {
        const rec = recs[i] ?? { chunk: c, ids: new Array<string | null>(chunkSize).fill(null), vectors: new ArrayBuffer(chunkSize * dim * 4) };
        byChunk.set(c, { rec, f: new Float32Array(rec.vectors) });
      });
      docs.forEach((d, i) => {
        const s = slots[i];
        const { rec, f } = byChunk.get(Math.floor(s / chunkSize))!;
        const row = s % chunkSize;
        f.set(rows[i], row * dim);
        rec.ids[row] = d.id;
      });
      await inBatches([...byChunk.values()], ({ rec }) => vecStore.put(rec));
      await inBatches(docs, (d, i) => {
        const rec: DocRecord = { id: d.id, text: d.text, slot: slots[i] };
        if (d.title !== undefined) rec.title = d.title;
        if (d.metadata !== undefined) rec.metadata = d.metadata;
        return docStore.put(rec);
      });
      m.updatedAt = Date.now();
      await metaStore.put(m, META_KEY);
      return { meta: m, slots };
    });
    this._meta = meta;
    return slots;
  }

  /** Deletes documents and frees their vector slots. Unknown ids are ignored. Returns how many were deleted. */
  async deleteDocs(ids: readonly string[]): Promise<number> {
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) invalid('ids must be an array of strings.');
    const { dim, chunkSize } = this._meta;
    let deleted = 0;
    const meta = await this.write(['meta', 'docs', 'vectors'], 1024, `deleting ${ids.length} documents`, async (tx) => {
      const metaStore = tx.objectStore('meta');
      const docStore = tx.objectStore('docs');
      const vecStore = tx.objectStore('vectors');
      const m = { ...((await metaStore.get(META_KEY)) as CollectionMeta) };
      const recs = (await inBatches([...new Set(ids)], (id) => docStore.get(id))) as (DocRecord | undefined)[];
      const chunks = new Map<number, ChunkRecord>();
      const free = new Set(m.freeSlots);
      const puts: Promise<unknown>[] = [];
      for (const r of recs) {
        if (!r) continue;
        deleted++;
        puts.push(settle(docStore.delete(r.id)));
        if (r.slot < 0) continue;
        const c = Math.floor(r.slot / chunkSize);
        if (!chunks.has(c)) chunks.set(c, (await vecStore.get(c)) as ChunkRecord);
        const rec = chunks.get(c)!;
        const row = r.slot % chunkSize;
        rec.ids[row] = null;
        new Float32Array(rec.vectors).fill(0, row * dim, (row + 1) * dim);
        free.add(r.slot);
        m.count--;
      }
      for (const rec of chunks.values()) puts.push(settle(vecStore.put(rec)));
      m.freeSlots = [...free].sort((a, b) => a - b);
      m.updatedAt = Date.now();
      puts.push(settle(metaStore.put(m, META_KEY)));
      await Promise.all(puts);
      return m;
    });
    this._meta = meta;
    return deleted;
  }

  /** Resume support: the ids whose vectors are stored (skip these when indexing again). */
  async storedIds(): Promise<Set<string>> {
    const db = await this.db();
    const out = new Set<string>();
    const recs = (await db.getAll('vectors')) as ChunkRecord[];
    for (const r of recs) for (const id of r.ids) if (id !== null) out.add(id);
    return out;
  }

  /** Documents stored without a vector (after a 'reindex' open): re-embed and putDocs them. */
  async pendingDocs(): Promise<DocRecord[]> {
    const db = await this.db();
    const all = (await db.getAll('docs')) as DocRecord[];
    return all.filter((d) => d.slot < 0);
  }

  async getDoc(id: string): Promise<DocRecord | undefined> {
    const db = await this.db();
    return (await db.get('docs', id)) as DocRecord | undefined;
  }

  async getDocs(ids: readonly string[]): Promise<(DocRecord | undefined)[]> {
    const db = await this.db();
    const tx = db.transaction('docs');
    const out = (await inBatches(ids, (id) => tx.store.get(id))) as (DocRecord | undefined)[];
    await tx.done;
    return out;
  }

  async docCount(): Promise<number> {
    return (await this.db()).count('docs');
  }

  /**
   * Every vector chunk, for the searcher (the caller keeps them in memory).
   * Rows past the last used slot are trimmed; free slots have id null.
   */
  async loadAll(): Promise<VectorChunk[]> {
    const db = await this.db();
    const tx = db.transaction(['meta', 'vectors']);
    const m = (await tx.objectStore('meta').get(META_KEY)) as CollectionMeta;
    const recs = (await tx.objectStore('vectors').getAll()) as ChunkRecord[];
    await tx.done;
    this._meta = m;
    recs.sort((a, b) => a.chunk - b.chunk);
    return recs.map((r) => {
      const rows = Math.max(0, Math.min(m.chunkSize, m.nextSlot - r.chunk * m.chunkSize));
      return { dim: m.dim, vectors: new Float32Array(r.vectors, 0, rows * m.dim), ids: r.ids.slice(0, rows) };
    });
  }

  /** Switches the collection to another base model: clears vectors and pilots, marks all docs pending. */
  private async reindex(fingerprint: string, dim: number): Promise<void> {
    const meta = await this.write(['meta', 'docs', 'vectors', 'pilots'], 1024, 're-indexing', async (tx) => {
      const m = { ...((await tx.objectStore('meta').get(META_KEY)) as CollectionMeta) };
      await tx.objectStore('vectors').clear();
      await tx.objectStore('pilots').clear();
      await tx.objectStore('meta').delete(PILOT_STATE_KEY);
      let cursor = await tx.objectStore('docs').openCursor();
      while (cursor) {
        const d = cursor.value as DocRecord;
        if (d.slot !== -1) await cursor.update({ ...d, slot: -1 });
        cursor = await cursor.continue();
      }
      Object.assign(m, { fingerprint, dim, count: 0, nextSlot: 0, freeSlots: [], updatedAt: Date.now() });
      await tx.objectStore('meta').put(m, META_KEY);
      return m;
    });
    this._meta = meta;
  }

  // ---- experts and pilots -------------------------------------------------

  async putExpert(expert: ExpertRecord): Promise<void> {
    if (typeof expert?.name !== 'string' || expert.name === '') invalid('An expert needs a non-empty name.');
    const bytes = Object.values(expert.files ?? {}).reduce((s, b) => s + b.byteLength, 0) + approxJsonBytes(expert.config);
    await this.write(['experts'], bytes, `saving expert "${expert.name}"`, async (tx) => {
      await tx.objectStore('experts').put({ addedAt: Date.now(), ...expert });
    });
  }

  async getExperts(): Promise<ExpertRecord[]> {
    return (await (await this.db()).getAll('experts')) as ExpertRecord[];
  }

  /** Removes an expert and its pilot embeddings in one transaction. Documents are untouched. */
  async deleteExpert(name: string): Promise<void> {
    await this.write(['experts', 'pilots'], 0, `removing expert "${name}"`, async (tx) => {
      await tx.objectStore('experts').delete(name);
      await tx.objectStore('pilots').delete(name);
    });
  }

  /**
   * Replaces the whole pilot library (and, optionally, the builder state that
   * addExpert needs later). Expert order is kept.
   */
  async putPilots(pilots: PilotLibrary, state?: PilotLibraryState): Promise<void> {
    const dim = this._meta.dim;
    const recs: PilotRecord[] = [];
    let order = 0;
    for (const [expert, list] of pilots) {
      const buf = new Float32Array(list.length * dim);
      list.forEach((v, i) => {
        if (!(v instanceof Float32Array) || v.length !== dim) invalid(`Pilot ${i} of expert "${expert}" must have ${dim} dimensions.`);
        for (let j = 0; j < dim; j++) if (!Number.isFinite(v[j])) invalid(`Pilot ${i} of expert "${expert}" has a non-finite value.`);
        buf.set(v, i * dim);
      });
      recs.push({ expert, order: order++, dim, vectors: buf.buffer });
    }
    const bytes = recs.reduce((s, r) => s + r.vectors.byteLength, 0);
    await this.write(['pilots', 'meta'], bytes, 'saving the pilot library', async (tx) => {
      const st = tx.objectStore('pilots');
      await st.clear();
      await Promise.all(recs.map((r) => settle(st.put(r))));
      if (state) await tx.objectStore('meta').put(state, PILOT_STATE_KEY);
      else await tx.objectStore('meta').delete(PILOT_STATE_KEY);
    });
  }

  async getPilots(): Promise<PilotLibrary> {
    const recs = (await (await this.db()).getAll('pilots')) as PilotRecord[];
    recs.sort((a, b) => a.order - b.order);
    const out: PilotLibrary = new Map();
    for (const r of recs) {
      const f = new Float32Array(r.vectors);
      const list: Float32Array[] = [];
      for (let i = 0; i < f.length / r.dim; i++) list.push(f.slice(i * r.dim, (i + 1) * r.dim));
      out.set(r.expert, list);
    }
    return out;
  }

  async getPilotState(): Promise<PilotLibraryState | undefined> {
    return (await (await this.db()).get('meta', PILOT_STATE_KEY)) as PilotLibraryState | undefined;
  }

  // ---- export / import ------------------------------------------------------

  /** The whole collection (documents, vectors, experts, pilots) as one file; see ./container.ts. */
  async exportCollection(): Promise<ArrayBuffer> {
    const db = await this.db();
    const tx = db.transaction(STORES);
    const m = (await tx.objectStore('meta').get(META_KEY)) as CollectionMeta;
    const docs = ((await tx.objectStore('docs').getAll()) as DocRecord[]).filter((d) => d.slot >= 0);
    const chunks = new Map(((await tx.objectStore('vectors').getAll()) as ChunkRecord[]).map((c) => [c.chunk, c]));
    const experts = (await tx.objectStore('experts').getAll()) as ExpertRecord[];
    await tx.done;
    const pilots = await this.getPilots();
    const vec = new Float32Array(docs.length * m.dim);
    docs.forEach((d, i) => {
      const c = chunks.get(Math.floor(d.slot / m.chunkSize))!;
      const row = d.slot % m.chunkSize;
      vec.set(new Float32Array(c.vectors, row * m.dim * 4, m.dim), i * m.dim);
    });
    const blobs: Uint8Array[] = [new Uint8Array(vec.buffer)];
    let off = vec.byteLength;
    const header: CollectionFileHeader = {
      format: 'routerretriever-collection',
      version: 1,
      name: m.name,
      fingerprint: m.fingerprint,
      dim: m.dim,
      dtype: 'float32',
      count: docs.length,
      docs: docs.map(({ slot: _slot, ...d }) => d),
      experts: experts.map((e) => {
        const files: Record<string, BlobRef> = {};
        for (const [fname, buf] of Object.entries(e.files ?? {})) {
          files[fname] = { offset: off, length: buf.byteLength };
          blobs.push(new Uint8Array(buf));
          off += buf.byteLength;
        }
        const { files: _f, ...rest } = e;
        return { ...rest, files };
      }),
      pilots: JSON.parse(exportPilotLibrary(pilots)) as Record<string, number[][]>,
      vectors: { offset: 0, length: vec.byteLength },
    };
    return encodeContainer(header, blobs);
  }

  /**
   * Creates collection `name` from an exported file (validated first: container,
   * ids, sizes, finite vectors, pilots). An existing non-empty collection is an
   * INVALID_INPUT error unless `overwrite`. `fingerprint` (optional) must match the
   * file's, else MODEL_MISMATCH. Documents are written in chunk-sized transactions.
   */
  static async importCollection(
    name: string,
    file: ArrayBuffer | Uint8Array,
    options: { fingerprint?: string; overwrite?: boolean } = {},
  ): Promise<CollectionStore> {
    const { header, data } = decodeContainer(file);
    if (options.fingerprint !== undefined && options.fingerprint !== header.fingerprint) {
      throw new RouterRetrieverError(
        'MODEL_MISMATCH',
        `The collection file was indexed with model ${header.fingerprint}, not ${options.fingerprint}.`,
        { stored: header.fingerprint, given: options.fingerprint },
      );
    }
    const { dim } = header;
    const vbytes = data.slice(header.vectors.offset, header.vectors.offset + header.vectors.length);
    const vec = new Float32Array(vbytes.buffer);
    for (let i = 0; i < vec.length; i++) if (!Number.isFinite(vec[i])) invalid('Not a valid collection file: a vector has a non-finite value.');
    let pilots: PilotLibrary;
    try {
      pilots = parsePilotLibrary(header.pilots, { dim });
    } catch (e) {
      if (isRouterRetrieverError(e)) invalid(`Not a valid collection file: ${e.message}`);
      throw e;
    }
    // Existing collection?
    const probe = await openDB(dbName(name));
    const hasData = probe.objectStoreNames.contains('docs') && (await probe.count('docs')) > 0;
    probe.close();
    if (hasData && !options.overwrite) {
      invalid(`Collection "${name}" already exists and has documents; pass { overwrite: true } to replace it.`);
    }
    await deleteDB(dbName(name));
    const store = await CollectionStore.open(name, { fingerprint: header.fingerprint, dim });
    const cs = store._meta.chunkSize;
    for (let s = 0; s < header.count; s += cs) {
      const e = Math.min(s + cs, header.count);
      await store.putDocs(header.docs.slice(s, e), vec.subarray(s * dim, e * dim));
    }
    for (const ex of header.experts) {
      const files: Record<string, ArrayBuffer> = {};
      for (const [fname, ref] of Object.entries(ex.files ?? {})) {
        files[fname] = data.slice(ref.offset, ref.offset + ref.length).buffer;
      }
      const rec: ExpertRecord = { ...ex, files };
      if (Object.keys(files).length === 0) delete rec.files;
      await store.putExpert(rec);
    }
    await store.putPilots(pilots);
    return store;
  }
}
