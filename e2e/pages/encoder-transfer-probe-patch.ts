/**
 * Evaluated before the encoder worker: wraps self.postMessage so that every message with a
 * transfer list is reported on a BroadcastChannel, with whether each transferred buffer was
 * detached here afterwards (i.e. moved, not copied).
 */
const channel = new BroadcastChannel('encoder-transfer-probe');
const scope = self as unknown as {
  postMessage(message: unknown, transfer?: Transferable[] | StructuredSerializeOptions): void;
};
const original = scope.postMessage.bind(scope);
scope.postMessage = (message: unknown, transfer?: Transferable[] | StructuredSerializeOptions) => {
  const list = Array.isArray(transfer) ? transfer : (transfer?.transfer ?? []);
  const buffers = list.filter((t): t is ArrayBuffer => t instanceof ArrayBuffer);
  const before = buffers.map((b) => b.byteLength);
  original(message, transfer as Transferable[]);
  if (buffers.length > 0)
    channel.postMessage({ transferred: before, detachedAfter: buffers.map((b) => b.byteLength === 0) });
};
export {};
