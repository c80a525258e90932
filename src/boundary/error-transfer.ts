/**
 * Comlink's default "throw" handler keeps only name, message and stack. This one keeps a
 * RouterRetrieverError's code and details, so callers on the main thread can switch on
 * `code`. Import this module on both sides of the boundary.
 */
import { transferHandlers, type TransferHandler } from 'comlink';
import { RouterRetrieverError, type ErrorCode } from './errors.js';

interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: ErrorCode;
  details?: Record<string, unknown>;
}

interface Thrown {
  value: unknown;
}

const throwHandler: TransferHandler<Thrown, SerializedError> = {
  canHandle: (value: unknown): value is Thrown =>
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[Symbol.for('Comlink.thrown')] === true,
  serialize: ({ value }) => {
    const e = value instanceof Error ? value : new Error(String(value));
    const out: SerializedError = { name: e.name, message: e.message, stack: e.stack };
    if (e instanceof RouterRetrieverError) {
      out.code = e.code;
      out.details = safeDetails(e.details);
    }
    return [out, []];
  },
  deserialize: (s) => {
    if (s.code) {
      throw new RouterRetrieverError(s.code, s.message, s.details ?? {});
    }
    const e = new Error(s.message);
    e.name = s.name;
    throw e;
  },
};

function safeDetails(d: Record<string, unknown>): Record<string, unknown> {
  try {
    return structuredClone(d);
  } catch {
    return JSON.parse(JSON.stringify(d)) as Record<string, unknown>;
  }
}

/** Replace comlink's "throw" handler. Idempotent. */
export function installErrorTransfer(): void {
  const current = transferHandlers.get('throw');
  // Keep comlink's canHandle (it knows its private thrown marker); swap in our (de)serialisers.
  if (current && (current as { __rr?: boolean }).__rr) return;
  const handler = {
    canHandle: current ? current.canHandle : throwHandler.canHandle,
    serialize: throwHandler.serialize,
    deserialize: throwHandler.deserialize,
    __rr: true,
  };
  transferHandlers.set('throw', handler as unknown as TransferHandler<unknown, unknown>);
}
