/**
 * The shared server index on a real collection: a BEIR corpus embedded by the SDK's base encoder
 * (the eval harness's embeddings and cache, documents truncated to 256 tokens) is loaded into the
 * reference service (server/, PostgreSQL + pgvector; PGlite here), and each test query's routed-off
 * base embedding is searched three ways: exact in memory, remote HNSW through RemoteVectorIndex,
 * and remote with index scans off. Prints recall@10 against the exact search and whether the exact
 * remote ranking is identical.
 *
 *   npx tsx bench/remote-beir.ts [--data ../shared/data/beir/scifact] [--cache-dir .cache/embeddings] [--ef 100,400] [--json]
 *
 * --json writes bench/results/remote-<dataset>.json.
 */
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { basename, join, resolve } from 'node:path';
import pg from 'pg';
import { docText, qrelsWithQueries } from '../src/eval/beir.js';
import { exactTopK } from '../src/eval/dense.js';
import { RemoteVectorIndex } from '../src/retriever/remote-index.js';
import { ensureSchema } from '../server/db.js';
import { createService } from '../server/http.js';
import { startPglite } from '../server/pglite.js';
import { loadBeirDir } from '../tools/eval/beir-node.js';
import { EmbeddingCache } from '../tools/eval/embedding-cache.js';
import { createNodeEncoder } from '../tools/eval/encoder-node.js';
import { parseCli } from '../tools/lib/args.js';
import { formatTable } from './lib/table.js';

const ROOT = resolve(import.meta.dirname, '..');
const K = 10;
const { values: v } = parseCli(
  process.argv.slice(2),
  { data: { type: 'string' }, 'cache-dir': { type: 'string' }, ef: { type: 'string' }, json: { type: 'boolean' } },
  'the header of bench/remote-beir.ts',
);
const dir = resolve(v.data ?? join(ROOT, '..', 'shared', 'data', 'beir', 'scifact'));
const ds = await loadBeirDir(dir);
const enc = await createNodeEncoder({
  model: join(ROOT, 'public', 'models', 'contriever-mini'),
  experts: [],
  docMaxLength: 256,
  runtime: 'node',
  threads: 2,
  log: (l) => console.error(l),
});
const ids = ds.corpus.map((d) => d.id);
const cache = new EmbeddingCache(resolve(v['cache-dir'] ?? join(ROOT, '.cache', 'embeddings')));
const docs = await cache.getOrEmbed(enc.backend, ds.name, ids, ds.corpus.map(docText), 512, (done, total) =>
  console.error(`  embedded ${done}/${total} documents`),
);
const dim = enc.backend.dim;
const { qrels } = qrelsWithQueries(ds.qrels.get('test')!, ds.queries);
const qids = [...qrels.keys()];
const qv = await enc.backend.embedQueries(
  qids.map((q) => ds.queries.get(q)!.text),
  null,
);
await enc.dispose();
const query = (i: number) => qv.subarray(i * dim, (i + 1) * dim);
const truth = qids.map((_, i) => exactTopK(docs, dim, ids, query(i), K).ids);

const pglite = await startPglite();
const pool = new pg.Pool({ connectionString: pglite.url, max: 1 });
await ensureSchema(pool, dim);
await pool.query('DROP INDEX IF EXISTS documents_embedding_hnsw');
await pool.query('TRUNCATE documents');
for (let s = 0; s < ids.length; s += 1000) {
  const part = ids.slice(s, s + 1000);
  const vecs = part.map((_, i) => `[${docs.subarray((s + i) * dim, (s + i + 1) * dim).join(',')}]`);
  await pool.query('INSERT INTO documents (id, embedding) SELECT * FROM unnest($1::text[], $2::vector[])', [
    part,
    vecs,
  ]);
}
await pool.query('CREATE INDEX documents_embedding_hnsw ON documents USING hnsw (embedding vector_ip_ops)');
const efs = (v.ef ?? '100,400').split(',').map(Number);
const rows: { index: string; queries: number; recall: number | null; identical: number | null }[] = [];
const servers = [];
for (const efSearch of efs) {
  const server = createService({
    pool,
    dim,
    maxK: 1000,
    maxBatch: 1000,
    maxBodyBytes: 1 << 24,
    efSearch,
    filterable: {},
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const remote = new RemoteVectorIndex({ url });
  let hit = 0;
  let identical = 0;
  for (let i = 0; i < qids.length; i++) {
    const h = (await remote.search(query(i), K)).map((x) => x.id);
    hit += h.filter((id) => truth[i].includes(id)).length;
    if (efSearch !== efs[0]) continue;
    const res = await fetch(`${url}/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ vector: Array.from(query(i)), k: K, exact: true }),
    });
    const exact = ((await res.json()) as { hits: { id: string }[] }).hits.map((x) => x.id);
    if (exact.join() === truth[i].join()) identical++;
  }
  rows.push({
    index: `remote HNSW (ef_search ${efSearch})`,
    queries: qids.length,
    recall: hit / (qids.length * K),
    identical: null,
  });
  if (efSearch === efs[0])
    rows.push({
      index: 'remote exact (index scans off)',
      queries: qids.length,
      recall: null,
      identical: identical / qids.length,
    });
}
console.log(
  formatTable(rows, [
    { header: `${ds.name}, ${ids.length} documents x ${dim}`, value: (r) => r.index },
    { header: 'queries', value: (r) => r.queries, digits: 0 },
    { header: 'recall@10 vs exact', value: (r) => r.recall, digits: 3 },
    { header: 'top 10 identical', value: (r) => r.identical, digits: 3 },
  ]),
);
if (v.json) {
  const out = join(ROOT, 'bench', 'results', `remote-${basename(dir)}.json`);
  writeFileSync(out, `${JSON.stringify({ dataset: ds.name, documents: ids.length, dim, k: K, rows }, null, 2)}\n`);
  console.log(`wrote ${out}`);
}
for (const server of servers) server.close();
await pool.end();
await pglite.stop();
