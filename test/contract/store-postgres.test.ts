/**
 * The store contract on a real PostgreSQL over mutual TLS (as the operator
 * role, which owns the schema), and proof that the sidecar role's grants are
 * enough for what a sidecar does and refuse everything else.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Store } from '../../src/store/port.js';
import { migratePostgres, openPostgresStore } from '../../src/store/postgres.js';
import { OPERATOR_ROLE, SIDECAR_ROLE, startPostgres, type TestPostgres } from '../support/postgres.js';
import {
  auditRows,
  freshChainId,
  freshOrkId,
  freshTenant,
  runStoreContract,
  tokenRow,
} from './store-contract.js';

let server: Promise<TestPostgres> | undefined;
const harness = () => {
  server ??= startPostgres();
  return server;
};
after(async () => {
  await (await server)?.destroy();
});

runStoreContract({
  name: 'postgres',
  async make() {
    const pgServer = await harness();
    const store = await openPostgresStore(pgServer.connection(OPERATOR_ROLE));
    return { store, close: () => store.close() };
  },
});

/** A raw pg client over the same mutual TLS, to try statements the Store never issues. */
async function rawClient(h: TestPostgres, role: string): Promise<pg.Client> {
  const { certFile, keyFile } = h.clientCert(role);
  const c = new pg.Client({
    host: h.host,
    port: h.port,
    user: role,
    database: 'sidekey',
    ssl: {
      ca: readFileSync(h.caFile, 'utf8'),
      cert: readFileSync(certFile, 'utf8'),
      key: readFileSync(keyFile, 'utf8'),
      rejectUnauthorized: true,
    },
  });
  await c.connect();
  return c;
}

const permissionDenied = (err: unknown) => {
  assert.equal((err as { code?: string }).code, '42501', String(err));
  return true;
};

describe('postgres: sidecar role privileges', () => {
  let h: TestPostgres;
  let ops: Store;
  let sidecar: Store;
  let sidecarSql: pg.Client;
  let tenant: string;
  let orkId: string;

  before(async () => {
    h = await harness();
    const { applied } = await migratePostgres(h.connection(OPERATOR_ROLE), { sidecarRole: SIDECAR_ROLE });
    assert.ok(Array.isArray(applied));
    // Grants are re-applied on every run without error.
    assert.deepEqual((await migratePostgres(h.connection(OPERATOR_ROLE))).applied, []);
    ops = await openPostgresStore(h.connection(OPERATOR_ROLE));
    sidecar = await openPostgresStore(h.connection(SIDECAR_ROLE));
    sidecarSql = await rawClient(h, SIDECAR_ROLE);
    tenant = freshTenant();
    orkId = freshOrkId();
    await ops.createTenant(tenant, { kekRef: 'local:1', wrapped: randomBytes(60) });
    await ops.insertOrk({ tenant, orkId, label: 'l', fingerprint: 'f' });
  });
  after(async () => {
    await sidecarSql?.end();
    await sidecar?.close();
    await ops?.close();
  });

  it('can do everything a sidecar does', async () => {
    await sidecar.ping();
    assert.equal((await sidecar.getTenantKeys(tenant)).length, 1);
    assert.ok((await sidecar.listTenants()).some((t) => t.tenant === tenant));
    assert.equal((await sidecar.getOrk(tenant, orkId))?.state, 'active');
    assert.equal((await sidecar.listOrks(tenant)).length, 1);
    const chainId = freshChainId();
    await sidecar.insertAuditChain({ chainId, kekRef: 'local:1', wrappedKey: randomBytes(60), host: 'pod' });
    assert.ok((await sidecar.listAuditChains()).some((c) => c.chainId === chainId));
    const tokens = [tokenRow(tenant, orkId), tokenRow(tenant, orkId)];
    const batch = { tokens, audit: auditRows(chainId, 1, 2) };
    await sidecar.write(batch);
    await sidecar.write(batch); // idempotent retry needs no UPDATE privilege
    assert.equal((await sidecar.getTokens(tokens.map((t) => t.token))).length, 2);
    assert.equal((await sidecar.readAuditEvents(chainId, 0, 10)).length, 2);
    assert.equal((await sidecar.keyStatus(tenant))[0]?.records, 2);
    assert.equal(await sidecar.deleteTokens(tenant, orkId, [tokens[0]!.token]), 1);
  });

  it('cannot create tenants, issue or revoke ORKs, or migrate', async () => {
    await assert.rejects(
      sidecar.createTenant(freshTenant(), { kekRef: 'k', wrapped: randomBytes(8) }),
      permissionDenied,
    );
    await assert.rejects(
      sidecar.insertOrk({ tenant, orkId: freshOrkId(), label: '', fingerprint: 'f' }),
      permissionDenied,
    );
    await assert.rejects(sidecar.revokeOrk(tenant, orkId), permissionDenied);
    await assert.rejects(sidecar.migrate(), permissionDenied);
    assert.equal((await ops.getOrk(tenant, orkId))?.state, 'active');
  });

  it('cannot change keys, rewrite tokens or audit events, or run DDL', async () => {
    const denied = [
      `update sidekey_tenant_keys set state = 'destroyed', wrapped_key = null`,
      `delete from sidekey_tenant_keys`,
      `update sidekey_tokens set field = 'x'`,
      `update sidekey_audit_events set event = '{}'`,
      `delete from sidekey_audit_events`,
      // Migration 8 (issue 19): the partitioned log, its partitions and the prune records.
      `update sidekey_audit_log set event = '{}'`,
      `delete from sidekey_audit_log`,
      `delete from sidekey_audit_log_default`,
      `insert into sidekey_audit_anchors (chain_id, seq, hash) values ('x', 1, '\\x00')`,
      `delete from sidekey_audit_exports`,
      `update sidekey_audit_prunes set state = 'done'`,
      `delete from sidekey_audit_chains`,
      `truncate sidekey_tokens`,
      `update sidekey_schema_migrations set version = 99`,
      `create table sidekey_evil (x int)`,
      `drop table sidekey_tokens`,
      `alter table sidekey_tokens add column x int`,
    ];
    for (const sql of denied) {
      await assert.rejects(sidecarSql.query(sql), (err) => {
        // Missing privilege, or for DDL on tables it does not own: must be owner.
        assert.ok(['42501'].includes((err as { code?: string }).code ?? ''), `${sql}: ${String(err)}`);
        return true;
      });
    }
  });
});
