/**
 * Connection failures of pg, node:net and node:tls translated into the typed
 * store errors of errors.ts, with messages an operator can act on (which
 * certificate, which host, which setting). Never a secret in a message.
 */
import { StoreAuthError, StoreConfigError, StoreUnavailableError } from './errors.js';
import type { PostgresTarget } from './postgres-connection.js';

const SERVER_UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
]);
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);
const LOST = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_SOCKET_CLOSED', 'ERR_STREAM_DESTROYED']);

/**
 * Turns whatever pg, net or tls threw into a typed store error, or returns the
 * error unchanged when it is an ordinary SQL error (constraint, permission,
 * syntax) that the caller must see as is.
 */
export function classifyPgError(
  err: unknown,
  target: Pick<PostgresTarget, 'host' | 'port'>,
  user?: string,
): unknown {
  if (!(err instanceof Error)) return err;
  if (err instanceof StoreUnavailableError || err instanceof StoreConfigError) return err;
  const where = `PostgreSQL at ${target.host}:${target.port}`;
  const code = (err as { code?: unknown }).code;
  const msg = err.message;
  const opts = { cause: err };

  if (typeof code === 'string') {
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      const reason = (err as { reason?: string }).reason;
      return new StoreAuthError(
        `server certificate is not valid for host ${target.host}${reason ? ` (${reason})` : ''}: check the host in SIDEKEY_PG_URL and the server certificate's subjectAltName`,
        'server-host-mismatch',
        opts,
      );
    }
    if (SERVER_UNTRUSTED.has(code)) {
      return new StoreAuthError(
        `server certificate of ${where} is not trusted: it is not signed by the CA in SIDEKEY_PG_CA_FILE (${code})`,
        'server-untrusted',
        opts,
      );
    }
    if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
      return new StoreAuthError(
        `server certificate of ${where} is ${code === 'CERT_HAS_EXPIRED' ? 'expired' : 'not yet valid'}`,
        'server-expired',
        opts,
      );
    }
    // OpenSSL names alerts differently across versions (Node 20: ERR_SSL_TLSV1_ALERT_…,
    // ERR_SSL_SSLV3_ALERT_…; Node 24: ERR_SSL_SSL/TLS_ALERT_…): match on the alert itself.
    if (code.startsWith('ERR_SSL_') && code.endsWith('_ALERT_UNKNOWN_CA')) {
      return new StoreAuthError(
        `client certificate rejected by ${where}: unknown CA (SIDEKEY_PG_CERT_FILE is not signed by a CA the server trusts in its ssl_ca_file)`,
        'client-untrusted',
        opts,
      );
    }
    if (code.startsWith('ERR_SSL_') && code.endsWith('_ALERT_CERTIFICATE_EXPIRED')) {
      return new StoreAuthError(
        `client certificate rejected by ${where}: expired (renew SIDEKEY_PG_CERT_FILE)`,
        'client-expired',
        opts,
      );
    }
    if (code.startsWith('ERR_SSL_') && code.includes('ALERT')) {
      const alert = code
        .replace(/^ERR_SSL_.*?_ALERT_/, '')
        .toLowerCase()
        .replaceAll('_', ' ');
      return new StoreAuthError(`client certificate rejected by ${where}: ${alert}`, 'client-rejected', opts);
    }
    if (UNREACHABLE.has(code)) {
      return new StoreUnavailableError(`${where} is unreachable (${code})`, 'unreachable', opts);
    }
    if (code === 'ETIMEDOUT')
      return new StoreUnavailableError(`${where} timed out (${code})`, 'timeout', opts);
    if (LOST.has(code))
      return new StoreUnavailableError(`connection to ${where} was lost (${code})`, 'connection-lost', opts);
    // SQLSTATE classes (https://www.postgresql.org/docs/current/errcodes-appendix.html)
    if (code === '28000' || code === '28P01') {
      return new StoreAuthError(
        `${where} refused the login as role ${user ?? '?'}: ${msg} (the client certificate's CN must equal the role, and pg_hba.conf must allow \`hostssl … cert\`)`,
        'role-rejected',
        opts,
      );
    }
    if (code === '57P01' || code === '57P02' || code === '57P03') {
      return new StoreUnavailableError(
        `${where} is shutting down or starting up (${code})`,
        'shutdown',
        opts,
      );
    }
    if (code.startsWith('08'))
      return new StoreUnavailableError(`connection to ${where} failed (${code})`, 'connection-lost', opts);
    if (code.startsWith('53'))
      return new StoreUnavailableError(`${where} is out of resources (${code})`, 'overloaded', opts);
    if (code === '40001' || code === '40P01') {
      return new StoreUnavailableError(
        `${where} aborted a conflicting transaction (${code})`,
        'conflict',
        opts,
      );
    }
    if (code === '57014')
      return new StoreUnavailableError(`${where}: statement timed out (${code})`, 'timeout', opts);
    return err;
  }

  if (msg === 'The server does not support SSL connections') {
    return new StoreAuthError(
      `${where} does not offer TLS (set ssl = on in postgresql.conf)`,
      'server-no-tls',
      opts,
    );
  }
  if (/password/i.test(msg) && /SASL|password authentication|client password/i.test(msg)) {
    return new StoreAuthError(
      `${where} asked for a password: sidekey authenticates with its client certificate only (pg_hba.conf needs \`hostssl … cert\`)`,
      'role-rejected',
      opts,
    );
  }
  if (/timeout exceeded when trying to connect|connection timeout|Query read timeout/i.test(msg)) {
    return new StoreUnavailableError(`${where} did not answer in time`, 'timeout', opts);
  }
  if (/Connection terminated|not queryable|Client was closed/i.test(msg)) {
    return new StoreUnavailableError(`connection to ${where} was lost`, 'connection-lost', opts);
  }
  if (/Cannot use a pool after calling end/i.test(msg)) {
    return new StoreUnavailableError('the store is closed', 'closed', opts);
  }
  return err;
}
