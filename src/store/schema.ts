import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { Doc } from '../doc.js';
import type { LexicalOptions } from '../lexical/lexical-index.js';
import type { FilterFieldType, FilterScalar } from '../types.js';
import { buildTermsInUpgrade, type UpgradeContext } from './lexical-rebuild.js';

/** Current schema version of a collection database. */
export const SCHEMA_VERSION = 4;

/** Every collection is its own database, named with this prefix. */
export const DB_PREFIX = 'rr:';

export function dbName(collection: string): string {
  return DB_PREFIX + collection;
}

export const META_KEY = 'collection';
export const PILOT_STATE_KEY = 'pilotState';
/** meta[FUSION_KEY]: the fusion setting that came with the pilot library ({ method, weight }). */
export const FUSION_KEY = 'fusion';
/** meta[ABSTAIN_KEY]: the abstention rule that came with the pilot library (src/router/abstain.ts). */
export const ABSTAIN_KEY = 'abstain';
/** meta[PREBUILT_KEY]: the prebuilt collection file the content was imported from (open()'s `prebuilt`). */
export const PREBUILT_KEY = 'prebuilt';

/** Stored under meta[PREBUILT_KEY]. */
export interface PrebuiltRecord {
  /** Where the file was downloaded from. */
  url: string;
  /** SHA-256 of the file's bytes (hex): the same file is never imported twice. */
  sha256: string;
  documents: number;
  importedAt: number;
}

/** Stored under meta[META_KEY]. */
export interface CollectionMeta {
  name: string;
  schemaVersion: number;
  /** Hash of the base model's config and weights (computed by the caller). */
  fingerprint: string;
  dim: number;
  dtype: 'float32';
  /** Vectors per chunk record. */
  chunkSize: number;
  /** Documents with a stored vector. */
  count: number;
  /** Next never-used slot; slots [0, nextSlot) exist in chunk records. */
  nextSlot: number;
  /** Slots freed by delete, reused (lowest first) by later writes. */
  freeSlots: number[];
  createdAt: number;
  updatedAt: number;
  /** How the term vectors were built (analyzer) and are scored (k1, b, uniqueQueryTerms). Since v3. */
  lexical: LexicalOptions;
  /** Terms in the lexicon store (ids 0 .. lexiconSize - 1). Since v3. */
  lexiconSize: number;
  /** Bumped when the lexicon is rebuilt (another analyzer): ids of an older epoch mean nothing. Since v3. */
  lexiconEpoch: number;
  /** The filterable metadata fields and their types (fields store). Since v4; absent = none. */
  filterable?: Record<string, FilterFieldType>;
}

/** docs store (keyPath 'id'): the Doc and its vector slot; slot = -1: stored without a vector (yet). */
export interface DocRecord extends Doc {
  slot: number;
}

/** vectors store (keyPath 'chunk'): chunkSize rows as ONE ArrayBuffer of float32; ids[row] null = free slot. */
export interface ChunkRecord {
  chunk: number;
  ids: (string | null)[];
  vectors: ArrayBuffer;
}

/**
 * terms store (keyPath 'chunk', since v3): the term vectors of chunkSize slots, like a vector
 * chunk: row r's distinct term ids (ascending) are terms[offsets[r] .. offsets[r + 1]) with
 * their frequencies in tfs at the same positions, and lengths[r] is its analyzed length (BM25's
 * dl). A free row is empty with length 0; which rows are live is the vector chunk's `ids`.
 */
export interface TermChunkRecord {
  chunk: number;
  /** Uint32Array(chunkSize + 1). */
  offsets: ArrayBuffer;
  /** Uint32Array(chunkSize). */
  lengths: ArrayBuffer;
  /** Uint32Array of term ids. */
  terms: ArrayBuffer;
  /** Uint16Array, parallel to terms. */
  tfs: ArrayBuffer;
}

/**
 * fields store (keyPath 'chunk', since v4): the filterable fields' values of chunkSize slots,
 * like a vector chunk: columns[field][row] is the value of the document at that slot, null for
 * none (or a free slot). Only declared fields (meta.filterable) have a column.
 */
export interface FieldChunkRecord {
  chunk: number;
  columns: Record<string, (FilterScalar | null)[]>;
}

/** lexicon store (keyPath 'from', since v3): append-only; the terms with ids from, from + 1, ... */
export interface LexiconRecord {
  from: number;
  terms: string[];
}

