/**
 * The encoder Web Worker: EncoderEngine behind comlink. Float32Array results are
 * transferred to the caller, not copied.
 */
import { expose, transfer } from 'comlink';
import type { EmbedOptions, EmbedProgress, EncoderApi } from '../src/boundary/encoder-api.js';
import { EncoderEngine } from './engine/encoder-engine.js';
import { installErrorTransfer } from '../src/boundary/error-transfer.js';

installErrorTransfer();

class WorkerEncoder extends EncoderEngine implements EncoderApi {
  override async embedDocuments(texts: string[], options?: EmbedOptions, onProgress?: (p: EmbedProgress) => void): Promise<Float32Array> {
    const out = await super.embedDocuments(texts, options, onProgress);
    return transfer(out, [out.buffer]);
  }

  override async embedQueries(texts: string[], expert: string | null, options?: EmbedOptions, onProgress?: (p: EmbedProgress) => void): Promise<Float32Array> {
    const out = await super.embedQueries(texts, expert, options, onProgress);
    return transfer(out, [out.buffer]);
  }

  override async embedQuery(text: string, expert: string | null): Promise<Float32Array> {
    const out = await super.embedQuery(text, expert);
    return transfer(out, [out.buffer]);
  }
}

expose(new WorkerEncoder());
