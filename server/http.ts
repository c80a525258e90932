/**
 * The reference search service's HTTP side (node:http, no framework):
 *
 *   GET  /health             { dim, count }
 *   POST /search             { vector, k?, filter?, exact? } -> { hits: [{ id, score }] }
 *   POST /documents          { docs: [{ id, vector, text?, title?, metadata? }] } -> { upserted }   (API key)
 *   POST /documents/delete   { ids } -> { deleted }                                                   (API key)
 *   POST /documents/get      { ids } -> { docs: [{ id, text, title?, metadata? }] }
 *
 * Writes need `Authorization: Bearer <key>`. CORS answers the configured origin only. A body is
 * read up to `maxBodyBytes` and refused (413) past it; every error is JSON { error, details }.
 */
import { timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type pg from 'pg';
import * as db from './db.js';
import { HttpError, type Limits, parseDelete, parseSearch, parseUpsert } from './requests.js';

export interface ServiceOptions extends Limits {
  pool: pg.Pool;
  /** The key writes must carry; undefined refuses every write. */
  apiKey?: string;
  /** The origin allowed by CORS (e.g. https://app.example); undefined: no CORS headers. */
  corsOrigin?: string;
  maxBodyBytes: number;
  efSearch: number;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** The body as JSON, read up to `limit` bytes (413 past it, before or while reading). */
function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (b: Buffer) => {
      size += b.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        reject(tooLarge(limit));
      } else parts.push(b);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size > limit) return;
      const text = Buffer.concat(parts).toString('utf8');
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(new HttpError(400, `The body is not valid JSON: ${(e as Error).message}`));
      }
    });
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `The body is larger than this service accepts (${limit} bytes).`, { maxBodyBytes: limit });
}

function authorised(req: IncomingMessage, key: string | undefined): boolean {
  if (!key) return false;
  const h = req.headers.authorization ?? '';
  const given = Buffer.from(h.startsWith('Bearer ') ? h.slice(7) : '');
  const want = Buffer.from(key);
  return given.length === want.length && timingSafeEqual(given, want);
}

export function createService(o: ServiceOptions): Server {
  const tuning = { efSearch: o.efSearch };
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://service').pathname;
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'GET' && path === '/health') {
      send(res, 200, { dim: o.dim, count: await db.count(o.pool), filterable: o.filterable, maxK: o.maxK });
      return;
    }
    const write = path === '/documents' || path === '/documents/delete';
    if (path !== '/search' && path !== '/documents/get' && !write)
      throw new HttpError(404, `No route ${req.method} ${path}.`);
    if (req.method !== 'POST') throw new HttpError(405, `${path} takes POST.`);
    if (write && !authorised(req, o.apiKey))
      throw new HttpError(401, 'Writes need the service API key (Authorization: Bearer <key>).');
    const type = req.headers['content-type'] ?? '';
    if (!type.startsWith('application/json')) throw new HttpError(415, 'The body must be application/json.');
    const body = await readJson(req, o.maxBodyBytes);
    if (path === '/search') send(res, 200, { hits: await db.search(o.pool, parseSearch(body, o), tuning) });
    else if (path === '/documents/get') send(res, 200, { docs: await db.getDocs(o.pool, parseDelete(body, o)) });
    else if (path === '/documents') send(res, 200, { upserted: await db.upsert(o.pool, parseUpsert(body, o)) });
    else send(res, 200, { deleted: await db.remove(o.pool, parseDelete(body, o)) });
  };
  return createServer((req, res) => {
    if (o.corsOrigin) res.setHeader('vary', 'Origin');
    if (o.corsOrigin && req.headers.origin === o.corsOrigin) {
      res.setHeader('access-control-allow-origin', o.corsOrigin);
      res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
      res.setHeader('access-control-allow-headers', 'content-type, authorization');
      res.setHeader('access-control-max-age', '600');
    }
    route(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500;
      const message = e instanceof HttpError ? e.message : 'The search service failed; see its log.';
      if (status === 500) console.error(e);
      if (res.headersSent) return;
      // A body left unread (refused before or while reading: 401, 413, ...) is discarded as it
      // arrives, never buffered, while the client reads the answer and stops; one still sending
      // after a few seconds is cut off. (Closing at once can reset the connection before the
      // client has read the answer.)
      if (!req.complete)
        res.on('finish', () => {
          const cut = setTimeout(() => req.socket.destroy(), 3000);
          cut.unref();
          // Once the body has ended the connection is whole again (keep-alive goes on).
          req.once('end', () => clearTimeout(cut));
          req.resume();
        });
      send(res, status, { error: message, details: e instanceof HttpError ? e.details : {} });
    });
  });
}