/** experts store (keyPath 'name'): where the adapter comes from and its config; optional raw files. */
export interface ExpertRecord {
  name: string;
  /** e.g. a URL or Hugging Face repo id of the adapter. */
  source?: string;
  /** e.g. adapter_config.json fields (r, lora_alpha, target_modules, ...). */
  config?: Record<string, unknown>;
  /** Optional raw adapter files (name -> bytes) for offline use. */
  files?: Record<string, ArrayBuffer>;
  addedAt?: number;
}

/** pilots store (keyPath 'expert'): an expert's pilot embeddings as one float32 buffer; `order` keeps expert order. */
export interface PilotRecord {
  expert: string;
  order: number;
  dim: number;
  vectors: ArrayBuffer;
}

/**
 * Stored under meta[PILOT_STATE_KEY]: the pilot library builder's state, opaque to the store
 * (structured-clonable plain data; src/router/pilot-state.ts knows its shape).
 */
export type PilotStateRecord = object;

/** The on-disk layout (schema version 4), typed for idb. */
export interface CollectionDB extends DBSchema {
  meta: { key: string; value: CollectionMeta | PilotStateRecord | PrebuiltRecord };
  docs: { key: string; value: DocRecord };
  vectors: { key: number; value: ChunkRecord };
  experts: { key: string; value: ExpertRecord };
  pilots: { key: string; value: PilotRecord };
  terms: { key: number; value: TermChunkRecord };
  lexicon: { key: number; value: LexiconRecord };
  fields: { key: number; value: FieldChunkRecord };
}

export type StoreName = StoreNames<CollectionDB>;
export type Db = IDBPDatabase<CollectionDB>;
export type UpgradeTx = IDBPTransaction<CollectionDB, StoreName[], 'versionchange'>;
export type { UpgradeContext } from './lexical-rebuild.js';

/**
 * Explicit migrations: MIGRATIONS[v] upgrades a database from version v to v + 1.
 * - 0 -> 1: meta, docs (keyPath id), vectors (keyPath chunk).
 * - 1 -> 2: experts and pilots stores; meta gets `dtype` ('float32') and its schemaVersion bumped.
 * - 2 -> 3: terms and lexicon stores; the term vectors of the stored documents are built inside
 *   the upgrade transaction (./lexical-upgrade.ts), so the collection is either migrated whole
 *   or left at v2. This is the only time stored documents are analyzed again.
 * - 3 -> 4: the fields store (filterable metadata columns). No field is declared yet, so it
 *   starts empty; meta gets `filterable: {}` once its earlier steps' writes are done.
 */
export const MIGRATIONS: ((db: Db, tx: UpgradeTx, ctx?: UpgradeContext) => void)[] = [
  (db) => {
    db.createObjectStore('meta');
    db.createObjectStore('docs', { keyPath: 'id' });
    db.createObjectStore('vectors', { keyPath: 'chunk' });
  },
  (db, tx) => {
    db.createObjectStore('experts', { keyPath: 'name' });
    db.createObjectStore('pilots', { keyPath: 'expert' });
    const meta = tx.objectStore('meta');
    void meta.get(META_KEY).then((m) => {
      const v1 = m as Partial<CollectionMeta> | undefined; // a version-1 meta record (no dtype)
      if (v1) void meta.put({ ...v1, dtype: v1.dtype ?? 'float32', schemaVersion: 2 } as CollectionMeta, META_KEY);
    });
  },
  (db, tx, ctx) => {
    db.createObjectStore('terms', { keyPath: 'chunk' });
    db.createObjectStore('lexicon', { keyPath: 'from' });
    buildTermsInUpgrade(tx, ctx);
  },
  (db, tx, ctx) => {
    db.createObjectStore('fields', { keyPath: 'chunk' });
    const meta = tx.objectStore('meta');
    // After the 2 -> 3 step's meta put when that step ran in this upgrade (it is issued from a callback).
    void (ctx?.termsBuilt ?? Promise.resolve()).then(async () => {
      const m = (await meta.get(META_KEY)) as CollectionMeta | undefined;
      if (m && typeof m.chunkSize === 'number')
        await meta.put({ ...m, filterable: m.filterable ?? {}, schemaVersion: 4 }, META_KEY);
    });
  },
];

/** Runs the migrations from oldVersion up to newVersion (used by openDB's upgrade callback). */
export function migrate(db: Db, oldVersion: number, newVersion: number, tx: UpgradeTx, ctx?: UpgradeContext): void {
  for (let v = oldVersion; v < newVersion; v++) MIGRATIONS[v](db, tx, ctx);
}
