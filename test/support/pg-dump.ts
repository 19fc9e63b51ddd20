/** `pg_dump` of the harness database over mutual TLS with the operator certificate (extra arguments first). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DATABASE, findPostgresBin, OPERATOR_ROLE, type TestPostgres } from './postgres.js';

export function pgDump(pg: TestPostgres, args: readonly string[] = []): string {
  const c = pg.connection(OPERATOR_ROLE);
  const conninfo = [
    `host=${pg.host}`,
    `port=${pg.port}`,
    `dbname=${DATABASE}`,
    `user=${OPERATOR_ROLE}`,
    'sslmode=verify-full',
    `sslrootcert=${c.caFile}`,
    `sslcert=${c.certFile}`,
    `sslkey=${c.keyFile}`,
  ].join(' ');
  const r = spawnSync(join(findPostgresBin(), 'pg_dump'), ['--no-password', ...args, '--dbname', conninfo], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  assert.equal(r.status, 0, `pg_dump failed: ${r.stderr}`);
  return r.stdout;
}
