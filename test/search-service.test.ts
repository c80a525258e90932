/**
 * The reference search service (server/) end to end over real parts: PGlite with pgvector served
 * over the PostgreSQL wire protocol, `pg`, the HTTP service, all on free local ports. A synthetic
 * collection of clustered unit vectors is searched through the HNSW index and exactly (index off)
 * and compared with brute force computed here.
 */
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningService, startLocalService } from '../server/service.js';

const DIM = 48;
const N = 3000;
const KEY = 'test-write-key';
const ORIGIN = 'https://app.example';

/** Deterministic PRNG (mulberry32) and a normal sample from it. */
function rng(seed: number) {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  return { u, normal };
}

/** A unit vector in float32 precision (the service stores float32). */
function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => Math.fround(x / n));
}

const r = rng(16);
const centers = Array.from({ length: 24 }, () => unit(Array.from({ length: DIM }, r.normal)));
const near = (c: number[], spread: number) => unit(c.map((x) => x + spread * r.normal()));
const LANGS = ['en', 'fr', 'de', 'es'];
const docs = Array.from({ length: N }, (_, i) => ({
  id: `d${i}`,
  text: `document ${i}`,
  vector: near(centers[i % centers.length], 0.35),
  metadata: { lang: LANGS[i % 4], year: 1990 + (i % 30), rare: i % 100 === 7 },
}));
const queries = Array.from({ length: 60 }, (_, i) => near(centers[(i * 7) % centers.length], 0.45));

type Meta = (typeof docs)[number]['metadata'];
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
function bruteForce(q: number[], k: number, keep: (m: Meta) => boolean = () => true): string[] {
  return docs
    .filter((d) => keep(d.metadata))
    .map((d) => ({ id: d.id, s: dot(q, d.vector) }))
    .sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : 1))
    .slice(0, k)
    .map((h) => h.id);
}

let svc: RunningService;

