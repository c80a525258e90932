/**
 * The whole reference stack in one process, for tests and benches: PGlite + pgvector on a free
 * port (./pglite.ts), a `pg` pool to it, the schema, and the HTTP service on another free port.
 * Production runs ./main.ts against a PostgreSQL server instead; the code between is the same.
 */
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { ensureSchema } from './db.js';
import { createService, type ServiceOptions } from './http.js';
import { startPglite } from './pglite.js';

export interface RunningService {
  /** http://127.0.0.1:<port> */
  url: string;
  /** postgres://... of the database behind it. */
  databaseUrl: string;
  pool: pg.Pool;
  stop(): Promise<void>;
}

export type StartOptions = Partial<Omit<ServiceOptions, 'pool'>> & { dim: number };

export async function startLocalService(options: StartOptions): Promise<RunningService> {
  const local = await startPglite();
  const pool = new pg.Pool({ connectionString: local.url, max: 2 });
  await ensureSchema(pool, options.dim);
  const server = createService({
    maxK: 1000,
    maxBatch: 1000,
    maxBodyBytes: 16 * 1024 * 1024,
    efSearch: 100,
    filterable: {},
    ...options,
    pool,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    databaseUrl: local.url,
    pool,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
      await local.stop();
    },
  };
}
