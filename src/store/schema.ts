import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { Doc } from '../doc.js';

/** Current schema version of a collection database. */
export const SCHEMA_VERSION = 2;

/** Every collection is its own database, named with this prefix. */
export const DB_PREFIX = 'rr:';

export function dbName(collection: string): string {
  return DB_PREFIX + collection;
}

export const META_KEY = 'collection';
export const PILOT_STATE_KEY = 'pilotState';

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

/** The on-disk layout (unchanged since schema version 2), typed for idb. */
export interface CollectionDB extends DBSchema {
  meta: { key: string; value: CollectionMeta | PilotStateRecord };
  docs: { key: string; value: DocRecord };
  vectors: { key: number; value: ChunkRecord };
  experts: { key: string; value: ExpertRecord };
  pilots: { key: string; value: PilotRecord };
}

export type StoreName = StoreNames<CollectionDB>;
export type Db = IDBPDatabase<CollectionDB>;
type UpgradeTx = IDBPTransaction<CollectionDB, StoreName[], 'versionchange'>;

/**
 * Explicit migrations: MIGRATIONS[v] upgrades a database from version v to v + 1.
 * - 0 -> 1: meta, docs (keyPath id), vectors (keyPath chunk).
 * - 1 -> 2: experts and pilots stores; meta gets `dtype` ('float32') and its schemaVersion bumped.
 */
export const MIGRATIONS: ((db: Db, tx: UpgradeTx) => void)[] = [
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
];

/** Runs the migrations from oldVersion up to newVersion (used by openDB's upgrade callback). */
export function migrate(db: Db, oldVersion: number, newVersion: number, tx: UpgradeTx): void {
  for (let v = oldVersion; v < newVersion; v++) MIGRATIONS[v](db, tx);
}