async function call(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(svc.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const write = (path: string, body: unknown) => call(path, body, { authorization: `Bearer ${KEY}` });
const search = async (body: Record<string, unknown>) => {
  const res = await call('/search', body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return (res.body.hits as { id: string; score: number }[]).map((h) => h.id);
};
const count = async () => ((await (await fetch(`${svc.url}/health`)).json()) as { count: number }).count;

beforeAll(async () => {
  svc = await startLocalService({
    dim: DIM,
    apiKey: KEY,
    corsOrigin: ORIGIN,
    filterable: { lang: 'string', year: 'number', rare: 'boolean' },
    maxBodyBytes: 2 * 1024 * 1024,
    maxK: 100,
    maxBatch: 1000,
  });
  for (let i = 0; i < N; i += 500) {
    const res = await write('/documents', { docs: docs.slice(i, i + 500) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
}, 120_000);

afterAll(async () => {
  await svc?.stop();
});

describe('search service on PGlite + pgvector', () => {
  it('holds the collection, and HNSW results match brute force (recall@10 >= 0.99); exact mode equals it', async () => {
    expect(await count()).toBe(N);
    let found = 0;
    for (const q of queries) {
      const truth = bruteForce(q, 10);
      const hnsw = await search({ vector: q, k: 10 });
      found += hnsw.filter((id) => truth.includes(id)).length;
      expect(await search({ vector: q, k: 10, exact: true })).toEqual(truth);
    }
    if (process.env.SHOW_RECALL) console.log('recall@10', found / (queries.length * 10));
    expect(found / (queries.length * 10)).toBeGreaterThanOrEqual(0.99);
  });

  it('searches through the HNSW index, and with index scans off by a sequential scan', async () => {
    const c = await svc.pool.connect();
    try {
      const plan = async () =>
        (
          await c.query('EXPLAIN SELECT id FROM documents ORDER BY embedding <#> $1::vector LIMIT 10', [
            `[${queries[0]}]`,
          ])
        ).rows
          .map((r) => r['QUERY PLAN'])
          .join('\n');
      expect(await plan()).toMatch(/Index Scan using documents_embedding_hnsw/);
      await c.query('BEGIN');
      await c.query(`SELECT set_config('enable_indexscan', 'off', true)`);
      expect(await plan()).not.toMatch(/documents_embedding_hnsw/);
      await c.query('ROLLBACK');
    } finally {
      c.release();
    }
  });

  it('returns dot products as scores', async () => {
    const res = await call('/search', { vector: docs[5].vector, k: 3, exact: true });
    const hits = res.body.hits as { id: string; score: number }[];
    expect(hits[0].id).toBe('d5');
    for (const h of hits) expect(h.score).toBeCloseTo(dot(docs[5].vector, docs[Number(h.id.slice(1))].vector), 5);
  });

  it('filters: the top k among the matching documents, through the index and exactly', async () => {
    const cases: [Record<string, unknown>, (m: Meta) => boolean][] = [
      [{ lang: 'fr' }, (m) => m.lang === 'fr'],
      [
        { lang: { in: ['de', 'es'] }, year: { gte: 2000, lt: 2010 } },
        (m) => ['de', 'es'].includes(m.lang) && m.year >= 2000 && m.year < 2010,
      ],
      [{ or: [{ year: 1990 }, { rare: true }] }, (m) => m.year === 1990 || m.rare],
      [{ rare: true }, (m) => m.rare],
      [{ lang: { eq: 'en', in: ['fr'] } }, () => false],
    ];
    for (const [filter, keep] of cases) {
      let found = 0;
      let want = 0;
      for (const q of queries.slice(0, 20)) {
        const truth = bruteForce(q, 10, keep);
        expect(await search({ vector: q, k: 10, filter, exact: true })).toEqual(truth);
        const hnsw = await search({ vector: q, k: 10, filter });
        expect(hnsw.length).toBe(truth.length);
        found += hnsw.filter((id) => truth.includes(id)).length;
        want += truth.length;
      }
      if (process.env.SHOW_RECALL) console.log('filtered recall@10', JSON.stringify(filter), found / want);
      if (want) expect(found / want, JSON.stringify(filter)).toBeGreaterThanOrEqual(0.99);
    }
  });

  it('refuses writes without the key, or with a wrong one, and changes nothing', async () => {
    const doc = { id: 'intruder', vector: docs[0].vector };
    const variants: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { authorization: KEY }];
    for (const headers of variants) {
      expect((await call('/documents', { docs: [doc] }, headers)).status).toBe(401);
      expect((await call('/documents/delete', { ids: ['d0'] }, headers)).status).toBe(401);
    }
    expect(await count()).toBe(N);
    expect((await search({ vector: docs[0].vector, k: 1, exact: true }))[0]).toBe('d0');
  });
});

/** POSTs `total` bytes of JSON-looking filler, declared up front or chunked; resolves with the status. */
function postLarge(path: string, total: number, declare: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(svc.url + path);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      authorization: `Bearer ${KEY}`,
    };
    if (declare) headers['content-length'] = total;
    const req = request({ host: url.hostname, port: url.port, path, method: 'POST', headers }, (res) => {
      let body = '';
      res.on('data', (b) => (body += b));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
        req.destroy();
      });
    });
    // The service closes the connection after refusing: writing on may fail, the answer has come.
    req.on('error', (e) => (answered ? undefined : reject(e)));
    let answered = false;
    req.on('response', () => (answered = true));
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (!answered && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    req.write('{"docs": [');
    sent += 10;
    pump();
  });
}

describe('search service: bad input is a 4xx that changes nothing', () => {
  const probe = docs[42];
  async function unchanged() {
    expect(await count()).toBe(N);
    expect((await search({ vector: probe.vector, k: 1, exact: true }))[0]).toBe(probe.id);
  }

  it('malformed JSON, a wrong dimension, NaN, a huge k, an unknown filter field: 400 with a message', async () => {
    const bad: [string, unknown, RegExp][] = [
      ['/search', '{"vector": [1, 2', /not valid JSON/],
      ['/search', { vector: [1, 2, 3], k: 10 }, /3 dimensions; this index holds 48/],
      ['/search', `{"vector": [${Array(DIM).fill('NaN').join(',')}]}`, /not valid JSON/],
      ['/search', { vector: probe.vector.map((x, i) => (i === 3 ? 'NaN' : x)) }, /vector\[3\] must be a finite number/],
      ['/search', { vector: probe.vector, k: 1e9 }, /k must be an integer from 1 to 100/],
      ['/search', { vector: probe.vector, k: 2.5 }, /k must be an integer/],
      ['/search', { vector: probe.vector, filter: { colour: 'red' } }, /"colour" is not a filterable field/],
      ['/search', { vector: probe.vector, filter: { year: 'old' } }, /"year" is a number field/],
      ['/search', { vector: probe.vector, nearest: true }, /Unknown property "nearest"/],
      ['/search', [1, 2], /must be a JSON object/],
    ];
    for (const [path, body, message] of bad) {
      const res = await call(path, body);
      expect(res.status, String(message)).toBe(400);
      expect(res.body.error).toMatch(message);
    }
    await unchanged();
  });

  it('a write batch with one bad document writes none of it', async () => {
    const good = { id: probe.id, vector: docs[0].vector, text: 'replaced' };
    const fresh = { id: 'new-doc', vector: docs[1].vector };
    const bad: [unknown, RegExp][] = [
      [{ id: 'x', vector: probe.vector.slice(1) }, /docs\[2\]\.vector has 47 dimensions/],
      [
        { id: 'x', vector: probe.vector, metadata: { year: '1999' } },
        /metadata\.year of document "x".*must be a number/,
      ],
      [{ id: 'x', vector: probe.vector, text: 'a\u0000b' }, /NUL character/],
      [{ id: '', vector: probe.vector }, /docs\[2\]\.id must be a non-empty string/],
      [{ ...fresh }, /"new-doc" appears twice/],
    ];
    for (const [doc, message] of bad) {
      const res = await write('/documents', { docs: [good, fresh, doc] });
      expect(res.status, String(message)).toBe(400);
      expect(res.body.error).toMatch(message);
    }
    expect((await write('/documents/delete', { ids: ['d1', 7] })).status).toBe(400);
    await unchanged();
    expect(await search({ vector: docs[1].vector, k: 1, exact: true })).toEqual(['d1']);
  });

  it('a body over the limit is a 413, declared (100 MB) or streamed', async () => {
    const declared = await postLarge('/documents', 100 * 1024 * 1024, true);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body).error).toMatch(/larger than this service accepts/);
    const streamed = await postLarge('/documents', 8 * 1024 * 1024, false);
    expect(streamed.status).toBe(413);
    await unchanged();
  });
});

