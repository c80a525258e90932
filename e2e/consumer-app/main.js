// A third-party app: it imports the SDK by its package names, as an npm user would. The e2e test
// packs the SDK (npm pack), installs the tarball into a copy of this folder, builds it with Vite
// and serves the result.
import { EncoderClient } from 'router-retriever-web';
import { RouterSearchElement } from 'router-retriever-web/widget';

window.widgetDefined = customElements.get('router-search') === RouterSearchElement;

window.embed = async (texts) => {
  const encoder = new EncoderClient();
  try {
    // fp32: the test compares with the fp32 PyTorch goldens (the default dtype, auto, is q8 on WASM).
    const info = await encoder.load('/tiny-bert/', { device: 'wasm', dtype: 'fp32', cache: false });
    await encoder.addExpert('expert-a', '/adapters/expert-a/');
    const base = await encoder.embedDocuments(texts);
    const expert = await encoder.embedQueries(texts, 'expert-a');
    return { backend: info.backend, base: [...base], expert: [...expert] };
  } finally {
    await encoder.dispose();
  }
};
window.appReady = true;
