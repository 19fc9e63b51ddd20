/**
 * The ingest-key part of the store contract (issue 14), run by
 * runStoreContract on every adapter: first generation made once however
 * many sidecars race, rotation with grace and destruction, re-wrapping,
 * and shredding.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import type { NewIngestKey, Store } from '../../src/store/port.js';

const pairs = (tag: string): NewIngestKey[] =>
  (['xwing', 'x25519'] as const).map((suite) => ({
    keyId: `${suite}_${randomBytes(16).toString('base64url')}`,
    suite,
    publicKey: Buffer.from(`${tag}-${suite}`),
    kekRef: 'local:1',
    wrapped: randomBytes(60),
  }));

export function ingestKeysContract(store: () => Store, newTenant: () => Promise<string>): void {
  it('ingest keys: racing first generations end with one set; unknown tenants get none', async () => {
    const s = store();
    const tenant = await newTenant();
    const results = await Promise.all(
      [pairs('a'), pairs('b'), pairs('c')].map((k) => s.createFirstIngestKeys(tenant, k)),
    );
    assert.deepEqual(results, [true, true, true]);
    const rows = await s.listIngestKeys(tenant);
    assert.equal(rows.length, 2);
    assert.equal(new Set(rows.map((r) => r.publicKey.toString().split('-')[0])).size, 1, 'one creator won');
    assert.deepEqual(
      rows.map((r) => [r.generation, r.retireAt]),
      [
        [1, null],
        [1, null],
      ],
    );
    assert.equal(await s.createFirstIngestKeys('no-such-tenant-x', pairs('d')), false);
    assert.equal(await s.rotateIngestKeys('no-such-tenant-x', pairs('d'), 60), undefined);
  });

  it('ingest keys: rotation retires the current pairs after the grace, destroys expired ones, re-wraps, shreds', async () => {
    const s = store();
    const tenant = await newTenant();
    await s.createFirstIngestKeys(tenant, pairs('g1'));
    assert.deepEqual(await s.rotateIngestKeys(tenant, pairs('g2'), 0), { generation: 2, destroyed: 0 });
    let rows = await s.listIngestKeys(tenant);
    assert.deepEqual(
      rows.map((r) => r.generation),
      [2, 2, 1, 1],
    );
    assert.ok(rows.filter((r) => r.generation === 1).every((r) => r.retireAt !== null));
    assert.ok(rows.filter((r) => r.generation === 2).every((r) => r.retireAt === null));
    // Generation 1's grace (0 s) has passed: the next rotation destroys it.
    assert.deepEqual(await s.rotateIngestKeys(tenant, pairs('g3'), 3600), { generation: 3, destroyed: 2 });
    rows = await s.listIngestKeys(tenant);
    assert.deepEqual(
      rows.map((r) => r.generation),
      [3, 3, 2, 2],
    );
    const g2 = rows.find((r) => r.generation === 2)!;
    assert.ok(g2.retireAt !== null && g2.retireAt.getTime() > Date.now() + 3_000_000);

    const listed = await s.listIngestKeysNotUnder('local:2', undefined, 100);
    assert.ok(listed.some((r) => r.keyId === g2.keyId));
    const from = { kekRef: g2.kekRef, wrapped: g2.wrapped };
    const to = { kekRef: 'local:2', wrapped: randomBytes(60) };
    assert.equal(await s.rewrapIngestKey(tenant, g2.keyId, from, to), true);
    assert.equal(await s.rewrapIngestKey(tenant, g2.keyId, from, to), false, 'optimistic: the row changed');
    assert.equal((await s.listIngestKeys(tenant)).find((r) => r.keyId === g2.keyId)?.kekRef, 'local:2');

    // ingest-key purge: nothing past its grace yet (g2 has an hour); after a
    // rotation with grace 0, generation 3 is, and only it goes (this tenant's).
    assert.deepEqual(await s.destroyExpiredIngestKeys(tenant), []);
    await s.rotateIngestKeys(tenant, pairs('g4'), 0);
    const other = await newTenant();
    await s.createFirstIngestKeys(other, pairs('o1'));
    await s.rotateIngestKeys(other, pairs('o2'), 0);
    assert.deepEqual(await s.destroyExpiredIngestKeys(tenant), [{ tenant, destroyed: 2 }]);
    assert.deepEqual(
      (await s.listIngestKeys(tenant)).map((r) => r.generation),
      [4, 4, 2, 2],
    );
    assert.equal((await s.listIngestKeys(other)).length, 4, 'another tenant is untouched');
    const everywhere = await s.destroyExpiredIngestKeys();
    assert.deepEqual(
      everywhere.filter((x) => x.tenant === other),
      [{ tenant: other, destroyed: 2 }],
    );
    assert.deepEqual(await s.destroyExpiredIngestKeys(other), [], 'idempotent');

    assert.ok((await s.shredTenant(tenant)) !== undefined);
    assert.deepEqual(await s.listIngestKeys(tenant), []);
    assert.equal(await s.createFirstIngestKeys(tenant, pairs('after')), false);
    assert.equal(await s.rotateIngestKeys(tenant, pairs('after'), 0), undefined);
  });
}
