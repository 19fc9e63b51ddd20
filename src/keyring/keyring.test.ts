/**
 * The keyring against a real (in-memory) embedded database and the real
 * local KEK, counting KMS calls through a counting KEK port.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { FULL_SCOPE } from '../access/index.js';
import { encodeOrkString, generateKey, PooledRandom } from '../crypto/index.js';
import { SidekeyError } from '../errors/index.js';
import { type EncryptionContext, type KekPort, kekRing, LocalKek } from '../kms/index.js';
import type { SqlClient, SqlExecutor } from '../store/sql-client.js';
import { SqlStore } from '../store/sql-store.js';
import { createTenant, issueOrk } from '../tenants/index.js';
import { Keyring } from './keyring.js';

class CountingKek implements KekPort {
  unwraps = 0;
  constructor(private readonly inner: KekPort) {}
  get provider() {
    return this.inner.provider;
  }
  get kekRef() {
    return this.inner.kekRef;
  }
  wrap(p: Uint8Array, c: EncryptionContext) {
    return this.inner.wrap(p, c);
  }
  async unwrap(w: Uint8Array, c: EncryptionContext) {
    this.unwraps++;
    await new Promise((r) => setTimeout(r, 2)); // a KMS takes time: lets concurrent misses overlap
    return this.inner.unwrap(w, c);
  }
  health() {
    return this.inner.health();
  }
  close() {
    return this.inner.close();
  }
}

let db: PGlite;
let store: SqlStore;
let kek: CountingKek;
const random = new PooledRandom();

before(async () => {
  db = await PGlite.create();
  const exec = (x: PGlite | Parameters<Parameters<PGlite['transaction']>[0]>[0]): SqlExecutor => ({
    query: async (sql, params) => {
      const r = await x.query(sql, params as unknown[]);
      return { rows: r.rows as never[], rowCount: r.affectedRows ?? 0 };
    },
    exec: async (sql) => {
      await x.exec(sql);
    },
  });
  const client: SqlClient = {
    ...exec(db),
    transaction: (fn) => db.transaction((tx) => fn(exec(tx))),
    close: () => db.close(),
  };
  store = new SqlStore('embedded', client);
  await store.migrate();
  kek = new CountingKek(new LocalKek(generateKey(), random));
});
after(async () => {
  await store.close();
});

async function tenantWithOrk(tenant: string) {
  const deps = { store, keks: kekRing(kek), random };
  await createTenant(deps, tenant);
  return issueOrk(deps, tenant, 'test');
}

function keyring(options: Partial<{ orkTtlMs: number }> = {}) {
  return new Keyring({
    store,
    keks: kekRing(kek),
    options: { tekTtlMs: 60_000, orkTtlMs: options.orkTtlMs ?? 60_000, maxKeys: 100 },
  });
}

describe('Keyring', () => {
  it('verifies an ORK once, then serves it and its FDKs from cache', async () => {
    const { orkString, orkId } = await tenantWithOrk('k1');
    const ring = keyring();
    const before = kek.unwraps;
    const ids = await Promise.all(Array.from({ length: 10 }, () => ring.authenticate(orkString)));
    assert.equal(kek.unwraps - before, 1, 'concurrent misses share one KMS call');
    assert.deepEqual(ids[0], { tenant: 'k1', orkId, scope: FULL_SCOPE, handle: ids[0]!.handle, orkString });
    const fdks = await Promise.all(Array.from({ length: 10 }, () => ring.fdk(ids[0]!, 'email', 1)));
    assert.equal(kek.unwraps - before, 2, 'one more for the TEK');
    for (const f of fdks) assert.deepEqual(f, fdks[0]);
    const other = await ring.fdk(ids[0]!, 'phone', 1);
    assert.notDeepEqual(other, fdks[0], 'one FDK per field');
    assert.equal(kek.unwraps - before, 2, 'no KMS call once warm');
    ring.clear();
  });

  it('gives the caller a copy: zeroing it does not break the next request', async () => {
    const { orkString } = await tenantWithOrk('k2');
    const ring = keyring();
    const id = await ring.authenticate(orkString);
    const a = await ring.fdk(id, 'f', 1);
    const expected = Buffer.from(a);
    a.fill(0);
    assert.deepEqual(await ring.fdk(id, 'f', 1), expected);
  });

  it('refuses malformed, tampered, foreign and revoked ORKs with UNAUTHENTICATED', async () => {
    const { orkString, orkId } = await tenantWithOrk('k3');
    const ring = keyring();
    const refuse = async (s: string, message: RegExp) =>
      assert.rejects(
        ring.authenticate(s),
        (e: unknown) => e instanceof SidekeyError && e.code === 'UNAUTHENTICATED' && message.test(e.message),
      );
    await refuse('sk_ork_nope', /malformed/);
    const i = orkString.length - 5;
    await refuse(
      orkString.slice(0, i) + (orkString[i] === 'A' ? 'B' : 'A') + orkString.slice(i + 1),
      /does not verify/,
    );
    // A well-formed ORK string for an id the database does not know.
    const unknown = encodeOrkString({
      tenant: 'k3',
      orkId: 'ab'.repeat(16),
      kekRef: kek.kekRef,
      wrapped: Buffer.alloc(60, 1),
    });
    await refuse(unknown, /not known/);
    // Same ORK bytes re-labelled with another KEK.
    const foreignKek = encodeOrkString({
      tenant: 'k3',
      orkId,
      kekRef: 'local:0000000000000000',
      wrapped: Buffer.alloc(60, 1),
    });
    await refuse(foreignKek, /KEK/);
    await ring.authenticate(orkString);
    await store.revokeOrk('k3', orkId);
    ring.invalidateOrk('k3', orkId);
    await refuse(orkString, /revoked/);
  });

  it('does not ask the KMS again for an ORK it just refused', async () => {
    const { orkString } = await tenantWithOrk('k4');
    const ring = keyring();
    const i = orkString.length - 5;
    const tampered = orkString.slice(0, i) + (orkString[i] === 'A' ? 'B' : 'A') + orkString.slice(i + 1);
    await assert.rejects(ring.authenticate(tampered));
    const before = kek.unwraps;
    for (let n = 0; n < 5; n++) await assert.rejects(ring.authenticate(tampered));
    assert.equal(kek.unwraps, before);
  });

  it('reports destroyed and unknown key versions as FAILED_PRECONDITION', async () => {
    const { orkString } = await tenantWithOrk('k5');
    const ring = keyring();
    const id = await ring.authenticate(orkString);
    await assert.rejects(
      ring.fdk(id, 'f', 9),
      (e: unknown) => e instanceof SidekeyError && e.code === 'FAILED_PRECONDITION',
    );
    await db.query(
      `update sidekey_tenant_keys set state = 'destroyed', wrapped_key = null where tenant = 'k5'`,
    );
    ring.invalidateTenant('k5');
    await assert.rejects(ring.primaryVersion('k5'), /destroyed/);
    const id2 = await ring.authenticate(orkString);
    await assert.rejects(
      ring.fdk(id2, 'f', 1),
      (e: unknown) => e instanceof SidekeyError && e.code === 'FAILED_PRECONDITION',
    );
  });

  it('re-verifies an ORK after its TTL', async () => {
    const { orkString } = await tenantWithOrk('k6');
    const ring = keyring({ orkTtlMs: 20 });
    await ring.authenticate(orkString);
    const before = kek.unwraps;
    await new Promise((r) => setTimeout(r, 60));
    await ring.authenticate(orkString);
    assert.equal(kek.unwraps - before, 1);
  });
});
