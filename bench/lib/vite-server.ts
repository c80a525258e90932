/** Starts the repo's vite dev server (vite.config.ts) on a free port, for benches driving Chromium. */
import { resolve } from 'node:path';
import { createServer, type InlineConfig, type ViteDevServer } from 'vite';

export interface RunningServer {
  server: ViteDevServer;
  origin: string;
  close(): Promise<void>;
}

export async function startVite(extra: InlineConfig = {}): Promise<RunningServer> {
  const root = resolve(import.meta.dirname, '..', '..');
  const server = await createServer({
    configFile: resolve(root, 'vite.config.ts'),
    root,
    logLevel: 'warn',
    clearScreen: false,
    ...extra,
    server: {
      host: '127.0.0.1',
      port: 0,
      strictPort: false,
      hmr: false,
      watch: { ignored: ['**/.cache/**', '**/node_modules/**', '**/test-results/**'] },
      ...extra.server,
    },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('vite did not report a TCP address');
  const origin = `http://127.0.0.1:${address.port}`;
  return { server, origin, close: () => server.close() };
}
