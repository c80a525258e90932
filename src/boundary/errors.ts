/**
 * Every failure the SDK reports is a RouterRetrieverError with a stable `code`
 * and a message that says what to do about it. The class survives the worker
 * boundary (see src/boundary/error-transfer.ts), so callers can switch on `code`.
 */
export type ErrorCode =
  /** A model or adapter file is malformed, truncated or of an unsupported kind. */
  | 'MODEL_FORMAT'
  /** A pickle asked for something a plain state dict never needs (code execution). */
  | 'UNSAFE_PICKLE'
  /** A LoRA adapter does not fit the base model (missing target, wrong shape). */
  | 'ADAPTER_MISMATCH'
  /** A required file could not be fetched or read. */
  | 'FILE_NOT_FOUND'
  | 'NETWORK'
  /** No usable backend, or the chosen one failed. */
  | 'BACKEND'
  /** WebGPU results disagreed with WASM on the canary text. */
  | 'WEBGPU_MISMATCH'
  /** The caller cancelled a long operation. */
  | 'CANCELLED'
  /** Storage is full. `details.neededBytes` says how much was needed. */
  | 'QUOTA_EXCEEDED'
  /** A collection was indexed with another base model. */
  | 'MODEL_MISMATCH'
  /** Bad arguments from the caller. */
  | 'INVALID_INPUT'
  /** A named thing (expert, document, collection) does not exist. */
  | 'NOT_FOUND'
  /** Called before load()/open() finished, or after dispose(). */
  | 'NOT_READY';

export class RouterRetrieverError extends Error {
  override readonly name = 'RouterRetrieverError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

export function isRouterRetrieverError(e: unknown, code?: ErrorCode): e is RouterRetrieverError {
  return (
    typeof e === 'object' &&
    e !== null &&
    (e as { name?: unknown }).name === 'RouterRetrieverError' &&
    (code === undefined || (e as { code?: unknown }).code === code)
  );
}
