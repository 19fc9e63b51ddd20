/**
 * The `postgres` store: a pg Pool over mutual TLS behind the same SqlStore as
 * the embedded adapter (same SQL, same migrations).
 *
 * Failure behaviour: connections time out after a couple of seconds and
 * statements are bounded, so when PostgreSQL is down every call rejects
 * quickly with `StoreUnavailableError` (the core answers UNAVAILABLE, which is
 * retryable). Broken connections are discarded and the pool dials again on the
 * next call, so service resumes by itself when the database is back.
 */
import pg from 'pg';
import { StoreAuthError, StoreUnavailableError } from './errors.js';
import { sidecarGrants } from './grants.js';
import type { Store } from './port.js';
import {
  clientConfig,
  type PostgresConnectionConfig,
  resolveConnection,
  tlsClientClass,
} from './postgres-connection.js';
import { classifyPgError } from './postgres-errors.js';
import type { QueryOptions, SqlClient, SqlExecutor, SqlResult } from './sql-client.js';
import { SqlStore } from './sql-store.js';

export interface PostgresStoreOptions {
  /** Time to establish a connection (TCP + TLS + login) or to wait for a pooled one. Default 2000. */
  readonly connectTimeoutMs?: number;
  /** Server-side statement_timeout; the client gives up a little later. Default 15000. */
  readonly statementTimeoutMs?: number;
  /** Pool size. Default 10. */
  readonly poolMax?: number;
  /**
   * Background problems (an idle connection dropped, changed TLS files that do
   * not load). Messages carry no secret. Default: ignored.
   */
  readonly onError?: (err: Error) => void;
  /**
   * Return the store even if PostgreSQL cannot be reached yet (calls fail with
   * `StoreUnavailableError` until it can). TLS and login problems still throw.
   * Default false: the first connection must succeed.
   */
  readonly allowUnavailableAtStart?: boolean;
}

export async function openPostgresStore(
  cfg: PostgresConnectionConfig,
  opts: PostgresStoreOptions = {},
): Promise<Store> {
  return new SqlStore('postgres', await openPostgresSqlClient(cfg, opts));
}

/**
 * The pooled SqlClient under the store, for operator tasks that need plain
 * SQL (grants). Checks the first connection like `openPostgresStore`.
 */
export async function openPostgresSqlClient(
  cfg: PostgresConnectionConfig,
  opts: PostgresStoreOptions = {},
): Promise<SqlClient> {
  const onError = opts.onError ?? (() => {});
  const { target, user, material } = resolveConnection(cfg, onError);
  const classify = (err: unknown) => classifyPgError(err, target, user);
  const pool = new pg.Pool({
    ...clientConfig(target, user, {
      connectTimeoutMs: opts.connectTimeoutMs ?? 2_000,
      statementTimeoutMs: opts.statementTimeoutMs ?? 15_000,
    }),
    Client: tlsClientClass(material),
    max: opts.poolMax ?? 10,
    idleTimeoutMillis: 30_000,
    // Recycle even busy connections, so renewed certificates (and a server
    // that moved behind the same name) are picked up within a bounded time.
    maxLifetimeSeconds: 3_600,
  });
  // An idle connection that breaks (server restart) must not crash the process.
  pool.on('error', (err) => onError(toError(classify(err))));
  const client = poolClient(pool, classify);
  try {
    await client.query('select 1');
  } catch (err) {
    const allowed =
      opts.allowUnavailableAtStart === true &&
      err instanceof StoreUnavailableError &&
      !(err instanceof StoreAuthError);
    if (!allowed) {
      await pool.end().catch(() => {});
      throw err;
    }
    onError(err);
  }
  return client;
}

/**
 * `sidekey migrate` on PostgreSQL: run as the operator role (owner of the
 * database), applies the migrations and then grants the sidecar role exactly
 * its privileges (grants.ts), re-applied on every run.
 */
export async function migratePostgres(
  cfg: PostgresConnectionConfig,
  opts: PostgresStoreOptions & { readonly sidecarRole?: string } = {},
): Promise<{ readonly applied: number[] }> {
  const grants = sidecarGrants(opts.sidecarRole ?? 'sidekey'); // validates the name before connecting
  // Creating indexes on a large table can take a while.
  const client = await openPostgresSqlClient(cfg, { statementTimeoutMs: 600_000, poolMax: 1, ...opts });
  try {
    const applied = await new SqlStore('postgres', client).migrate();
    await client.transaction((tx) => tx.exec(grants));
    return { applied };
  } finally {
    await client.close();
  }
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function executor(c: pg.Pool | pg.PoolClient, classify: (err: unknown) => unknown): SqlExecutor {
  return {
    async query<R>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<SqlResult<R>> {
      try {
        const values = params as unknown[] | undefined;
        // Named statements need a session that keeps them: sidekey talks to
        // PostgreSQL directly (a transaction-mode pooler in between would not).
        const r =
          options?.prepareAs === undefined
            ? await c.query(sql, values)
            : await c.query({ name: options.prepareAs, text: sql, values });
        return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
      } catch (err) {
        throw classify(err);
      }
    },
    async exec(sql: string): Promise<void> {
      try {
        await c.query(sql);
      } catch (err) {
        throw classify(err);
      }
    },
  };
}

function poolClient(pool: pg.Pool, classify: (err: unknown) => unknown): SqlClient {
  let closing: Promise<void> | undefined;
  return {
    ...executor(pool, classify),
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      let conn: pg.PoolClient;
      try {
        conn = await pool.connect();
      } catch (err) {
        throw classify(err);
      }
      const tx = executor(conn, classify);
      let discard = false;
      // A checked-out connection has no pool listener: one that drops mid-
      // transaction (server crash) would emit an unhandled 'error' and end
      // the process. The statement in flight rejects by itself; only make
      // sure the connection is never reused.
      const onConnectionError = () => {
        discard = true;
      };
      conn.on('error', onConnectionError);
      try {
        await tx.query('begin');
        const result = await fn(tx);
        await tx.query('commit');
        return result;
      } catch (err) {
        if (err instanceof StoreUnavailableError) {
          // The connection is suspect (or gone); never hand it out again.
          discard = true;
        } else {
          try {
            await conn.query('rollback');
          } catch {
            discard = true;
          }
        }
        throw err;
      } finally {
        conn.removeListener('error', onConnectionError);
        conn.release(discard);
      }
    },
    close() {
      closing ??= pool.end();
      return closing;
    },
  };
}
