/**
 * Loads a collection file (what `router-retriever index --out FILE` writes) into the service's
 * PostgreSQL: its documents, metadata and vectors, upserted in one transaction (a failure leaves
 * the table as it was), with the checks the service applies to a write.
 *
 *   npx tsx server/load.ts <collection file> --to postgres://user:password@host:5432/db
 *
 * FILTERABLE (as for the service) checks declared fields' types. The table is created when
 * missing (vector(dim) of the file) and a table of another dimension is refused.
 */
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { readCollectionFile } from '../src/store/transfer.js';
import { filterableFromEnv } from './config.js';
import { ensureSchema, upsert } from './db.js';
import { parseUpsert } from './requests.js';

export async function loadCollection(file: string, databaseUrl: string, env = process.env): Promise<number> {
  const c = readCollectionFile(new Uint8Array(await readFile(file)));
  const { dim, docs } = c.header;
  const rows = docs.map((d, i) => ({ ...d, vector: Array.from(c.vectors.subarray(i * dim, (i + 1) * dim)) }));
  const checked = parseUpsert(
    { docs: rows },
    { dim, maxK: 1, maxBatch: Number.MAX_SAFE_INTEGER, filterable: filterableFromEnv(env) },
  );
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    await ensureSchema(pool, dim);
    return await upsert(pool, checked);
  } finally {
    await pool.end();
  }
}

if (process.argv[1] && /[\\/]server[\\/]load\.ts$/.test(process.argv[1])) {
  const [file] = process.argv.slice(2);
  const at = process.argv.indexOf('--to');
  const to = at > 0 ? process.argv[at + 1] : undefined;
  if (!file || !to?.startsWith('postgres')) {
    console.error('usage: npx tsx server/load.ts <collection file> --to postgres://user:password@host:5432/db');
    process.exit(2);
  }
  loadCollection(file, to).then(
    (n) => console.log(`loaded ${n} documents from ${file}`),
    (e: unknown) => {
      console.error(`server/load.ts: ${(e as Error).message}\nNothing was written.`);
      process.exit(1);
    },
  );
}
