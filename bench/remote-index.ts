/**
 * Dense search latency per query, local against remote: the SDK's in-memory SearchIndex (float32,
 * the WASM kernel in Node) and the reference search service (server/) through RemoteVectorIndex,
 * the client open({ index }) uses, over HTTP to PostgreSQL + pgvector (HNSW, and exact with index
 * scans off). Same 768-d clustered vectors as bench:search (bench/search-core.ts).
 *
 *   npx tsx bench/remote-index.ts [--n 20000] [--queries 30] [--database-url postgres://...] [--no-hnsw] [--ef 100,400] [--build-mem 1GB] [--json]
 *
 * Without --database-url the database is PGlite (PostgreSQL in WASM, one thread) on a free port:
 * its numbers are a floor for the protocol path, not a PostgreSQL server's. The HNSW build runs
 * with maintenance_work_mem = --build-mem (default 1GB): at 100k x 768 with the default 64MB it had
 * not finished after 7 minutes, with 1GB it took 102 s. --no-hnsw measures the exact rows only.
 * --json writes bench/results/remote-index-<n>.json.
 */
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { RemoteVectorIndex } from '../src/retriever/remote-index.js';
import { SearchIndex, type VectorChunk } from '../src/search/index.js';
import { ensureSchema } from '../server/db.js';
import { createService } from '../server/http.js';
import { startPglite } from '../server/pglite.js';
import { DIM, K, row } from './search-core.js';
import { formatTable, quantile } from './lib/table.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const N = Number(arg('n', '20000'));
const QUERIES = Number(arg('queries', '30'));
const databaseUrlArg = arg('database-url', '');
const HNSW = !process.argv.includes('--no-hnsw');
const phase = (what: string) => console.error(`[${(performance.now() / 1000).toFixed(1)} s] ${what}`);

interface Row {
  index: string;
  n: number;
  p50_ms: number;
  p95_ms: number;
  recall_at_10: number;
  build_s?: number;
}

async function timed<T>(qs: Float32Array[], run: (q: Float32Array) => Promise<T>): Promise<{ ms: number[]; out: T[] }> {
  await run(qs[0]); // warm
  const ms: number[] = [];
  const out: T[] = [];
  for (const q of qs) {
    const t = performance.now();
    out.push(await run(q));
    ms.push(performance.now() - t);
  }
  return { ms, out };
}

const recall = (got: { id: string }[][], truth: { id: string }[][]) =>
  got.reduce((s, g, i) => s + g.filter((h) => truth[i].some((t) => t.id === h.id)).length, 0) / (got.length * K);

const chunks: VectorChunk[] = [];
for (let s = 0; s < N; s += 1024) {
  const rows = Math.min(1024, N - s);
  const v = new Float32Array(rows * DIM);
  for (let i = 0; i < rows; i++) row(s + i, v, i * DIM);
  chunks.push({ dim: DIM, vectors: v, ids: Array.from({ length: rows }, (_, i) => `d${s + i}`) });
}
const qs = Array.from({ length: QUERIES }, (_, i) => {
  const q = new Float32Array(DIM);
  row((i * 7919) % N, q);
  for (let j = 0; j < DIM; j++) q[j] += Math.sin(i * 31 + j) * 0.25;
  return q;
});

phase(`${N} rows generated`);
const index = SearchIndex.fromChunks(chunks);
const exactLocal = await timed(qs, (q) => index.searchAsync(q, K));

const pglite = databaseUrlArg ? undefined : await startPglite();
const databaseUrl = databaseUrlArg || pglite!.url;
const pool = new pg.Pool({ connectionString: databaseUrl, max: pglite ? 1 : 4 });
await ensureSchema(pool, DIM);
// Bulk load: without the index, then one HNSW build (faster than N incremental inserts).
await pool.query('DROP INDEX IF EXISTS documents_embedding_hnsw');
await pool.query('TRUNCATE documents');
for (const c of chunks) {
  const rows = c.ids.length;
  const vecs = Array.from({ length: rows }, (_, i) => `[${c.vectors.subarray(i * DIM, (i + 1) * DIM).join(',')}]`);
  await pool.query('INSERT INTO documents (id, embedding) SELECT * FROM unnest($1::text[], $2::vector[])', [
    c.ids,
    vecs,
  ]);
}
phase('rows inserted');
const tb = performance.now();
if (HNSW) {
  // The graph must fit maintenance_work_mem or the build slows down many times (100k x 768: ~350 MB).
  const c = await pool.connect();
  await c.query(`SELECT set_config('maintenance_work_mem', $1, false)`, [arg('build-mem', '1GB')]);
  await c.query('CREATE INDEX documents_embedding_hnsw ON documents USING hnsw (embedding vector_ip_ops)');
  await c.query('RESET maintenance_work_mem');
  c.release();
}
const buildS = (performance.now() - tb) / 1000;
if (HNSW) phase(`HNSW built in ${buildS.toFixed(1)} s`);
const EFS = arg('ef', '100,400').split(',').map(Number);
const servers = EFS.map((efSearch) =>
  createService({ pool, dim: DIM, maxK: 1000, maxBatch: 1000, maxBodyBytes: 1 << 24, efSearch, filterable: {} }),
);
const urls: string[] = [];
for (const server of servers) {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}
const url = urls[0];
const hnsw: { ef: number; t: Awaited<ReturnType<typeof timed<{ id: string }[]>>> }[] = [];
if (HNSW)
  for (const [i, ef] of EFS.entries()) {
    const remote = new RemoteVectorIndex({ url: urls[i] });
    hnsw.push({ ef, t: await timed(qs, (q) => remote.search(q, K)) });
  }
const exactRemote = await timed(qs, async (q) => {
  const res = await fetch(`${url}/search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ vector: Array.from(q), k: K, exact: true }),
  });
  return ((await res.json()) as { hits: { id: string }[] }).hits;
});

const db = pglite ? 'PGlite' : 'PostgreSQL';
const stat = (name: string, t: { ms: number[]; out: { id: string }[][] }, extra: Partial<Row> = {}): Row => ({
  index: name,
  n: N,
  p50_ms: quantile(t.ms, 0.5),
  p95_ms: quantile(t.ms, 0.95),
  recall_at_10: recall(t.out, exactLocal.out),
  ...extra,
});
const rows: Row[] = [
  stat(`local float32 (${index.backend})`, exactLocal),
  ...hnsw.map(({ ef, t }) => stat(`remote ${db} HNSW (ef_search ${ef})`, t, { build_s: buildS })),
  stat(`remote ${db} exact (index off)`, exactRemote),
];
console.log(
  formatTable(rows, [
    { header: 'index', value: (r) => r.index },
    { header: 'n', value: (r) => r.n, digits: 0 },
    { header: 'p50 ms/q', value: (r) => r.p50_ms },
    { header: 'p95 ms/q', value: (r) => r.p95_ms },
    { header: 'recall@10', value: (r) => r.recall_at_10, digits: 3 },
    { header: 'HNSW build s', value: (r) => r.build_s, digits: 1 },
  ]),
);
console.log(`dim ${DIM}, k ${K}, ${QUERIES} queries, load ${loadavg()[0].toFixed(1)}`);
if (process.argv.includes('--json')) {
  const out = join(resolve(import.meta.dirname), 'results', `remote-index-${N}.json`);
  writeFileSync(
    out,
    `${JSON.stringify({ dim: DIM, k: K, queries: QUERIES, database: db, load: loadavg()[0], rows }, null, 2)}\n`,
  );
  console.log(`wrote ${out}`);
}
for (const server of servers) server.close();
await pool.end();
await pglite?.stop();
