/**
 * The IndexedDB connection of one collection: opened (and migrated) through idb with the
 * typed schema, reopened after another tab's versionchange, and every write as ONE
 * readwrite transaction that commits whole or not at all (QuotaExceededError mapped to
 * QUOTA_EXCEEDED). `meta` is the collection metadata as of the last commit seen here.
 */
import { deleteDB, openDB, type IDBPTransaction } from 'idb';
import { RouterRetrieverError } from '../boundary/errors.js';
import { Lexicon } from '../lexical/lexicon.js';
import {
  META_KEY,
  SCHEMA_VERSION,
  dbName,
  migrate,
  type CollectionDB,
  type CollectionMeta,
  type Db,
  type StoreName,
  type UpgradeContext,
} from './schema.js';

export type WriteTx<S extends StoreName> = IDBPTransaction<CollectionDB, S[], 'readwrite'>;

function isQuotaError(e: unknown): boolean {
  const n = (e as { name?: unknown } | null)?.name;
  return n === 'QuotaExceededError' || (e as { code?: unknown } | null)?.code === 22;
}

export function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

/** Marks a request promise as handled: if a later request in the same batch throws, the transaction aborts and the already-issued ones reject with AbortError, which Promise.all never gets to observe. */
export function settle<T>(p: Promise<T>): Promise<T> {
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
export async function inBatches<T, R>(items: readonly T[], f: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let s = 0; s < items.length; s += REQUEST_BATCH) {
    const part = items.slice(s, s + REQUEST_BATCH);
    out.push(...(await Promise.all(part.map((x, k) => settle(f(x, s + k))))));
  }
  return out;
}

type MetaValue = CollectionDB['meta']['value'];

/** The collection meta record, from the db or a transaction's meta store (which also holds the pilot builder state, under another key). */
export async function readMeta(
  from: Db | { get(key: string): Promise<MetaValue | undefined> },
): Promise<CollectionMeta | undefined> {
  const v = 'objectStoreNames' in from ? await from.get('meta', META_KEY) : await from.get(META_KEY);
  return v as CollectionMeta | undefined;
}

export function connect(name: string, onLost: () => void, ctx?: UpgradeContext): Promise<Db> {
  return openDB<CollectionDB>(dbName(name), SCHEMA_VERSION, {
    upgrade(db, oldVersion, newVersion, tx) {
      migrate(db, oldVersion, newVersion ?? SCHEMA_VERSION, tx, ctx);
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

export class Connection {
  private dbp: Promise<Db> | undefined;
  private closed = false;
  /**
   * The collection's term ids, shared with the in-memory lexical index. Only extended inside a
   * document write's transaction (after catching up with the stored lexicon there), so two
   * instances on one collection never give one id to two terms.
   */
  readonly lexicon = new Lexicon();
  /** Bumped on every change of `lexicon` (an undo after a failed write applies only if nothing changed it since). */
  lexiconGen = 0;
  /** meta.lexiconEpoch that `lexicon` belongs to. */
  lexiconEpoch = 0;
  /** Documents analyzed by this instance (index time only; queries are not counted). */
  analyzed = 0;

  constructor(
    readonly name: string,
    db: Db,
    public meta: CollectionMeta,
  ) {
    this.dbp = Promise.resolve(db);
  }

  lost(): void {
    this.dbp = undefined;
  }

  /** The connection, reopened after a versionchange from another tab. */
  db(): Promise<Db> {
    if (this.closed)
      return Promise.reject(new RouterRetrieverError('NOT_READY', `Collection "${this.name}" is closed.`));
    if (!this.dbp) {
      const p = connect(this.name, () => this.lost()).then(async (db) => {
        const meta = await readMeta(db);
        if (!meta) {
          db.close();
          await deleteDB(dbName(this.name)).catch(() => undefined); // don't leave an empty shell behind
          throw new RouterRetrieverError('NOT_FOUND', `Collection "${this.name}" was deleted (in another tab?).`);
        }
        if (meta.createdAt !== this.meta.createdAt) {
          // Deleted and created again (an import elsewhere): this instance's lexicon and slots describe the old one.
          db.close();
          throw new RouterRetrieverError(
            'NOT_READY',
            `Collection "${this.name}" was replaced (in another tab?). Open it again.`,
          );
        }
        this.meta = meta;
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
    void this.dbp?.then(
      (db) => db.close(),
      () => undefined,
    );
    this.dbp = undefined;
  }

  /**
   * Runs `fn` in one readwrite transaction over `stores`. Any failure aborts the whole
   * transaction; a QuotaExceededError becomes RouterRetrieverError('QUOTA_EXCEEDED')
   * with details.neededBytes = `neededBytes` (an estimate of what the write needed).
   */
  async write<S extends StoreName, T>(
    stores: S[],
    neededBytes: number,
    what: string,
    fn: (tx: WriteTx<S>) => Promise<T>,
  ): Promise<T> {
    const db = await this.db();
    const tx = db.transaction(stores, 'readwrite');
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
      if (isQuotaError(e) || isQuotaError(doneErr) || isQuotaError(tx.error)) {
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
}
