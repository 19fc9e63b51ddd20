/**
 * Two sidecar processes on one PostgreSQL (issue 3, DESIGN.md "Fleet"): a
 * token written by one is readable by the other; a token deleted through one
 * is gone on the other even though it had the record cached; and
 * `sidekey ork revoke` makes both refuse that ORK within 2 seconds although
 * both had it cached. The 2 s is the deadline of the specification, not a
 * benchmark: the announcement (NOTIFY) must make it, not the cache TTL
 * (60 s by default).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Fleet, postWithin, type SpawnedSidecar, startFleet, until } from '../support/fleet.js';

const TENANT = 'fleet';
// The one time a test asserts: issue 3 specifies it as behaviour ("both refuse that ORK
// within 2 seconds"). Measured values are 6–30 ms, far inside it; see docs/performance.md.
const REVOCATION_DEADLINE_MS = 2_000;
const REQUEST_TIMEOUT_MS = 5_000;

let fleet: Fleet;
let a: SpawnedSidecar;
let b: SpawnedSidecar;
let ork: { ork: string; orkId: string };
let otherOrk: { ork: string; orkId: string };
const secrets: string[] = [];

before(async () => {
  fleet = await startFleet();
  await fleet.createTenant(TENANT);
  ork = await fleet.issueOrk(TENANT, 'app');
  otherOrk = await fleet.issueOrk(TENANT, 'other app');
  secrets.push(ork.ork, otherOrk.ork);
  [a, b] = await Promise.all([fleet.spawnSidecar(), fleet.spawnSidecar()]);
});
after(async () => {
  await fleet?.destroy();
  // No value and no ORK in either process's output.
  for (const s of [a, b]) {
    if (s === undefined) continue;
    for (const secret of secrets) {
      assert.ok(
        !s.child.stdout.includes(secret) && !s.child.stderr.includes(secret),
        'a secret reached a log',
      );
    }
  }
});

const remember = (v: string) => {
  secrets.push(v);
  return v;
};
const tokenize = (s: SpawnedSidecar, values: string[], key = ork.ork) =>
  postWithin(s.url, '/v1/tokenize', key, { tenant: TENANT, field: 'email', values }, REQUEST_TIMEOUT_MS);
const detokenize = (s: SpawnedSidecar, tokens: string[], key = ork.ork) =>
  postWithin(s.url, '/v1/detokenize', key, { tenant: TENANT, tokens }, REQUEST_TIMEOUT_MS);
const tokensOf = (r: { body: unknown }) => (r.body as { tokens: string[] }).tokens;
const resultsOf = (r: { body: unknown }) =>
  (r.body as { results: ({ value: string } | { error: { code: string } })[] }).results;

describe('two sidecar processes on one PostgreSQL', () => {
  it('a token written by one is readable by the other', async () => {
    const values = [remember('ana@fleet.example'), remember('bert@fleet.example')];
    const t = await tokenize(a, values);
    assert.equal(t.status, 200, JSON.stringify(t.body));
    const r = await detokenize(b, tokensOf(t));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      resultsOf(r),
      values.map((value) => ({ value })),
    );
    // And the other way round.
    const t2 = await tokenize(b, [remember('cleo@fleet.example')]);
    assert.deepEqual(resultsOf(await detokenize(a, tokensOf(t2))), [{ value: 'cleo@fleet.example' }]);
  });

  it('a token deleted through one is NOT_FOUND on the other, which had it cached', async (t) => {
    const token = tokensOf(await tokenize(a, [remember('dora@fleet.example')]))[0]!;
    // B reads it, so B now holds the record in its cache.
    assert.deepEqual(resultsOf(await detokenize(b, [token])), [{ value: 'dora@fleet.example' }]);
    const del = await postWithin(
      a.url,
      '/v1/tokens/delete',
      ork.ork,
      { tenant: TENANT, tokens: [token] },
      REQUEST_TIMEOUT_MS,
    );
    assert.equal(del.status, 200);
    assert.deepEqual(del.body, { deleted: 1 });
    // Announced in the deleting transaction; B drops the record when it hears of it.
    let answers = 0;
    const elapsed = await until(
      'the deletion to reach the other sidecar',
      async () => {
        answers++;
        const r = await detokenize(b, [token]);
        assert.equal(r.status, 200);
        const [item] = resultsOf(r);
        if (item !== undefined && 'value' in item) return false;
        assert.equal(item?.error.code, 'NOT_FOUND');
        return true;
      },
      REVOCATION_DEADLINE_MS,
      10,
    );
    t.diagnostic(`NOT_FOUND on the other sidecar after ${elapsed} ms (${answers} request(s))`);
    assert.ok(elapsed < REVOCATION_DEADLINE_MS);
  });

  it('`sidekey ork revoke` makes both refuse that ORK within 2 seconds', async (t) => {
    // Both have the ORK (and the tenant key) cached.
    for (const s of [a, b]) {
      const r = await tokenize(s, [remember('eve@fleet.example')]);
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    await fleet.revokeOrk(TENANT, ork.orkId);
    const revokedAt = Date.now();
    const refusedAfter = await Promise.all(
      [a, b].map(async (s) => {
        await until(
          'the revoked ORK to be refused',
          async () => {
            const r = await tokenize(s, ['x']);
            if (r.status === 200) return false;
            assert.equal(r.status, 401, JSON.stringify(r.body));
            assert.equal(r.code, 'UNAUTHENTICATED');
            return true;
          },
          10_000,
          20,
        );
        return Date.now() - revokedAt;
      }),
    );
    t.diagnostic(`refused by A after ${refusedAfter[0]} ms, by B after ${refusedAfter[1]} ms`);
    for (const ms of refusedAfter) assert.ok(ms < REVOCATION_DEADLINE_MS, `refused after ${ms} ms`);

    // Refused for every operation, on both; the tenant's other ORK still works everywhere.
    for (const s of [a, b]) {
      const r = await detokenize(s, ['tok_AAAAAAAAAAAAAAAAAAAAAA']);
      assert.equal(r.status, 401);
      assert.equal(r.code, 'UNAUTHENTICATED');
      const other = await tokenize(s, [remember('finn@fleet.example')], otherOrk.ork);
      assert.equal(other.status, 200, JSON.stringify(other.body));
    }
  });
});

describe('key events racing with key loads', () => {
  // Keyring.clear() — run on every (re)connection of the key event listener —
  // and invalidateTenant() abort a read of the tenant's key rows in flight;
  // the keyring reads again instead of failing the call. Forced here by
  // announcing "forget every key" while the tenant's keys are being read.
  it('a call whose tenant keys are loading when the keys are cleared still succeeds', async () => {
    const d = await fleet.startSidecar();
    const store = d.daemon.store as { getTenantKeys(tenant: string): Promise<unknown> };
    const getTenantKeys = store.getTenantKeys.bind(store);
    let cleared = 0;
    store.getTenantKeys = async (tenant) => {
      const rows = await getTenantKeys(tenant);
      if (cleared++ === 0) d.daemon.keyring.clear();
      return rows;
    };
    try {
      const r = await postWithin(
        d.url,
        '/v1/tokenize',
        otherOrk.ork,
        { tenant: TENANT, field: 'email', values: ['x'] },
        REQUEST_TIMEOUT_MS,
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.ok(cleared >= 2, 'the keys were read again after the clear');
    } finally {
      store.getTenantKeys = getTenantKeys;
      await d.stop();
    }
  });
});
