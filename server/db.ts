/**
 * The service's SQL, over any PostgreSQL with pgvector reached through `pg`: one `documents`
 * table, an HNSW index with vector_ip_ops (the SDK's scores are dot products, `<#>` is the
 * negative inner product), every value a bind parameter, every write one transaction.
 */
import type pg from 'pg';
import type { FilterNode } from '../src/filter/check.js';
import { compareHits } from '../src/search/types.js';
import { filterToSql } from './filter-sql.js';
import { HttpError, type DocRow } from './requests.js';

export interface IndexHit {
  id: string;
  score: number;
}

export interface SearchTuning {
  /** hnsw.ef_search (the candidate list); raised to k when k is larger. pgvector allows 1..1000. */
  efSearch: number;
}

/** pgvector's text form of a vector, sent as a parameter and cast with ::vector. */
const vectorText = (v: readonly number[]) => `[${v.join(',')}]`;

/**
 * Creates the extension, the table and the HNSW index when missing; a table of another
 * dimension is refused. `dim` is a checked integer from the configuration: a type modifier
 * cannot be a bind parameter, so it is the one number written into DDL.
 */
export async function ensureSchema(pool: pg.Pool, dim: number): Promise<void> {
  if (!Number.isInteger(dim) || dim < 1 || dim > 16000) throw new Error(`dim must be an integer 1..16000, got ${dim}`);
  await pool.query('CREATE EXTENSION IF NOT EXISTS vector');
  await pool.query(
    `CREATE TABLE IF NOT EXISTS documents (
      id text PRIMARY KEY,
      text text NOT NULL DEFAULT '',
      title text,
      metadata jsonb,
      embedding vector(${dim}) NOT NULL
    )`,
  );
  const r = await pool.query(
    `SELECT atttypmod FROM pg_attribute WHERE attrelid = 'documents'::regclass AND attname = 'embedding'`,
  );
  const have = r.rows[0]?.atttypmod;
  if (have !== dim)
    throw new Error(`The documents table holds vector(${have}); this service is configured for ${dim}.`);
  await pool.query(
    'CREATE INDEX IF NOT EXISTS documents_embedding_hnsw ON documents USING hnsw (embedding vector_ip_ops)',
  );
}

async function inTransaction<T>(pool: pg.Pool, run: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const out = await run(c);
    await c.query('COMMIT');
    return out;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}

/**
 * Top k by dot product among the rows matching `filter`. With the index, a filtered search
 * scans iteratively (hnsw.iterative_scan = strict_order) so it still finds k matches when
 * they exist; `exact` turns index scans off for the transaction: a sequential scan, exact.
 */
export function search(
  pool: pg.Pool,
  q: { vector: number[]; k: number; filter?: FilterNode; exact: boolean },
  tuning: SearchTuning,
): Promise<IndexHit[]> {
  const params: unknown[] = [vectorText(q.vector), q.k];
  const where = filterToSql(q.filter, params);
  const sql = `SELECT id, (embedding <#> $1::vector) * -1 AS score FROM documents WHERE ${where}
    ORDER BY embedding <#> $1::vector LIMIT $2`;
  return inTransaction(pool, async (c) => {
    if (q.exact) await c.query(`SELECT set_config('enable_indexscan', 'off', true)`);
    else {
      const ef = String(Math.min(1000, Math.max(tuning.efSearch, q.k)));
      await c.query(`SELECT set_config('hnsw.ef_search', $1, true)`, [ef]);
      if (q.filter) await c.query(`SELECT set_config('hnsw.iterative_scan', 'strict_order', true)`);
    }
    const r = await c.query<{ id: string; score: number }>(sql, params);
    // A second ORDER BY key would keep the planner off the index: equal scores are ordered here.
    return r.rows.map((row) => ({ id: row.id, score: Number(row.score) })).sort(compareHits);
  });
}

/** Rows per INSERT statement (a large write is several statements in one transaction). */
const INSERT_ROWS = 1000;

/** Inserts or replaces the documents, all or none (one transaction however many). */
export function upsert(pool: pg.Pool, docs: readonly DocRow[]): Promise<number> {
  return inTransaction(pool, async (c) => {
    for (let i = 0; i < docs.length; i += INSERT_ROWS) {
      const part = docs.slice(i, i + INSERT_ROWS);
      const r = await c.query(
        `INSERT INTO documents (id, text, title, metadata, embedding)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::vector[])
         ON CONFLICT (id) DO UPDATE SET text = EXCLUDED.text, title = EXCLUDED.title,
           metadata = EXCLUDED.metadata, embedding = EXCLUDED.embedding`,
        [
          part.map((d) => d.id),
          part.map((d) => d.text),
          part.map((d) => d.title),
          part.map((d) => (d.metadata === null ? null : JSON.stringify(d.metadata))),
          part.map((d) => vectorText(d.vector)),
        ],
      );
      if (r.rowCount !== part.length) throw new HttpError(500, `Wrote ${r.rowCount} of ${part.length} documents.`);
    }
    return docs.length;
  });
}

/** Deletes the documents with these ids (absent ids are skipped); returns how many were deleted. */
export function remove(pool: pg.Pool, ids: readonly string[]): Promise<number> {
  return inTransaction(pool, async (c) => {
    const r = await c.query('DELETE FROM documents WHERE id = ANY($1::text[])', [ids]);
    return r.rowCount ?? 0;
  });
}

export interface StoredDoc {
  id: string;
  text: string;
  title?: string;
  metadata?: Record<string, unknown>;
}

/** The documents with these ids, in the order asked (absent ids left out). */
export async function getDocs(pool: pg.Pool, ids: readonly string[]): Promise<StoredDoc[]> {
  const r = await pool.query<{
    id: string;
    text: string;
    title: string | null;
    metadata: Record<string, unknown> | null;
  }>('SELECT id, text, title, metadata FROM documents WHERE id = ANY($1::text[])', [ids]);
  const byId = new Map(r.rows.map((row) => [row.id, row]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    if (!row) return [];
    return [
      {
        id,
        text: row.text,
        ...(row.title !== null ? { title: row.title } : {}),
        ...(row.metadata !== null ? { metadata: row.metadata } : {}),
      },
    ];
  });
}

export async function count(pool: pg.Pool): Promise<number> {
  const r = await pool.query<{ n: string }>('SELECT count(*) AS n FROM documents');
  return Number(r.rows[0].n);
}
