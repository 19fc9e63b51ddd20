/**
 * `sidekey doctor` for SIDEKEY_STORE=postgres: the TLS files, the client
 * certificate's expiry, a verified TLS connection and login, the schema
 * version, the role's grants as `sidekey migrate` sets them, and clock skew
 * against the database.
 */
import type { StoreConfig } from '../config/index.js';
import { certificateFileNotAfter } from '../observability/index.js';
import { SIDECAR_FUNCTIONS, SIDECAR_PRIVILEGES, SIDEKEY_TABLES } from '../store/grants.js';
import { MIGRATIONS, StoreAuthError, StoreConfigError, StoreUnavailableError } from '../store/index.js';
import { openPostgresSqlClient } from '../store/postgres.js';
import { resolveConnection } from '../store/postgres-connection.js';
import type { SqlClient } from '../store/sql-client.js';
import { type CheckResult, certificateCheck, fail, ok, warn } from './check.js';

type PostgresStore = Extract<StoreConfig, { kind: 'postgres' }>;

const MIGRATE = 'run `sidekey migrate` with the operator role (sidekey_ops)';
/** Skew beyond this fails: certificate validity and audit times are judged by the local clock. */
const SKEW_FAIL_SECONDS = 5;
const SKEW_WARN_SECONDS = 1;

export async function postgresChecks(store: PostgresStore, now: Date): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  let role: string;
  try {
    role = resolveConnection(store).user;
    results.push(
      ok('postgres.tls-files', `CA, client certificate and key readable; logging in as role ${role}`),
    );
  } catch (err) {
    results.push(
      fail(
        'postgres.tls-files',
        (err as Error).message,
        'point SIDEKEY_PG_CA_FILE, SIDEKEY_PG_CERT_FILE and SIDEKEY_PG_KEY_FILE at readable PEM files (the key 0600)',
      ),
    );
    return results;
  }
  const client = certificateCheck(
    'postgres.client-certificate',
    `client certificate ${store.certFile}`,
    certificateFileNotAfter(store.certFile),
    now,
    'renew SIDEKEY_PG_CERT_FILE from the CA PostgreSQL trusts (cert-manager renews it before expiry when it manages the Secret)',
  );
  results.push(client);
  if (client.status === 'fail') return results;

  let sql: SqlClient;
  try {
    sql = await openPostgresSqlClient(store, { connectTimeoutMs: 5_000, statementTimeoutMs: 5_000 });
  } catch (err) {
    results.push(connectionFailure(err));
    return results;
  }
  try {
    results.push(
      ok('postgres.connect', `connected over TLS; the server certificate is trusted and valid for its host`),
    );
    results.push(await schemaCheck(sql));
    results.push(await grantsCheck(sql, role));
    results.push(await clockCheck(sql));
  } finally {
    await sql.close().catch(() => {});
  }
  return results;
}

function connectionFailure(err: unknown): CheckResult {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof StoreAuthError) {
    const fixes: Record<string, string> = {
      'server-untrusted': 'SIDEKEY_PG_CA_FILE must hold the CA that signed the PostgreSQL server certificate',
      'server-host-mismatch':
        'use the host name the server certificate is issued for in SIDEKEY_PG_URL, or reissue it with that name in its subjectAltName',
      'server-expired': 'renew the PostgreSQL server certificate',
      'client-untrusted': 'issue SIDEKEY_PG_CERT_FILE from the CA in the server ssl_ca_file',
      'client-expired': 'renew SIDEKEY_PG_CERT_FILE',
      'role-rejected':
        "the client certificate's CN must equal the role, the role must exist (deploy/postgres/roles.sql) and pg_hba.conf must allow `hostssl … cert` for it",
      'server-no-tls': 'turn on ssl in postgresql.conf',
    };
    return fail(
      'postgres.connect',
      message,
      fixes[err.problem] ?? 'check the client certificate and pg_hba.conf (hostssl … cert)',
    );
  }
  if (err instanceof StoreUnavailableError) {
    return fail(
      'postgres.connect',
      message,
      'check the host and port in SIDEKEY_PG_URL, that PostgreSQL runs, and that a network policy lets this pod reach it',
    );
  }
  if (err instanceof StoreConfigError) return fail('postgres.connect', message, 'fix the setting it names');
  return fail('postgres.connect', message, 'check SIDEKEY_PG_URL and the TLS files');
}

