/**
 * One collection = one IndexedDB database `rr:<name>` (schema in ./schema.ts). This class is
 * the store's one entry: open/create (model fingerprint check), then documents and vectors
 * (./documents.ts), experts and pilots (./experts.ts), export/import (./transfer.ts), all over
 * one Connection (./connection.ts). Every write is ONE readwrite transaction, validated
 * first, committed whole or not at all; the in-memory `meta` is only updated after a commit.
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import type { Doc } from '../doc.js';
import type { PilotExtras } from '../router/library-file.js';
import { LEXICAL_DEFAULTS, type LexicalOptions } from '../lexical/lexical-index.js';
import type { Lexicon } from '../lexical/lexicon.js';
import { checkLexicalOptions } from '../lexical/options.js';
import { checkFilterable, type FieldSchema } from '../filter/fields.js';
import type { VectorChunk } from '../search/types.js';
import type { PilotLibrary } from '../vectors.js';
import { Connection, connect, readMeta } from './connection.js';
import * as documents from './documents.js';
import { applyFilterable } from './fields.js';
import * as experts from './experts.js';
import * as lexical from './lexical.js';
import { writeAllTerms } from './lexical-rebuild.js';
import {
  META_KEY,
  SCHEMA_VERSION,
  type CollectionMeta,
  type DocRecord,
  type ExpertRecord,
  type PilotStateRecord,
  type PrebuiltRecord,
  type UpgradeContext,
} from './schema.js';
import { importedFrom, replaceWithFile } from './import-file.js';
import * as transfer from './transfer.js';

export { REQUEST_BATCH } from './connection.js';

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
   * pending (see pendingDocs()) so the caller re-embeds them.
   */
  onModelMismatch?: 'error' | 'reindex';
  /**
   * Lexical options. A new collection stores them (defaults LEXICAL_DEFAULTS); an existing one
   * keeps its own unless given here. Another k1, b or uniqueQueryTerms only changes scoring and
   * is stored at once (the term vectors do not depend on them). Another analyzer invalidates the
   * stored term vectors: see onLexicalMismatch.
   */
  lexical?: Partial<LexicalOptions>;
  /**
   * When `lexical.analyzer` differs from the stored one: 'error' (default) throws
   * MODEL_MISMATCH; 'rebuild' analyzes every stored document again with the new analyzer, in one
   * transaction (vectors untouched).
   */
  onLexicalMismatch?: 'error' | 'rebuild';
  /**
   * The filterable metadata fields (checked: src/filter/fields.ts). Omitted: the stored ones.
   * Another declaration than the stored one rebuilds the field columns (./fields.ts).
   */
  filterable?: readonly string[] | FieldSchema;
}

function invalid(msg: string): never {
  throw new RouterRetrieverError('INVALID_INPUT', msg);
}

export class CollectionStore {
  private constructor(private readonly conn: Connection) {}

  get name(): string {
    return this.conn.name;
  }

  /** The collection's metadata as of the last commit seen by this instance. */
  get meta(): Readonly<CollectionMeta> {
    return this.conn.meta;
  }

