/**
 * deploy/postgres/roles.sql as an operator would run it, on a server without
 * sidekey's roles: then `sidekey migrate` (as the operator certificate) and a
 * sidecar (as the sidecar certificate) both work. Running it twice is harmless.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { migratePostgres, openPostgresStore } from '../../src/store/postgres.js';
import { OPERATOR_ROLE, SIDECAR_ROLE, startPostgres, type TestPostgres } from '../support/postgres.js';

const rolesSql = fileURLToPath(new URL('../../deploy/postgres/roles.sql', import.meta.url));
let h: TestPostgres;

before(async () => {
  h = await startPostgres();
  // Start from a server that has never seen sidekey.
  await h.adminQuery('drop database sidekey', undefined, 'postgres');
  await h.adminQuery(`drop role ${SIDECAR_ROLE}`, undefined, 'postgres');
  await h.adminQuery(`drop role ${OPERATOR_ROLE}`, undefined, 'postgres');
});
after(async () => {
  await h?.destroy();
});

it('roles.sql, then migrate as the operator, then serve as the sidecar', async () => {
  h.psqlFile(rolesSql);
  h.psqlFile(rolesSql); // idempotent
  const [owner] = await h.adminQuery<{ owner: string }>(
    `select pg_get_userbyid(datdba) as owner from pg_database where datname = 'sidekey'`,
    undefined,
    'postgres',
  );
  assert.equal(owner?.owner, OPERATOR_ROLE);
  const { applied } = await migratePostgres(h.connection(OPERATOR_ROLE));
  assert.ok(applied.length >= 1);
  const sidecar = await openPostgresStore(h.connection(SIDECAR_ROLE));
  try {
    await sidecar.ping();
    assert.deepEqual(await sidecar.listTenants(), []);
  } finally {
    await sidecar.close();
  }
  const [pw] = await h.adminQuery<{ n: string }>(
    `select count(*) as n from pg_authid where rolname in ('sidekey', 'sidekey_ops') and rolpassword is not null`,
    undefined,
    'postgres',
  );
  assert.equal(Number(pw?.n), 0, 'no role has a password');
});
