import type { Code } from './types.js';

/**
 * A failed call: the server's error code and message (never a value, a key
 * or an ORK), the request id to find it in the server log, and whether the
 * same call may be retried (`UNAVAILABLE`: the client already did, with
 * backoff; `RESOURCE_EXHAUSTED`: later).
 */
export class SidekeyError extends Error {
  override readonly name = 'SidekeyError';
  readonly code: Code;
  readonly requestId: string | undefined;
  /** The HTTP status, over HTTP. */
  readonly status: number | undefined;
  /** The gRPC status code, over gRPC. */
  readonly grpcCode: number | undefined;
  readonly retryable: boolean;

  constructor(
    code: Code,
    message: string,
    details: { requestId?: string; status?: number; grpcCode?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.requestId = details.requestId;
    this.status = details.status;
    this.grpcCode = details.grpcCode;
    this.retryable = code === 'UNAVAILABLE' || code === 'RESOURCE_EXHAUSTED';
  }
}

/** A client that cannot be made as configured (no ORK, no socket, an unreadable ORK file). */
export class SidekeyConfigError extends Error {
  override readonly name = 'SidekeyConfigError';
}
