/**
 * Typed store failures, the same for both adapters, so the core can map them
 * without knowing which database is behind the port:
 *
 * - `StoreUnavailableError`: the store cannot be reached or answered with a
 *   transient failure. The core answers `UNAVAILABLE` (retryable); the
 *   adapter recovers on its own once the database is back.
 * - `StoreAuthError` (a kind of unavailable): the TLS handshake or the
 *   certificate login failed. At start this is a configuration error to show
 *   the operator verbatim; at run time (a bad certificate rotated in) the
 *   store is unavailable until the files are fixed, with no restart needed.
 * - `StoreConfigError`: the settings themselves are wrong (URL without TLS,
 *   a password in the URL, unreadable certificate files).
 *
 * Messages name settings, hosts and reasons only — never a key or a value.
 */

export type UnavailableReason =
  | 'unreachable'
  | 'timeout'
  | 'shutdown'
  | 'connection-lost'
  | 'overloaded'
  | 'conflict'
  | 'closed'
  | 'tls';

export class StoreUnavailableError extends Error {
  override readonly name: string = 'StoreUnavailableError';
  readonly retryable = true;
  constructor(
    message: string,
    readonly reason: UnavailableReason,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type AuthProblem =
  /** The server's certificate does not name the host in the URL. */
  | 'server-host-mismatch'
  /** The server's certificate does not chain to SIDEKEY_PG_CA_FILE. */
  | 'server-untrusted'
  /** The server's certificate has expired or is not yet valid. */
  | 'server-expired'
  /** The server does not know the CA of our client certificate. */
  | 'client-untrusted'
  /** The server says our client certificate has expired. */
  | 'client-expired'
  /** Any other refusal of our client certificate during the handshake. */
  | 'client-rejected'
  /** TLS worked, but the certificate's CN does not log in as the URL's role. */
  | 'role-rejected'
  /** The server does not offer TLS at all. */
  | 'server-no-tls';

export class StoreAuthError extends StoreUnavailableError {
  override readonly name = 'StoreAuthError';
  constructor(
    message: string,
    readonly problem: AuthProblem,
    options?: { cause?: unknown },
  ) {
    super(message, 'tls', options);
  }
}

export class StoreConfigError extends Error {
  override readonly name = 'StoreConfigError';
}

export function isStoreUnavailable(err: unknown): err is StoreUnavailableError {
  return err instanceof StoreUnavailableError;
}