async function schemaCheck(sql: SqlClient): Promise<CheckResult> {
  let applied: Set<number>;
  try {
    const r = await sql.query<{ version: number }>('select version from sidekey_schema_migrations');
    applied = new Set(r.rows.map((x) => Number(x.version)));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === '42P01') return fail('postgres.schema', 'the schema is missing', MIGRATE);
    if (code === '42501')
      return fail(
        'postgres.schema',
        'permission denied reading sidekey_schema_migrations',
        `${MIGRATE} --sidecar-role <this role>`,
      );
    throw err;
  }
  const missing = MIGRATIONS.filter((m) => !applied.has(m.version)).map((m) => m.version);
  if (missing.length > 0)
    return fail('postgres.schema', `migration(s) ${missing.join(', ')} not applied`, MIGRATE);
  const newest = Math.max(...applied);
  return ok('postgres.schema', `schema version ${newest}: every migration this release knows is applied`);
}

async function grantsCheck(sql: SqlClient, role: string): Promise<CheckResult> {
  const missing: string[] = [];
  for (const table of SIDEKEY_TABLES) {
    const privileges = SIDECAR_PRIVILEGES[table];
    if (privileges.length === 0) continue; // operator-only (the audit retention records)
    const r = await sql.query<Record<string, boolean | null>>(
      `select ${privileges.map((p, i) => `has_table_privilege(current_user, to_regclass($1)::oid, '${p}') as p${i}`).join(', ')}
        where to_regclass($1) is not null`,
      [table],
    );
    const row = r.rows[0];
    if (row === undefined) continue; // the table is missing: the schema check says so
    const lacking = privileges.filter((_, i) => row[`p${i}`] !== true);
    if (lacking.length > 0) missing.push(`${lacking.join(', ')} on ${table}`);
  }
  // The audit partition roll-forward every sidecar calls (migration 8).
  for (const fn of SIDECAR_FUNCTIONS) {
    const r = await sql.query<{ ok: boolean | null }>(
      `select has_function_privilege(current_user, to_regprocedure($1), 'execute') as ok
        where to_regprocedure($1) is not null`,
      [fn],
    );
    if (r.rows[0] !== undefined && r.rows[0].ok !== true) missing.push(`execute on function ${fn}`);
  }
  if (missing.length > 0)
    return fail(
      'postgres.grants',
      `role ${role} lacks ${missing.join('; ')}`,
      `${MIGRATE} --sidecar-role ${role} (it grants exactly what a sidecar needs)`,
    );
  return ok('postgres.grants', `role ${role} has every privilege a sidecar needs`);
}

async function clockCheck(sql: SqlClient): Promise<CheckResult> {
  const before = Date.now();
  const r = await sql.query<{ t: number | string }>(
    'select extract(epoch from clock_timestamp()) * 1000 as t',
  );
  const after = Date.now();
  const skew = (Number(r.rows[0]!.t) - (before + after) / 2) / 1000;
  const text = `local clock is ${Math.abs(skew).toFixed(2)} s ${skew > 0 ? 'behind' : 'ahead of'} PostgreSQL (±${((after - before) / 2000).toFixed(2)} s)`;
  const fix = 'run NTP (chrony, systemd-timesyncd) on this host and on the database host';
  if (Math.abs(skew) > SKEW_FAIL_SECONDS) return fail('clock', text, fix);
  if (Math.abs(skew) > SKEW_WARN_SECONDS) return warn('clock', text, fix);
  return ok('clock', text);
}
