/**
 * The closed catalogue of error codes of API.md, and the one table that maps
 * each code to its HTTP status and gRPC status. Transports never invent codes:
 * they map a `SidekeyError` through `httpStatusOf` / `grpcStatusOf`.
 *
 * Messages must never contain a value, a key or an ORK: build them from
 * indices, field names and counts only.
 */

export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'UNAUTHENTICATED',
  'PERMISSION_DENIED',
  'NOT_FOUND',
  'FAILED_PRECONDITION',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RESOURCE_EXHAUSTED',
  'UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** gRPC status codes by name (values from grpc/status.h; no grpc import in the core). */
export const GrpcStatus = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'INVALID_ARGUMENT':
      return 400;
    case 'UNAUTHENTICATED':
      return 401;
    case 'PERMISSION_DENIED':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'FAILED_PRECONDITION':
      return 409;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 415;
    case 'RESOURCE_EXHAUSTED':
      return 429;
    case 'UNAVAILABLE':
      return 503;
    case 'INTERNAL':
      return 500;
  }
}

export function grpcStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'INVALID_ARGUMENT':
    case 'UNSUPPORTED_MEDIA_TYPE':
      return GrpcStatus.INVALID_ARGUMENT;
    case 'UNAUTHENTICATED':
      return GrpcStatus.UNAUTHENTICATED;
    case 'PERMISSION_DENIED':
      return GrpcStatus.PERMISSION_DENIED;
    case 'NOT_FOUND':
      return GrpcStatus.NOT_FOUND;
    case 'FAILED_PRECONDITION':
      return GrpcStatus.FAILED_PRECONDITION;
    case 'PAYLOAD_TOO_LARGE':
    case 'RESOURCE_EXHAUSTED':
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case 'UNAVAILABLE':
      return GrpcStatus.UNAVAILABLE;
    case 'INTERNAL':
      return GrpcStatus.INTERNAL;
  }
}

/** Codes a caller may retry unchanged. */
export function isRetryableCode(code: ErrorCode): boolean {
  return code === 'UNAVAILABLE' || code === 'RESOURCE_EXHAUSTED';
}

export class SidekeyError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** Index of the offending item in a batch, when there is one. */
  readonly index: number | undefined;

  constructor(code: ErrorCode, message: string, options: { index?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SidekeyError';
    this.code = code;
    this.retryable = isRetryableCode(code);
    this.index = options.index;
  }
}

export function isSidekeyError(err: unknown): err is SidekeyError {
  return err instanceof SidekeyError;
}

/** The shape of a per-item error in detokenize/decrypt results (no requestId). */
export interface ItemError {
  readonly code: ErrorCode;
  readonly message: string;
}

export const invalid = (message: string, index?: number) =>
  new SidekeyError('INVALID_ARGUMENT', message, index === undefined ? {} : { index });
export const unauthenticated = (message: string) => new SidekeyError('UNAUTHENTICATED', message);
export const permissionDenied = (message: string) => new SidekeyError('PERMISSION_DENIED', message);
export const unavailable = (message: string, cause?: unknown) =>
  new SidekeyError('UNAVAILABLE', message, { cause });
export const failedPrecondition = (message: string) => new SidekeyError('FAILED_PRECONDITION', message);
