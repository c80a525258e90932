// A third-party app: it imports the SDK by its package name, as an npm user would. The e2e test
// builds dist/lib, then this app with Vite, and serves the result.
import { EncoderClient } from 'router-retriever-web';

window.embed = async (texts) => {
  const encoder = new EncoderClient();
  try {
    const info = await encoder.load('/tiny-bert/', { device: 'wasm', cache: false });
    await encoder.addExpert('expert-a', '/adapters/expert-a/');
    const base = await encoder.embedDocuments(texts);
    const expert = await encoder.embedQueries(texts, 'expert-a');
    return { backend: info.backend, base: [...base], expert: [...expert] };
  } finally {
    await encoder.dispose();
  }
};
window.appReady = true;