describe('search service: connections', () => {
  it('a refused write leaves its keep-alive connection usable for the next request', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const url = new URL(svc.url);
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; socket: unknown }>((resolve, reject) => {
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path,
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', ...headers },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, socket: req.socket }));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify(body));
      });
    const refused = await post('/documents', { docs: [{ id: 'x', vector: docs[0].vector }] });
    expect(refused.status).toBe(401);
    // Past the service's cut-off for bodies still arriving: this one had ended, so nothing is cut.
    await new Promise((r) => setTimeout(r, 3500));
    const next = await post('/search', { vector: docs[3].vector, k: 1, exact: true });
    expect(next.status).toBe(200);
    expect(next.socket).toBe(refused.socket);
    agent.destroy();
  });
});

describe('search service: writes and CORS', () => {
  it('upserts replace a document (vector and metadata), deletes remove it', async () => {
    const v = unit(Array.from({ length: DIM }, (_, i) => (i === 0 ? 1 : 0)));
    expect((await write('/documents', { docs: [{ id: 'd7', vector: v, metadata: { lang: 'xx' } }] })).body).toEqual({
      upserted: 1,
    });
    expect(await count()).toBe(N);
    expect((await search({ vector: v, k: 1, filter: { lang: 'xx' } }))[0]).toBe('d7');
    expect(await search({ vector: v, k: 5, filter: { rare: true } })).not.toContain('d7');
    expect((await write('/documents/delete', { ids: ['d7', 'no-such-doc'] })).body).toEqual({ deleted: 1 });
    expect(await count()).toBe(N - 1);
    expect(await search({ vector: v, k: 5, filter: { lang: 'xx' } })).toEqual([]);
  });

  it('answers CORS for the configured origin only', async () => {
    const pre = (origin: string) =>
      fetch(`${svc.url}/search`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const ok = await pre(ORIGIN);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const other = await pre('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
