/**
 * server/load.ts: the file `router-retriever index` writes, loaded into PostgreSQL + pgvector
 * (PGlite over the wire protocol): every document with its vector and metadata, searchable by the
 * service's SQL; a file the service's checks refuse writes nothing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIndex } from '../src/cli/index-command.js';
import { readCollectionFile } from '../src/store/transfer.js';
import { count, search } from '../server/db.js';
import { loadCollection } from '../server/load.js';
import { type LocalDatabase, startPglite } from '../server/pglite.js';
import { FIXTURES } from './helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'rr-load-'));
const WORDS = 'apple banana cherry river mountain ocean protein cell gene market stock bond'.split(' ');
const docs = Array.from({ length: 30 }, (_, i) => ({
  id: `d${i}`,
  text: `${WORDS[(i * 7) % WORDS.length]} ${WORDS[(i * 5 + 1) % WORDS.length]} number ${i}`,
  metadata: { lang: ['en', 'de'][i % 2] },
}));

let db: LocalDatabase;
let pool: pg.Pool;
const file = join(dir, 'c.rrc');

beforeAll(async () => {
  const input = join(dir, 'docs.jsonl');
  writeFileSync(input, docs.map((d) => JSON.stringify(d)).join('\n'));
  await runIndex([input, '--model', join(FIXTURES, 'tiny-bert'), '--out', file, '--threads', '1'], {
    err: { write: () => true },
  });
  db = await startPglite();
  pool = new pg.Pool({ connectionString: db.url, max: 1 });
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await db?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('server/load.ts', () => {
  it('refuses a file whose metadata breaks FILTERABLE, writing nothing', async () => {
    await expect(loadCollection(file, db.url, { FILTERABLE: 'lang:number' })).rejects.toThrow(
      /metadata\.lang of document "d0".*must be a number/,
    );
    const r = await pool.query(`SELECT to_regclass('documents') IS NOT NULL AS t`);
    if (r.rows[0].t) expect(await count(pool)).toBe(0);
  });

  it('loads every document and vector of the CLI file; the service SQL finds them', async () => {
    expect(await loadCollection(file, db.url, { FILTERABLE: 'lang:string' })).toBe(docs.length);
    expect(await count(pool)).toBe(docs.length);
    const c = readCollectionFile(new Uint8Array(readFileSync(file)));
    const dim = c.header.dim;
    const i = c.header.docs.findIndex((d) => d.id === 'd7');
    const v = Array.from(c.vectors.subarray(i * dim, (i + 1) * dim));
    const hits = await search(pool, { vector: v, k: 3, exact: true }, { efSearch: 40 });
    expect(hits[0].id).toBe('d7');
    const de = await search(
      pool,
      { vector: v, k: 30, exact: true, filter: { op: 'field', field: 'lang', values: ['de'] } },
      { efSearch: 40 },
    );
    expect(de.map((h) => h.id).sort()).toEqual(
      docs
        .filter((d) => d.metadata.lang === 'de')
        .map((d) => d.id)
        .sort(),
    );
    // Loading again replaces, never duplicates.
    expect(await loadCollection(file, db.url)).toBe(docs.length);
    expect(await count(pool)).toBe(docs.length);
  });
});
