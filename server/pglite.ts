/**
 * PGlite (PostgreSQL in WASM) with pgvector, served over the PostgreSQL wire protocol on a free
 * local port by pglite-socket: the tests and `--pglite` talk to it through `pg` exactly as to a
 * PostgreSQL server.
 */
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface LocalDatabase {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  stop(): Promise<void>;
}

export async function startPglite(): Promise<LocalDatabase> {
  const db = await PGlite.create({ extensions: { vector } });
  // One PGlite session, several wire connections: pglite-socket queues their queries and keeps a
  // transaction's statements together (its default is one connection).
  const socket = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 8 });
  await socket.start();
  const url = `postgres://postgres@${socket.getServerConn()}/postgres`;
  return {
    url,
    async stop() {
      await socket.stop();
      await db.close();
    },
  };
}
