/**
 * The service's filter SQL (server/filter-sql.ts) and configuration (server/config.ts): field
 * names and values only ever travel as bind parameters, so a hostile field name or value is data
 * (run here against a real PGlite + pgvector database over the wire protocol), and the SQL means
 * what the SDK's in-memory mask means.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFilter } from '../src/filter/check.js';
import { configFromEnv } from '../server/config.js';
import { ensureSchema } from '../server/db.js';
import { filterToSql } from '../server/filter-sql.js';
import { type LocalDatabase, startPglite } from '../server/pglite.js';

const HOSTILE = `x'); DROP TABLE documents; --`;
const SCHEMA = { [HOSTILE]: 'string', year: 'number', flag: 'any' } as const;

let db: LocalDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await startPglite();
  pool = new pg.Pool({ connectionString: db.url, max: 1 });
  await ensureSchema(pool, 2);
  const rows: [string, unknown][] = [
    ['a', { [HOSTILE]: `'; DELETE FROM documents; --`, year: 2001 }],
    ['b', { [HOSTILE]: 'plain', year: '2001', flag: 1 }],
    ['c', { year: 1999.5, flag: true }],
    ['d', { flag: 'true' }],
    ['e', null],
  ];
  for (const [id, md] of rows)
    await pool.query(`INSERT INTO documents (id, metadata, embedding) VALUES ($1, $2::jsonb, '[1,0]')`, [
      id,
      md === null ? null : JSON.stringify(md),
    ]);
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await db?.stop();
});

async function ids(filter: unknown): Promise<string[]> {
  const params: unknown[] = [];
  const where = filterToSql(checkFilter(filter, SCHEMA), params);
  const r = await pool.query<{ id: string }>(`SELECT id FROM documents WHERE ${where} ORDER BY id`, params);
  return r.rows.map((x) => x.id);
}

describe('server filter SQL', () => {
  it('keeps every field name and value out of the SQL text', () => {
    const params: unknown[] = ['first'];
    const sql = filterToSql(checkFilter({ [HOSTILE]: `'; DELETE`, year: { gte: 1 } }, SCHEMA), params);
    expect(sql).not.toContain(HOSTILE);
    expect(sql).not.toContain('DELETE');
    expect(sql).not.toMatch(/'x'|2001/);
    expect(params.slice(0, 2)).toEqual(['first', HOSTILE]);
    expect(sql).toMatch(/\$2::text/);
  });

  it('matches like the in-memory mask: JSON equality, numeric bounds on numbers only, and/or', async () => {
    expect(await ids({ [HOSTILE]: `'; DELETE FROM documents; --` })).toEqual(['a']);
    expect(await ids({ year: 2001 })).toEqual(['a']); // the string "2001" of b is not the number
    expect(await ids({ year: { gte: 1999, lt: 2002 } })).toEqual(['a', 'c']);
    expect(await ids({ year: { gt: 1999.5 } })).toEqual(['a']);
    expect(await ids({ flag: true })).toEqual(['c']); // not the string "true", not 1
    expect(await ids({ flag: { in: [1, 'true'] } })).toEqual(['b', 'd']);
    expect(await ids({ or: [{ flag: true }, { [HOSTILE]: 'plain' }] })).toEqual(['b', 'c']);
    expect(await ids({ and: [{ year: { lt: 3000 } }, { flag: { gte: 0 } }] })).toEqual([]);
    expect(await ids({ flag: { gte: 0 } })).toEqual(['b']);
    expect((await pool.query('SELECT count(*)::int AS n FROM documents')).rows[0].n).toBe(5);
  });
});

describe('server config', () => {
  it('reads the environment with defaults, and names a bad setting', () => {
    const c = configFromEnv({ DATABASE_URL: 'postgres://x', FILTERABLE: 'lang:string, year:number,tag' });
    expect(c.filterable).toEqual({ lang: 'string', year: 'number', tag: 'any' });
    expect(c).toMatchObject({ dim: 768, maxK: 1000, port: 8787, host: '127.0.0.1', apiKey: undefined });
    expect(() => configFromEnv({})).toThrow(/DATABASE_URL is not set/);
    expect(() => configFromEnv({ DATABASE_URL: 'x', DIM: '12.5' })).toThrow(/DIM must be an integer/);
    expect(() => configFromEnv({ DATABASE_URL: 'x', MAX_K: '5000' })).toThrow(/MAX_K must be an integer 1\.\.1000/);
    expect(() => configFromEnv({ DATABASE_URL: 'x', FILTERABLE: 'a:date' })).toThrow(
      /FILTERABLE: the type of field "a"/,
    );
  });
});
