/**
 * Runbook "customer offboarding (crypto-shredding)" on a fleet
 * (docs/operations.md): `sidekey tenant shred` destroys every TEK version.
 * Every token of the tenant then fails with FAILED_PRECONDITION on every
 * sidecar (warm caches included), the wrapped key bytes are gone from the
 * database (the table and its file), other tenants are unaffected, and
 * `sidekey tenant purge` removes the token rows.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Fleet, postWithin, startFleet, until } from '../support/fleet.js';

let fleet: Fleet;
before(async () => {
  fleet = await startFleet();
});
after(async () => {
  await fleet?.destroy();
});

type Results = { results: { value?: string; error?: { code: string } }[] };

describe('tenant shred', () => {
  it('makes every token of the tenant FAILED_PRECONDITION everywhere, removes the key bytes, spares other tenants', async () => {
    await fleet.createTenant('leaving');
    await fleet.createTenant('staying');
    const leaving = await fleet.issueOrk('leaving');
    const staying = await fleet.issueOrk('staying');
    const rot = await fleet.ops(['rotate', 'tek', '--tenant', 'leaving', '--propagation-seconds', '0']);
    assert.equal(rot.code, 0, rot.stderr);
    const sidecars = [await fleet.startSidecar(), await fleet.startSidecar()];
    const tok = async (url: string, ork: string, tenant: string, values: string[]) => {
      const r = await postWithin(url, '/v1/tokenize', ork, { tenant, field: 'email', values }, 10_000);
      assert.equal(r.status, 200);
      return (r.body as { tokens: string[] }).tokens;
    };
    const leavingTokens = [
      ...(await tok(sidecars[0]!.url, leaving.ork, 'leaving', ['a@x.org', 'b@x.org'])),
      ...(await tok(sidecars[1]!.url, leaving.ork, 'leaving', ['c@x.org'])),
    ];
    const stayingValues = ['keep@y.org', 'also@y.org'];
    const stayingTokens = await tok(sidecars[0]!.url, staying.ork, 'staying', stayingValues);
    // Warm every cache: keys and records are held on both sidecars.
    for (const s of sidecars) {
      const d = await postWithin(
        s.url,
        '/v1/detokenize',
        leaving.ork,
        { tenant: 'leaving', tokens: leavingTokens },
        10_000,
      );
      assert.deepEqual(
        (d.body as Results).results.map((r) => r.value),
        ['a@x.org', 'b@x.org', 'c@x.org'],
      );
    }
    const keyBytes = await fleet.pg.adminQuery<{ wrapped_key: Buffer }>(
      `select wrapped_key from sidekey_tenant_keys where tenant = 'leaving'`,
    );
    assert.equal(keyBytes.length, 2);

    const unconfirmed = await fleet.ops(['tenant', 'shred', 'leaving']);
    assert.equal(unconfirmed.code, 2, 'not a terminal: --yes is required');
    assert.match(unconfirmed.stderr, /--yes/);
    const shred = await fleet.ops(['tenant', 'shred', 'leaving', '--yes']);
    assert.equal(shred.code, 0, shred.stderr);
    assert.match(shred.stderr, /version\(s\) 1, 2 destroyed/);

    for (const s of sidecars) {
      await until(
        'the shred reached the sidecar',
        async () => {
          const d = await postWithin(
            s.url,
            '/v1/detokenize',
            leaving.ork,
            { tenant: 'leaving', tokens: leavingTokens },
            5_000,
          );
          return (
            d.status === 200 &&
            (d.body as Results).results.every((r) => r.error?.code === 'FAILED_PRECONDITION')
          );
        },
        10_000,
      );
      const t = await postWithin(
        s.url,
        '/v1/tokenize',
        leaving.ork,
        { tenant: 'leaving', field: 'email', values: ['z'] },
        5_000,
      );
      assert.equal(t.status, 409);
      assert.equal(t.code, 'FAILED_PRECONDITION');
      const e = await postWithin(
        s.url,
        '/v1/encrypt',
        leaving.ork,
        { tenant: 'leaving', field: 'email', plaintexts: ['z'] },
        5_000,
      );
      assert.equal(e.code, 'FAILED_PRECONDITION');
      const other = await postWithin(
        s.url,
        '/v1/detokenize',
        staying.ork,
        { tenant: 'staying', tokens: stayingTokens },
        5_000,
      );
      assert.deepEqual(
        (other.body as Results).results.map((r) => r.value),
        stayingValues,
        'the other tenant is unaffected',
      );
    }

    // The wrapped key bytes are gone: from the rows, and from the table's file.
    const rows = await fleet.pg.adminQuery<{ state: string; wrapped_key: Buffer | null }>(
      `select state, wrapped_key from sidekey_tenant_keys where tenant = 'leaving'`,
    );
    assert.deepEqual(
      rows.map((r) => [r.state, r.wrapped_key]),
      [
        ['destroyed', null],
        ['destroyed', null],
      ],
    );
    await fleet.pg.adminQuery('checkpoint');
    const [rel] = await fleet.pg.adminQuery<{ path: string }>(
      `select pg_relation_filepath('sidekey_tenant_keys') as path`,
    );
    const file = readFileSync(join(fleet.pg.dataDir, rel!.path));
    for (const k of keyBytes)
      assert.equal(file.indexOf(k.wrapped_key), -1, 'the key bytes are not in the table file');
    assert.equal(
      (
        await fleet.pg.adminQuery(
          `select 1 from sidekey_tenant_keys where tenant = 'staying' and wrapped_key is not null`,
        )
      ).length,
      1,
    );

    assert.equal(
      (await fleet.ops(['rotate', 'tek', '--tenant', 'leaving'])).code,
      1,
      'no new key for a shredded tenant',
    );
    assert.equal((await fleet.ops(['ork', 'issue', '--tenant', 'leaving'])).code, 1);
    const twice = await fleet.ops(['tenant', 'shred', 'leaving', '--yes']);
    assert.equal(twice.code, 0);
    assert.match(twice.stderr, /already shredded/);

    assert.equal(
      (await fleet.ops(['tenant', 'purge', 'staying', '--yes'])).code,
      1,
      'only a shredded tenant',
    );
    const purge = await fleet.ops(['tenant', 'purge', 'leaving', '--yes']);
    assert.equal(purge.code, 0, purge.stderr);
    assert.match(purge.stderr, /deleted 3 token row/);
    const left = await fleet.pg.adminQuery(
      `select tenant, count(*)::int as n from sidekey_tokens group by tenant`,
    );
    assert.deepEqual(left, [{ tenant: 'staying', n: 2 }]);
    for (const s of sidecars) {
      await until(
        'purged rows forgotten',
        async () => {
          const d = await postWithin(
            s.url,
            '/v1/detokenize',
            leaving.ork,
            { tenant: 'leaving', tokens: leavingTokens },
            5_000,
          );
          return (d.body as Results).results.every((r) => r.error?.code === 'NOT_FOUND');
        },
        10_000,
      );
    }

    const audit = await fleet.pg.adminQuery<{ event: string }>(
      `select event from sidekey_audit_log where event like '%"tenant.%'`,
    );
    const ops = audit.map((a) => JSON.parse(a.event)).map((e) => `${e.operation}:${e.outcome}:${e.tenant}`);
    for (const want of [
      'tenant.shred:ok:leaving',
      'tenant.purge:ok:leaving',
      'tenant.purge:FAILED_PRECONDITION:staying',
    ])
      assert.ok(ops.includes(want), `${want} in ${ops}`);
  });
});
