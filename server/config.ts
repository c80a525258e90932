/**
 * The service's configuration, from environment variables (server/README section of the
 * project README): where PostgreSQL is, the vector dimension, the write key, the CORS origin,
 * the filterable fields and the limits.
 */
import { checkFilterable, type FieldSchema } from '../src/filter/fields.js';

export interface ServiceConfig {
  databaseUrl: string;
  port: number;
  host: string;
  dim: number;
  apiKey?: string;
  corsOrigin?: string;
  filterable: FieldSchema;
  maxK: number;
  maxBatch: number;
  maxBodyBytes: number;
  efSearch: number;
  poolSize: number;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`${name} must be an integer ${min}..${max}, got "${raw}".`);
  return n;
}

/** FILTERABLE: "lang:string,year:number" (a name alone is type any). */
export function filterableFromEnv(env: NodeJS.ProcessEnv = process.env): FieldSchema {
  return filterable(env.FILTERABLE);
}

function filterable(raw: string | undefined): FieldSchema {
  if (!raw) return {};
  const entries = raw.split(',').map((e) => e.trim().split(':'));
  return checkFilterable(Object.fromEntries(entries.map(([n, t]) => [n, t ?? 'any'])), 'FILTERABLE');
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is not set (postgres://user:password@host:5432/database).');
  return {
    databaseUrl,
    port: int(env, 'PORT', 8787, 0, 65535),
    host: env.HOST || '127.0.0.1',
    dim: int(env, 'DIM', 768, 1, 16000),
    apiKey: env.API_KEY || undefined,
    corsOrigin: env.CORS_ORIGIN || undefined,
    filterable: filterable(env.FILTERABLE),
    maxK: int(env, 'MAX_K', 1000, 1, 1000),
    maxBatch: int(env, 'MAX_BATCH', 1000, 1, 100_000),
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    // 400: on SciFact (5,183 x 256) recall@10 0.985 at 100 and 1.000 at 400; at 100k x 768, 0.953 and
    // 0.990 with no slower queries (bench/results/remote-scifact.json, remote-index-100000.json).
    efSearch: int(env, 'EF_SEARCH', 400, 1, 1000),
    poolSize: int(env, 'POOL_SIZE', 10, 1, 1000),
  };
}
