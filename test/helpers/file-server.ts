/** A real HTTP server over an in-memory map of files (URL path -> bytes), on a free port: 404 for the rest. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function serveFiles(files: ReadonlyMap<string, Uint8Array>): Promise<{ base: string; close: () => void }> {
  const server = createServer((req, res) => {
    const f = files.get(req.url ?? '');
    if (!f) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': f.byteLength }).end(f);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}
