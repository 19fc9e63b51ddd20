/**
 * How sidekey connects to PostgreSQL: the URL rules and the TLS material
 * (re-read when its files change); postgres-errors.ts translates connection
 * failures into the typed errors of errors.ts. Shared by the pooled store (postgres.ts) and the
 * dedicated LISTEN connection (notify.ts).
 *
 * TLS is not optional and not configurable down: the server's certificate
 * must chain to SIDEKEY_PG_CA_FILE and name the URL's host (libpq's
 * `verify-full`), and the client certificate is the only credential — a URL
 * with a password, or one that asks for a weaker sslmode, is refused.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import pg from 'pg';
import { StoreConfigError } from './errors.js';

export interface PostgresTlsFiles {
  /** CA bundle that must have signed the server's certificate (SIDEKEY_PG_CA_FILE). */
  readonly caFile: string;
  /** Client certificate; its CN is the role sidekey logs in as (SIDEKEY_PG_CERT_FILE). */
  readonly certFile: string;
  /** Private key of the client certificate (SIDEKEY_PG_KEY_FILE). */
  readonly keyFile: string;
}

export interface PostgresConnectionConfig extends PostgresTlsFiles {
  /** `postgres://[role@]host[:port][/database][?sslmode=verify-full&application_name=…]`, no password. */
  readonly url: string;
}

export interface PostgresTarget {
  readonly host: string;
  readonly port: number;
  /** Undefined: the client certificate's CN (the certificate is the credential). */
  readonly user: string | undefined;
  readonly database: string;
  readonly applicationName: string | undefined;
}

/** Database used when the URL names none. */
export const DEFAULT_DATABASE = 'sidekey';

const ALLOWED_PARAMS = new Set(['sslmode', 'application_name']);
const FILE_PARAMS = new Map([
  ['sslrootcert', 'SIDEKEY_PG_CA_FILE'],
  ['sslcert', 'SIDEKEY_PG_CERT_FILE'],
  ['sslkey', 'SIDEKEY_PG_KEY_FILE'],
]);

/** Parses and checks SIDEKEY_PG_URL. Throws `StoreConfigError` naming what is wrong. */
export function parsePostgresUrl(url: string): PostgresTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StoreConfigError(
      'SIDEKEY_PG_URL is not a valid URL (expected postgres://role@host:port/database)',
    );
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new StoreConfigError('SIDEKEY_PG_URL must start with postgres:// or postgresql://');
  }
  if (u.password !== '') {
    throw new StoreConfigError(
      'SIDEKEY_PG_URL must not contain a password: the client certificate (SIDEKEY_PG_CERT_FILE) is the credential',
    );
  }
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  if (host === '' || host.includes('%') || host.includes('/')) {
    throw new StoreConfigError(
      'SIDEKEY_PG_URL must name a TCP host: sidekey connects over TLS only, not a unix socket',
    );
  }
  for (const [name, value] of u.searchParams) {
    const fileSetting = FILE_PARAMS.get(name);
    if (fileSetting !== undefined) {
      throw new StoreConfigError(`SIDEKEY_PG_URL must not set ${name}: use ${fileSetting}`);
    }
    if (name === 'sslmode' && value !== 'verify-full') {
      throw new StoreConfigError(
        `SIDEKEY_PG_URL asks for sslmode=${value}: sidekey always uses TLS and verifies the server's certificate and host name (sslmode=verify-full)`,
      );
    }
    if (name === 'password') {
      throw new StoreConfigError(
        'SIDEKEY_PG_URL must not contain a password: the client certificate (SIDEKEY_PG_CERT_FILE) is the credential',
      );
    }
    if (!ALLOWED_PARAMS.has(name)) {
      throw new StoreConfigError(
        `SIDEKEY_PG_URL has an unsupported parameter ${name} (allowed: ${[...ALLOWED_PARAMS].join(', ')})`,
      );
    }
  }
  let port = 5432;
  if (u.port !== '') port = Number(u.port);
  const path = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (path.includes('/')) throw new StoreConfigError('SIDEKEY_PG_URL has a malformed database name');
  return {
    host,
    port,
    user: u.username === '' ? undefined : decodeURIComponent(u.username),
    database: path === '' ? DEFAULT_DATABASE : path,
    applicationName: u.searchParams.get('application_name') ?? undefined,
  };
}

export interface TlsPair {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

const SETTING: Record<keyof PostgresTlsFiles, string> = {
  caFile: 'SIDEKEY_PG_CA_FILE',
  certFile: 'SIDEKEY_PG_CERT_FILE',
  keyFile: 'SIDEKEY_PG_KEY_FILE',
};

function fileStamp(path: string): string {
  const s = statSync(path);
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
}

/**
 * The CA, client certificate and key, re-read when any of the files changes
 * (cert-manager renews them in place, Kubernetes swaps a symlink). Every new
 * connection asks `current()`, which costs three stat() calls; open
 * connections keep the pair they were made with. A changed set that does not
 * load (a half-written file, a key that does not match the certificate) is
 * reported and the last good pair stays in use until the files settle.
 */
export class TlsMaterial {
  private stamp = '';
  private pair: TlsPair;
  private failedStamp = '';

