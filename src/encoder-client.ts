/**
 * The main thread's handle on the encoder worker: comlink's Remote<EncoderApi>, with
 * callbacks proxied and typed errors restored.
 */
import { proxy, releaseProxy, wrap, type Remote } from 'comlink';
import type { EmbedOptions, EmbedProgress, EncoderApi, ExpertInfo, LoadOptions, LoadProgress, ModelInfo, ModelSpec, EncoderStats } from './boundary/encoder-api.js';
import { installErrorTransfer } from './boundary/error-transfer.js';

installErrorTransfer();

export function startEncoderWorker(): Worker {
  return new Worker(new URL('../workers/encoder.worker.ts', import.meta.url), { type: 'module', name: 'router-retriever-encoder' });
}

/**
 * EncoderApi over a worker. Progress callbacks are plain functions here; they are
 * wrapped with comlink.proxy before crossing.
 */
export class EncoderClient implements EncoderApi {
  private readonly remote: Remote<EncoderApi>;

  constructor(private readonly worker: Worker = startEncoderWorker()) {
    this.remote = wrap<EncoderApi>(worker);
  }

  load(model: ModelSpec, options?: LoadOptions, onProgress?: (p: LoadProgress) => void): Promise<ModelInfo> {
    return this.remote.load(model, options, onProgress && proxy(onProgress));
  }
  addExpert(name: string, adapter: ModelSpec, onProgress?: (p: LoadProgress) => void): Promise<ExpertInfo> {
    return this.remote.addExpert(name, adapter, onProgress && proxy(onProgress));
  }
  removeExpert(name: string): Promise<void> {
    return this.remote.removeExpert(name);
  }
  listExperts(): Promise<ExpertInfo[]> {
    return this.remote.listExperts();
  }
  embedDocuments(texts: string[], options?: EmbedOptions, onProgress?: (p: EmbedProgress) => void): Promise<Float32Array> {
    return this.remote.embedDocuments(texts, options, onProgress && proxy(onProgress));
  }
  embedQueries(texts: string[], expert: string | null, options?: EmbedOptions, onProgress?: (p: EmbedProgress) => void): Promise<Float32Array> {
    return this.remote.embedQueries(texts, expert, options, onProgress && proxy(onProgress));
  }
  embedQuery(text: string, expert: string | null): Promise<Float32Array> {
    return this.remote.embedQuery(text, expert);
  }
  cancel(jobId: string): Promise<void> {
    return this.remote.cancel(jobId);
  }
  info(): Promise<ModelInfo> {
    return this.remote.info();
  }
  stats(): Promise<EncoderStats> {
    return this.remote.stats();
  }
  async dispose(): Promise<void> {
    try {
      await this.remote.dispose();
    } finally {
      this.remote[releaseProxy]();
      this.worker.terminate();
    }
  }
}
