/**
 * Ingest keys on a fleet (issue 14): two sidecars on one PostgreSQL (mutual
 * TLS), the operator's real CLI. A rotation announces itself, so both
 * sidecars hand out the new keys at once; a value sealed under the previous
 * key keeps tokenizing on both during the grace period and stops at its
 * end; the next rotation destroys (deletes) the expired pair; `tenant shred`
 * destroys them all. A sidecar makes the tenant's first pairs on first use,
 * and two sidecars racing end with one set.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IngestKey } from '../../clients/browser/sidekey-seal.js';
import type { TestDaemon } from '../support/daemon.js';
import { type Fleet, type IssuedOrk, startFleet } from '../support/fleet.js';
import { post } from '../support/http.js';
import { sealOne } from '../support/seal.js';

const TENANT = 'sealers';
const FIELD = 'national_id';
let fleet: Fleet;
let a: TestDaemon;
let b: TestDaemon;
let ork: IssuedOrk;

type Key = IngestKey;

async function keysOf(d: TestDaemon): Promise<Key[]> {
  const r = await post(d.url, '/v1/ingest/keys', ork.ork, { tenant: TENANT });
  assert.equal(r.status, 200, r.text);
  return r.body.keys;
}

function seal(key: Key, value: string): Promise<string> {
  return sealOne(key, TENANT, FIELD, value);
}

async function tokenizeSealed(d: TestDaemon, sealed: string) {
  return post(d.url, '/v1/tokenize', ork.ork, { tenant: TENANT, field: FIELD, sealedValues: [sealed] });
}

before(async () => {
  fleet = await startFleet();
  await fleet.createTenant(TENANT);
  ork = await fleet.issueOrk(TENANT);
  [a, b] = await Promise.all([fleet.startSidecar(), fleet.startSidecar()]);
});
after(async () => {
  await fleet?.destroy();
});

describe('ingest keys on two sidecars', () => {
  it('two sidecars making the first keys at once end with one set', async () => {
    const [ka, kb] = await Promise.all([keysOf(a), keysOf(b)]);
    assert.deepEqual(ka, kb);
    assert.equal((await a.daemon.store.listIngestKeys(TENANT)).length, 2);
  });

  it('rotation with a grace period: new keys everywhere at once, the old key opens until the grace ends', async () => {
    const [oldX] = await keysOf(a);
    const sealedOld = await seal(oldX!, 'sealed before the rotation');
    assert.equal((await tokenizeSealed(b, sealedOld)).status, 200);

    const rot = await fleet.ops(['ingest-key', 'rotate', '--tenant', TENANT, '--grace', '1h']);
    assert.equal(rot.code, 0, rot.stderr);
    assert.equal(JSON.parse(rot.stdout).generation, 2);
    // The command returns once both sidecars applied the announcement: no waiting here.
    const [ka, kb] = [await keysOf(a), await keysOf(b)];
    assert.deepEqual(ka, kb);
    assert.notEqual(ka[0]!.keyId, oldX!.keyId);
    for (const d of [a, b]) {
      const r = await tokenizeSealed(d, sealedOld);
      assert.equal(r.status, 200, `the previous key must open during the grace period: ${r.text}`);
      const t = await tokenizeSealed(d, await seal(ka[0]!, 'sealed after'));
      assert.equal(t.status, 200, t.text);
    }

    // Grace 0: generation 2 stops opening on both sidecars at once.
    const sealedGen2 = await seal(ka[1]!, 'sealed under generation 2');
    const now = await fleet.ops(['ingest-key', 'rotate', '--tenant', TENANT, '--grace', '0s']);
    assert.equal(now.code, 0, now.stderr);
    for (const d of [a, b]) {
      const r = await tokenizeSealed(d, sealedGen2);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.error.code, 'INVALID_ARGUMENT');
      assert.equal((await tokenizeSealed(d, sealedOld)).status, 200, 'generation 1 is still in its hour');
    }

    // The next rotation destroys the pairs past their grace (generation 2's).
    const third = await fleet.ops(['ingest-key', 'rotate', '--tenant', TENANT, '--grace', '1h']);
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stderr, /2 key pair\(s\) past their grace destroyed/);
    const rows = await a.daemon.store.listIngestKeys(TENANT);
    assert.deepEqual(
      [...new Set(rows.map((r) => r.generation))].sort(),
      [1, 3, 4],
      'generation 2 was destroyed, 1 and 3 are in grace, 4 is current',
    );

    // ingest-key purge: nothing is past its grace now; after a 0s rotation,
    // generation 4 is, and purge destroys it without waiting for a rotation.
    const none = await fleet.ops(['ingest-key', 'purge', '--tenant', TENANT]);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /no ingest key pair is past its grace period/);
    const sealedGen4 = await seal((await keysOf(a))[0]!, 'sealed under generation 4');
    assert.equal((await fleet.ops(['ingest-key', 'rotate', '--tenant', TENANT, '--grace', '0s'])).code, 0);
    const purged = await fleet.ops(['ingest-key', 'purge']);
    assert.equal(purged.code, 0, purged.stderr);
    assert.deepEqual(JSON.parse(purged.stdout), { tenant: TENANT, destroyed: 2 });
    assert.deepEqual(
      [...new Set((await b.daemon.store.listIngestKeys(TENANT)).map((r) => r.generation))].sort(),
      [1, 3, 5],
      'generation 4 destroyed by purge',
    );
    for (const d of [a, b]) {
      const r = await tokenizeSealed(d, sealedGen4);
      assert.equal(r.status, 400, r.text);
    }
  });

  it('bad --grace is a usage error', async () => {
    const r = await fleet.ops(['ingest-key', 'rotate', '--tenant', TENANT, '--grace', 'soon']);
    assert.equal(r.code, 2);
    const unknown = await fleet.ops(['ingest-key', 'rotate', '--tenant', 'nobody-here']);
    assert.notEqual(unknown.code, 0);
  });

  it('tenant shred destroys every ingest key: nothing sealed opens again', async () => {
    const [key] = await keysOf(a);
    const sealed = await seal(key!, 'sealed before the shred');
    const r = await fleet.ops(['tenant', 'shred', TENANT, '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await a.daemon.store.listIngestKeys(TENANT), []);
    for (const d of [a, b]) {
      const t = await tokenizeSealed(d, sealed);
      assert.ok(t.status >= 400 && t.status < 500, t.text);
      const k = await post(d.url, '/v1/ingest/keys', ork.ork, { tenant: TENANT });
      assert.ok(k.status >= 400 && k.status < 500, k.text);
    }
  });
});
