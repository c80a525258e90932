/**
 * How values cross the encoder worker boundary, installed on both sides (comlink's handler
 * registry is per module instance, so each side registers its own):
 * - errors keep their RouterRetrieverError code and details (./error-transfer.ts);
 * - a function argument (a progress callback) is proxied: it stays on the caller's side and
 *   the worker calls it through a MessagePort;
 * - a Float32Array (an embedding result) is moved, not copied: its buffer is transferred and
 *   the sender's array is detached. A view on part of a larger buffer is first copied into a
 *   buffer of its own, so the rest of that buffer neither crosses nor is detached.
 * Both handlers act on any comlink call made in this page or worker: the SDK's boundary never
 * sends a Float32Array to the worker, but an app that uses comlink itself and passes one will
 * see it moved as well.
 */
import { transferHandlers, type TransferHandler } from 'comlink';
import { installErrorTransfer } from './error-transfer.js';

type Callback = (...args: never[]) => unknown;

const float32Handler: TransferHandler<Float32Array, Float32Array> = {
  canHandle: (v: unknown): v is Float32Array => v instanceof Float32Array,
  serialize: (v) => {
    const own =
      v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength ? v : v.slice();
    return [own, [own.buffer as ArrayBuffer]];
  },
  deserialize: (v) => v,
};

function callbackHandler(): TransferHandler<Callback, MessagePort> {
  // comlink's own proxy handler, applied to plain functions without the caller having to mark them.
  const viaProxy = transferHandlers.get('proxy') as TransferHandler<unknown, MessagePort>;
  return {
    canHandle: (v: unknown): v is Callback => typeof v === 'function',
    serialize: (fn) => viaProxy.serialize(fn),
    deserialize: (port) => viaProxy.deserialize(port) as Callback,
  };
}

export const FLOAT32_HANDLER = 'router-retriever:float32';
export const CALLBACK_HANDLER = 'router-retriever:callback';

/** Registers the boundary's handlers with comlink. Idempotent. */
export function installTransferHandlers(): void {
  installErrorTransfer();
  if (!transferHandlers.has(FLOAT32_HANDLER))
    transferHandlers.set(FLOAT32_HANDLER, float32Handler as TransferHandler<unknown, unknown>);
  if (!transferHandlers.has(CALLBACK_HANDLER))
    transferHandlers.set(CALLBACK_HANDLER, callbackHandler() as TransferHandler<unknown, unknown>);
}
