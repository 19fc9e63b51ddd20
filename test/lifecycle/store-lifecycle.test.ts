/**
 * The store's lifecycle operations on their own (embedded store, same SQL as
 * postgres): the optimistic record replacement never resurrects a deleted
 * record nor applies twice, and key state transitions refuse what they must.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { openEmbeddedStore, type Store } from '../../src/store/index.js';
import { freshDataDir } from '../support/daemon.js';

let store: Store;
let dir: string;
before(async () => {
  dir = await freshDataDir();
  store = await openEmbeddedStore(dir);
  await store.migrate();
});
after(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const key = { kekRef: 'local:test', wrapped: Buffer.from('wrapped-bytes') };
const ORK_A = 'a'.repeat(32);
const ORK_B = 'b'.repeat(32);

describe('store lifecycle operations', () => {
  it('replaces a record only if it is unchanged; a deleted record stays deleted', async () => {
    await store.createTenant('s1', key);
    const row = {
      token: 'tok_AAAAAAAAAAAAAAAAAAAAAA',
      tenant: 's1',
      field: 'f',
      orkId: ORK_A,
      tekVersion: 1,
    };
    await store.write({ tokens: [{ ...row, envelope: Buffer.from('old') }], audit: [] });
    const from = { orkId: ORK_A, tekVersion: 1, envelope: Buffer.from('old') };
    const to = { orkId: ORK_B, tekVersion: 2, envelope: Buffer.from('new') };
    const wrong = { ...from, envelope: Buffer.from('other') };
    assert.equal(await store.replaceTokenEnvelopes('s1', [{ token: row.token, from: wrong, to }]), 0);
    assert.equal(
      await store.replaceTokenEnvelopes('s2', [{ token: row.token, from, to }]),
      0,
      'another tenant',
    );
    assert.equal(await store.replaceTokenEnvelopes('s1', [{ token: row.token, from, to }]), 1);
    assert.equal(
      await store.replaceTokenEnvelopes('s1', [
        { token: row.token, from, to: { ...to, envelope: Buffer.from('x') } },
      ]),
      0,
      'never twice',
    );
    const [now] = await store.getTokens([row.token]);
    assert.deepEqual([now!.orkId, now!.tekVersion, now!.envelope.toString()], [ORK_B, 2, 'new']);
    assert.equal(await store.deleteTokens('s1', ORK_B, [row.token]), 1);
    assert.equal(await store.replaceTokenEnvelopes('s1', [{ token: row.token, from: to, to: from }]), 0);
    assert.deepEqual(await store.getTokens([row.token]), [], 'not resurrected');
  });

  it('adds, promotes, retires and shreds key versions, refusing what it must', async () => {
    await store.createTenant('k1', key);
    assert.equal(await store.addTekVersion('k1', 2, key), true);
    assert.equal(await store.addTekVersion('k1', 2, key), false, 'a version once');
    assert.equal(await store.promoteTekVersion('k1', 3), false, 'unknown');
    assert.equal(await store.promoteTekVersion('k1', 2), true);
    assert.equal(await store.promoteTekVersion('k1', 2), false, 'already primary');
    const states = async () => (await store.getTenantKeys('k1')).map((k) => [k.version, k.state]);
    assert.deepEqual(await states(), [
      [1, 'active'],
      [2, 'primary'],
    ]);
    await store.write({
      tokens: [
        {
          token: 'tok_BBBBBBBBBBBBBBBBBBBBBB',
          tenant: 'k1',
          field: 'f',
          orkId: ORK_A,
          tekVersion: 1,
          envelope: Buffer.from('e'),
        },
      ],
      audit: [],
    });
    assert.deepEqual(await store.retireTekVersions('k1', 2, false), { retired: [], blockingRecords: 1 });
    assert.deepEqual(
      await store.retireTekVersions('k1', 3, true),
      { retired: [1], blockingRecords: 1 },
      'never the primary',
    );
    assert.deepEqual(await states(), [
      [1, 'retired'],
      [2, 'primary'],
    ]);
    assert.deepEqual(await store.recordCounts('k1'), [
      { tenant: 'k1', version: 1, orkId: ORK_A, records: 1 },
    ]);
    assert.equal(await store.purgeTenantTokens('k1', 10), 0, 'not shredded: nothing purged');
    assert.deepEqual(await store.shredTenant('k1'), [1, 2]);
    assert.deepEqual(await store.shredTenant('k1'), [], 'idempotent');
    assert.equal(await store.shredTenant('nobody'), undefined);
    assert.ok((await store.getTenantKeys('k1')).every((k) => k.state === 'destroyed' && k.wrapped === null));
    assert.equal(await store.addTekVersion('k1', 3, key), false, 'no key for a shredded tenant');
    await store.compactTenantKeys();
    assert.equal(await store.purgeTenantTokens('k1', 10), 1);
  });

  it('records one replacement per ORK', async () => {
    await store.createTenant('o1', key);
    await store.insertOrk({ tenant: 'o1', orkId: ORK_A, label: '', fingerprint: 'f' });
    assert.equal(await store.getOrkReplacement('o1', ORK_A), undefined);
    const r = await store.beginOrkReplacement('o1', ORK_A, ORK_B);
    assert.deepEqual([r.toOrkId, r.finishedAt], [ORK_B, null]);
    const again = await store.beginOrkReplacement('o1', ORK_A, 'c'.repeat(32));
    assert.equal(again.toOrkId, ORK_B, 'the first replacement stays in force');
    await store.finishOrkReplacement('o1', ORK_A);
    assert.ok((await store.getOrkReplacement('o1', ORK_A))?.finishedAt instanceof Date);
  });
});
