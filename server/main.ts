/**
 * Starts the reference search service: `npx tsx server/main.ts` with DATABASE_URL pointing at a
 * PostgreSQL with pgvector (see the README), or `--pglite` for an in-memory PGlite database
 * served over the wire protocol on a free port (development and tests).
 */
import pg from 'pg';
import { configFromEnv } from './config.js';
import { ensureSchema } from './db.js';
import { createService } from './http.js';
import { startPglite } from './pglite.js';

const env = { ...process.env };
const local = process.argv.includes('--pglite') ? await startPglite() : undefined;
if (local) env.DATABASE_URL = local.url;
const cfg = configFromEnv(env);
const pool = new pg.Pool({ connectionString: cfg.databaseUrl, max: local ? 1 : cfg.poolSize });
await ensureSchema(pool, cfg.dim);
const server = createService({ ...cfg, pool });
server.listen(cfg.port, cfg.host, () => {
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : cfg.port;
  console.log(`search service on http://${cfg.host}:${port} (dim ${cfg.dim}${local ? ', PGlite' : ''})`);
  if (!cfg.apiKey) console.log('API_KEY is not set: every write is refused.');
});
const stop = async () => {
  server.close();
  await pool.end();
  await local?.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