  /** Opens (or creates) a collection. See OpenCollectionOptions for model mismatches. */
  static async open(name: string, options: OpenCollectionOptions): Promise<CollectionStore> {
    if (typeof name !== 'string' || name === '') invalid('A collection needs a non-empty name.');
    if (typeof options?.fingerprint !== 'string' || options.fingerprint === '')
      invalid('open() needs the base model fingerprint.');
    if (!Number.isInteger(options.dim) || options.dim < 1)
      invalid(`dim must be a positive integer, got ${options.dim}.`);
    const chunkSize = options.chunkSize ?? 1024;
    if (!Number.isInteger(chunkSize) || chunkSize < 1)
      invalid(`chunkSize must be a positive integer, got ${chunkSize}.`);
    const givenLexical = checkLexicalOptions(options.lexical);
    const onLexicalMismatch = options.onLexicalMismatch ?? 'error';
    if (onLexicalMismatch !== 'error' && onLexicalMismatch !== 'rebuild')
      invalid(`onLexicalMismatch must be 'error' or 'rebuild', got ${String(onLexicalMismatch)}.`);
    let conn: Connection | undefined;
    // A v2 collection is migrated with the lexical options given (its term vectors are built in the upgrade).
    const ctx: UpgradeContext = { lexical: { ...LEXICAL_DEFAULTS, ...givenLexical }, analyzed: 0 };
    const db = await connect(name, () => conn?.lost(), ctx);
    let meta = await readMeta(db);
    if (!meta) {
      const now = Date.now();
      const fresh: CollectionMeta = {
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
        lexical: ctx.lexical,
        lexiconSize: 0,
        lexiconEpoch: 0,
        filterable: {},
      };
      // add(): if another tab created it meanwhile, this fails and we re-read.
      try {
        await db.add('meta', fresh, META_KEY);
        meta = fresh;
      } catch {
        meta = (await readMeta(db))!;
      }
    }
    conn = new Connection(name, db, meta);
    conn.analyzed = ctx.analyzed;
    conn.lexiconEpoch = meta.lexiconEpoch;
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
      await documents.reindex(conn, options.fingerprint, options.dim);
    }
    try {
      await CollectionStore.applyLexical(conn, givenLexical, onLexicalMismatch);
      if (options.filterable !== undefined) await applyFilterable(conn, checkFilterable(options.filterable));
    } catch (e) {
      conn.close();
      throw e;
    }
    return new CollectionStore(conn);
  }

  /** Opening with other lexical options: scoring ones are stored, another analyzer is an error or a rebuild. */
  private static async applyLexical(
    conn: Connection,
    given: Partial<LexicalOptions>,
    onMismatch: 'error' | 'rebuild',
  ): Promise<void> {
    const stored = conn.meta.lexical;
    const wanted: LexicalOptions = { ...stored, ...given };
    if (wanted.analyzer !== stored.analyzer) {
      if (onMismatch !== 'rebuild') {
        throw new RouterRetrieverError(
          'MODEL_MISMATCH',
          `Collection "${conn.name}" was analyzed with the ${stored.analyzer} analyzer, not ${wanted.analyzer}. Open it without lexical.analyzer ` +
            `(or with '${stored.analyzer}'), or pass { onLexicalMismatch: 'rebuild' } to analyze every document again.`,
          { stored: stored.analyzer, given: wanted.analyzer },
        );
      }
      const r = await conn.write(
        ['meta', 'docs', 'terms', 'lexicon'],
        1024 + conn.meta.count * 600,
        'rebuilding the lexical index',
        async (tx) => {
          const m = (await readMeta(tx.objectStore('meta')))!;
          return writeAllTerms(tx, m, wanted);
        },
      );
      conn.meta = r.meta;
      conn.lexicon.truncate(0);
      for (let t = 0; t < r.lexicon.size; t++) conn.lexicon.idOf(r.lexicon.term(t));
      conn.lexiconEpoch = r.meta.lexiconEpoch;
      conn.lexiconGen++;
      conn.analyzed += r.analyzed;
      return;
    }
    if (wanted.k1 === stored.k1 && wanted.b === stored.b && wanted.uniqueQueryTerms === stored.uniqueQueryTerms) return;
    conn.meta = await conn.write(['meta'], 256, 'saving the lexical options', async (tx) => {
      const m = { ...(await readMeta(tx.objectStore('meta')))!, lexical: wanted, updatedAt: Date.now() };
      await tx.objectStore('meta').put(m, META_KEY);
      return m;
    });
  }

  /** Deletes a collection's database (other open instances close and report NOT_FOUND afterwards). */
  static deleteCollection(name: string): Promise<void> {
    return transfer.dropDatabase(name);
  }

  /** Forgets the connection (another tab forced a close); the next call reopens it. */
  private lost(): void {
    this.conn.lost();
  }

  close(): void {
    this.conn.close();
  }

  // ---- documents and vectors ----------------------------------------------

  /**
   * Adds or replaces documents with their base-encoder vectors, atomically: the
   * whole batch commits in one transaction or nothing does. An existing id keeps
   * its slot (upsert); new ids take the lowest free slot, else a new one.
   * Returns each document's vector slot (parallel to `docs`).
   */
  putDocs(docs: readonly Doc[], vectors: readonly Float32Array[] | Float32Array): Promise<number[]> {
    return documents.putDocs(this.conn, docs, vectors);
  }

  /**
   * putDocs(), also returning each document's term vector (ids in `lexicon`), for the live
   * lexical index. `analyzed` (from analyze(), same documents) skips the analysis here.
   */
  writeDocs(
    docs: readonly Doc[],
    vectors: readonly Float32Array[] | Float32Array,
    analyzed?: lexical.AnalyzedBatch,
  ): Promise<documents.WrittenDocs> {
    return documents.writeDocs(this.conn, docs, vectors, analyzed);
  }

  /** The documents' tokens with the collection's analyzer (pure CPU; counted in analyzedDocuments). */
  analyze(docs: readonly Doc[]): lexical.AnalyzedBatch {
    return lexical.analyzeDocs(this.conn, docs);
  }

  /** Deletes documents and frees their vector slots. Unknown ids are ignored. Returns how many were deleted. */
  deleteDocs(ids: readonly string[]): Promise<number> {
    return documents.deleteDocs(this.conn, ids);
  }

  /** Resume support: the ids whose vectors are stored (skip these when indexing again). */
  storedIds(): Promise<Set<string>> {
    return documents.storedIds(this.conn);
  }

  /** Documents stored without a vector (after a 'reindex' open): re-embed and putDocs them. */
  pendingDocs(): Promise<DocRecord[]> {
    return documents.pendingDocs(this.conn);
  }

  async getDoc(id: string): Promise<DocRecord | undefined> {
    return (await this.conn.db()).get('docs', id);
  }

  getDocs(ids: readonly string[]): Promise<(DocRecord | undefined)[]> {
    return documents.getDocs(this.conn, ids);
  }

  async docCount(): Promise<number> {
    return (await this.conn.db()).count('docs');
  }

  /** Every vector chunk, for the searcher (the caller keeps them in memory). Free slots have id null. */
  loadAll(): Promise<VectorChunk[]> {
    return documents.loadAll(this.conn);
  }

  /** The vector chunks and the live rows' term vectors, read in one transaction; no text is analyzed. */
  loadIndex(): Promise<lexical.IndexSnapshot> {
    return lexical.loadIndex(this.conn);
  }

  /** The collection's term ids (append-only; shared with the in-memory lexical index). */
  get lexicon(): Lexicon {
    return this.conn.lexicon;
  }

  /** Documents this instance analyzed (writes, a migration or a rebuild; opening a v3 collection analyzes none). */
  get analyzedDocuments(): number {
    return this.conn.analyzed;
  }

  // ---- experts and pilots -------------------------------------------------

  putExpert(expert: ExpertRecord): Promise<void> {
    return experts.putExpert(this.conn, expert);
  }

  getExperts(): Promise<ExpertRecord[]> {
    return experts.getExperts(this.conn);
  }

  /** Removes an expert and its pilot embeddings in one transaction. Documents are untouched. */
  deleteExpert(name: string): Promise<void> {
    return experts.deleteExpert(this.conn, name);
  }

  /**
   * Replaces the whole pilot library, the builder state (opaque here) and the extras (fusion,
   * abstention rule), in one transaction; what is not given is deleted. Expert order is kept.
   */
  putPilots(
    pilots: ReadonlyMap<string, readonly Float32Array[]>,
    state?: PilotStateRecord,
    extras: PilotExtras = {},
  ): Promise<void> {
    return experts.putPilots(this.conn, pilots, state, extras);
  }

  /** The fusion setting ("_fusion") and abstention rule ("_abstain") stored with the pilot library. */
  getPilotExtras(): Promise<PilotExtras> {
    return experts.getPilotExtras(this.conn);
  }

  getPilots(): Promise<PilotLibrary> {
    return experts.getPilots(this.conn);
  }

  getPilotState<T extends PilotStateRecord = PilotStateRecord>(): Promise<T | undefined> {
    return experts.getPilotState<T>(this.conn);
  }

  // ---- export / import ------------------------------------------------------

  /** The whole collection (documents, vectors, experts, pilots) as one file; see ./container.ts. */
  exportCollection(): Promise<ArrayBuffer> {
    return transfer.exportCollection(this.conn);
  }

  /**
   * Creates collection `name` from an exported file (validated whole first: container,
   * documents, sizes, finite vectors, pilots). An existing non-empty collection is an
   * INVALID_INPUT error unless `overwrite`. `fingerprint` (optional) must match the
   * file's, else MODEL_MISMATCH. The import is ONE transaction (./import-file.ts): a failure
   * leaves the collection as it was.
   */
  static async importCollection(
    name: string,
    file: ArrayBuffer | Uint8Array | transfer.CollectionFile,
    options: { fingerprint?: string; overwrite?: boolean; prebuilt?: PrebuiltRecord } = {},
  ): Promise<CollectionStore> {
    const f = 'header' in file ? file : transfer.readCollectionFile(file);
    const { header } = f;
    if (options.fingerprint !== undefined && options.fingerprint !== header.fingerprint) {
      throw new RouterRetrieverError(
        'MODEL_MISMATCH',
        `The collection file was indexed with model ${header.fingerprint}, not ${options.fingerprint}. ` +
          'Build it again with this model (router-retriever index ... --model <this model>).',
        {
          stored: header.fingerprint,
          given: options.fingerprint,
        },
      );
    }
    if ((await importedFrom(name)).documents > 0 && !options.overwrite) {
      invalid(`Collection "${name}" already exists and has documents; pass { overwrite: true } to replace it.`);
    }
    await replaceWithFile(name, f, options.prebuilt);
    return CollectionStore.open(name, { fingerprint: header.fingerprint, dim: header.dim });
  }
}
