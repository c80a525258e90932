// A plain Node script (no DOM, no bundler): the Node entry of the installed tarball embeds texts
// with the fixture model read from disk. Prints { backend, dim, base } as JSON.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EncoderEngine, isRouterRetrieverError } from 'router-retriever-web/node';

const [modelDir, ...texts] = process.argv.slice(2);
const files = {};
for (const name of readdirSync(modelDir)) {
  if (name !== 'pytorch_model.bin') files[name] = new Uint8Array(readFileSync(join(modelDir, name)));
}
const engine = new EncoderEngine();
try {
  // fp32: the test compares with the fp32 PyTorch goldens (the default dtype, auto, is q8 on WASM).
  const info = await engine.load({ id: modelDir, files }, { device: 'wasm', dtype: 'fp32' });
  const base = await engine.embedDocuments(texts);
  console.log(
    JSON.stringify({
      backend: info.backend,
      dim: info.dim,
      base: [...base],
      typedErrors: typeof isRouterRetrieverError,
    }),
  );
} finally {
  await engine.dispose();
}