  constructor(
    private readonly files: PostgresTlsFiles,
    private readonly onError: (err: Error) => void = () => {},
  ) {
    const loaded = this.load();
    this.pair = loaded.pair;
    this.stamp = loaded.stamp;
  }

  /** The role the client certificate logs in as (its subject CN). */
  commonName(): string | undefined {
    const subject = new X509Certificate(this.pair.cert).subject;
    return /^CN=(.*)$/m.exec(subject)?.[1];
  }

  current(): TlsPair {
    let stamp: string;
    try {
      stamp = this.stamps();
    } catch (err) {
      this.reportOnce(err as Error);
      return this.pair;
    }
    this.lastReported = '';
    if (stamp === this.stamp || stamp === this.failedStamp) return this.pair;
    try {
      const loaded = this.load();
      this.pair = loaded.pair;
      this.stamp = loaded.stamp;
      this.failedStamp = '';
    } catch (err) {
      this.failedStamp = stamp;
      this.onError(
        new StoreConfigError(
          `the changed TLS files could not be loaded, still using the previous ones: ${(err as Error).message}`,
        ),
      );
    }
    return this.pair;
  }

  private lastReported = '';
  /** A file that vanished (mid-swap, or deleted) is reported once, not on every connection. */
  private reportOnce(err: Error) {
    if (err.message === this.lastReported) return;
    this.lastReported = err.message;
    this.onError(new StoreConfigError(`${err.message}; still using the previous TLS files`));
  }

  private stamps(): string {
    return (['caFile', 'certFile', 'keyFile'] as const)
      .map((k) => {
        try {
          return fileStamp(this.files[k]);
        } catch (err) {
          throw new StoreConfigError(
            `cannot read ${SETTING[k]} (${this.files[k]}): ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
          );
        }
      })
      .join('|');
  }

  private load(): { pair: TlsPair; stamp: string } {
    // Stamp first: if a file changes while we read, the next call reads again.
    const stamp = this.stamps();
    const read = (k: keyof PostgresTlsFiles) => {
      try {
        return readFileSync(this.files[k], 'utf8');
      } catch (err) {
        throw new StoreConfigError(
          `cannot read ${SETTING[k]} (${this.files[k]}): ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
        );
      }
    };
    const pair = { ca: read('caFile'), cert: read('certFile'), key: read('keyFile') };
    try {
      new X509Certificate(pair.ca);
    } catch {
      throw new StoreConfigError(`${SETTING.caFile} (${this.files.caFile}) holds no PEM certificate`);
    }
    try {
      new X509Certificate(pair.cert);
    } catch {
      throw new StoreConfigError(`${SETTING.certFile} (${this.files.certFile}) holds no PEM certificate`);
    }
    try {
      createPrivateKey(pair.key);
    } catch {
      throw new StoreConfigError(`${SETTING.keyFile} (${this.files.keyFile}) holds no readable private key`);
    }
    try {
      createSecureContext({ ...pair });
    } catch {
      throw new StoreConfigError(
        `${SETTING.keyFile} does not belong to the certificate in ${SETTING.certFile} (${this.files.certFile})`,
      );
    }
    return { pair, stamp };
  }
}

export interface ConnectionTuning {
  readonly connectTimeoutMs: number;
  readonly statementTimeoutMs: number;
}

/**
 * The pg client configuration for `target`, TLS options excluded (they are
 * added per connection from `TlsMaterial`). `rejectUnauthorized` is always on;
 * pg sets `servername` for a DNS host and Node checks an IP host against the
 * certificate's IP SANs.
 */
export function clientConfig(
  target: PostgresTarget,
  user: string,
  tuning: ConnectionTuning,
): pg.ClientConfig {
  return {
    host: target.host,
    port: target.port,
    user,
    database: target.database,
    application_name: target.applicationName ?? 'sidekey',
    connectionTimeoutMillis: tuning.connectTimeoutMs,
    statement_timeout: tuning.statementTimeoutMs,
    // The server-side timeout should fire first; this one catches a server that went silent.
    query_timeout: tuning.statementTimeoutMs + 5_000,
    idle_in_transaction_session_timeout: tuning.statementTimeoutMs + 5_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
}

export function sslOptions(pair: TlsPair) {
  return {
    ca: pair.ca,
    cert: pair.cert,
    key: pair.key,
    rejectUnauthorized: true as const,
    minVersion: 'TLSv1.2' as const,
  };
}

/** A pg Client class whose every new connection takes the current TLS pair. */
export function tlsClientClass(material: TlsMaterial): typeof pg.Client {
  return class TlsClient extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      super({ ...config, ssl: sslOptions(material.current()) });
    }
  };
}

export interface Resolved {
  readonly target: PostgresTarget;
  readonly user: string;
  readonly material: TlsMaterial;
}

/** Validates the URL and loads the TLS files; throws `StoreConfigError`. */
export function resolveConnection(cfg: PostgresConnectionConfig, onError?: (err: Error) => void): Resolved {
  const target = parsePostgresUrl(cfg.url);
  const material = new TlsMaterial(cfg, onError);
  const user = target.user ?? material.commonName();
  if (user === undefined || user === '') {
    throw new StoreConfigError(
      'SIDEKEY_PG_URL names no role and the client certificate has no CN to use instead',
    );
  }
  return { target, user, material };
}
