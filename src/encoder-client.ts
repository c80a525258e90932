/**
 * The main thread's handle on the encoder worker: comlink's Remote<EncoderApi> over the worker,
 * with the boundary's transfer handlers (src/boundary/transfer.ts): progress callbacks are
 * proxied, Float32Array results are moved, errors keep their code.
 */
import { releaseProxy, wrap, type Remote } from 'comlink';
import type { EncoderApi } from './boundary/encoder-api.js';
import { installTransferHandlers } from './boundary/transfer.js';

export function startEncoderWorker(): Worker {
  return new Worker(new URL('../workers/encoder.worker.ts', import.meta.url), {
    type: 'module',
    name: 'router-retriever-encoder',
  });
}

/** EncoderApi over a worker: comlink's Remote, whose dispose() also terminates the worker. */
export type EncoderClient = Remote<EncoderApi>;

/**
 * `new EncoderClient(worker?)`: the Remote<EncoderApi> of a worker (default: a new encoder
 * worker). `dispose()` releases the model in the worker, then the proxy, then terminates the
 * worker. A constructor function rather than a class, since what it builds is comlink's proxy.
 */
export const EncoderClient = function EncoderClient(worker?: Worker): EncoderClient {
  return connectEncoder(worker ?? startEncoderWorker());
} as unknown as new (
  worker?: Worker,
) => EncoderClient;

/** The Remote<EncoderApi> of an encoder worker, whose dispose() also terminates that worker. */
export function connectEncoder(worker: Worker): EncoderClient {
  // Installed here, not at import: importing the SDK changes nothing in the page's comlink.
  installTransferHandlers();
  const remote = wrap<EncoderApi>(worker);
  const dispose = async (): Promise<void> => {
    try {
      await remote.dispose();
    } finally {
      remote[releaseProxy]();
      worker.terminate();
    }
  };
  // Setting a property on a comlink proxy would post it to the worker, so dispose is answered here.
  return new Proxy(remote, {
    get: (target, prop, receiver) => (prop === 'dispose' ? dispose : Reflect.get(target, prop, receiver)),
  }) as EncoderClient;
}
