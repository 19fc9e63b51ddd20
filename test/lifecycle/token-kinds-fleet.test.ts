/**
 * Token kinds on a fleet (issue 11, API.md "Token kinds"): two sidecars on
 * the real PostgreSQL (TLS, client certificates), policies set with the real
 * CLI. Deterministic and fpe tokens are the same on every sidecar and stay
 * the same through `rotate tek`, `reencrypt`, `ork rotate` and a new sidecar
 * (`rotate kek` and `ork reissue`: test/kms/rotate-kek.test.ts); a policy
 * change racing tokenizations fails no request; `tenant shred` leaves no kind
 * readable.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeOrkString } from '../../src/crypto/index.js';
import type { TestDaemon } from '../support/daemon.js';
import { type Fleet, postWithin, startFleet, until } from '../support/fleet.js';

const TENANT = 'kinds';
const TIMEOUT = 10_000;
let fleet: Fleet;
let sidecars: TestDaemon[];
let orkA: string;
let orkB: string;
const dir = mkdtempSync(join(tmpdir(), 'sidekey-kinds-'));

const EMAILS = ['ada@kinds.example', 'bob@kinds.example', 'ada@kinds.example'];
const CARDS = ['4111-1111-1111-1111', '5500 0000 0000 0004'];

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies
async function ok(url: string, path: string, ork: string, body: object): Promise<any> {
  const r = await postWithin(url, path, ork, body, TIMEOUT);
  assert.equal(r.status, 200, `${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}
const tokens = async (url: string, ork: string, field: string, values: string[]): Promise<string[]> =>
  (await ok(url, '/v1/tokenize', ork, { tenant: TENANT, field, values })).tokens;
const reveal = async (url: string, ork: string, toks: string[], field?: string): Promise<unknown[]> =>
  (await ok(url, '/v1/detokenize', ork, { tenant: TENANT, tokens: toks, ...(field && { field }) })).results;
const ops = async (args: string[]) => {
  const r = await fleet.ops(args);
  assert.equal(r.code, 0, `sidekey ${args.join(' ')}: ${r.stderr}`);
  return r;
};
const records = async (kind: string) =>
  Number(
    (
      await fleet.pg.adminQuery<{ n: string }>(
        `select count(*) as n from sidekey_tokens where tenant = '${TENANT}' and kind = '${kind}'`,
      )
    )[0]?.n,
  );

before(async () => {
  fleet = await startFleet();
  await fleet.createTenant(TENANT);
  orkA = (await fleet.issueOrk(TENANT, 'org a')).ork;
  orkB = (await fleet.issueOrk(TENANT, 'org b')).ork;
  await ops(['policy', 'set', '--tenant', TENANT, '--field', 'email', '--kind', 'deterministic']);
  await ops([
    'policy',
    'set',
    '--tenant',
    TENANT,
    '--field',
    'card',
    '--kind',
    'fpe',
    '--keep-prefix',
    '6',
    '--keep-suffix',
    '4',
  ]);
  sidecars = [await fleet.startSidecar(), await fleet.startSidecar()];
});
after(async () => {
  await fleet?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('token kinds on two sidecars over PostgreSQL', () => {
  let emailTokens: string[];
  let cardTokens: string[];

  it('deterministic and fpe tokens are the same on every sidecar; another organisation gets others; no second record', async () => {
    const [s1, s2] = sidecars;
    emailTokens = await tokens(s1!.url, orkA, 'email', EMAILS);
    assert.equal(emailTokens[0], emailTokens[2], 'the same value twice in one batch');
    assert.notEqual(emailTokens[0], emailTokens[1]);
    assert.deepEqual(await tokens(s2!.url, orkA, 'email', EMAILS), emailTokens);
    assert.equal(await records('deterministic'), 2, 'one record per distinct value');
    const other = await tokens(s2!.url, orkB, 'email', EMAILS);
    assert.ok(
      other.every((t) => !emailTokens.includes(t)),
      'another organisation, other tokens',
    );
    assert.equal(await records('deterministic'), 4);

    cardTokens = await tokens(s1!.url, orkA, 'card', CARDS);
    assert.match(cardTokens[0]!, /^4111-11\d\d-\d{4}-1111$/);
    assert.match(cardTokens[1]!, /^5500 00\d\d \d{4} 0004$/);
    assert.deepEqual(await tokens(s2!.url, orkA, 'card', CARDS), cardTokens);
    assert.equal(await records('fpe'), 2);
    // The database holds neither the fpe token nor the value: records are keyed by a storage id.
    const stored = await fleet.pg.adminQuery<{ token: string }>(
      `select token from sidekey_tokens where kind = 'fpe'`,
    );
    assert.ok(stored.every((r) => /^fpe_[A-Za-z0-9_-]{22}$/.test(r.token)));

    assert.deepEqual(
      await reveal(s2!.url, orkA, emailTokens),
      EMAILS.map((value) => ({ value })),
    );
    assert.deepEqual(
      await reveal(s2!.url, orkA, cardTokens, 'card'),
      CARDS.map((value) => ({ value })),
    );
    // Another organisation of the tenant cannot read them.
    const foreign = (await reveal(s1!.url, orkB, cardTokens, 'card')) as { error?: { code: string } }[];
    assert.ok(foreign.every((r) => r.error?.code === 'NOT_FOUND'));
  });

  it('a policy change racing tokenizations on two sidecars fails no request; once every sidecar acknowledged it, no token of the old kind', async () => {
    const value = 'race@kinds.example';
    const failures: string[] = [];
    const seen: { sidecar: number; token: string; started: number }[] = [];
    let stop = false;
    const worker = async (i: number) => {
      while (!stop) {
        const started = Date.now();
        const r = await postWithin(
          sidecars[i]!.url,
          '/v1/tokenize',
          orkA,
          { tenant: TENANT, field: 'switch', values: [value] },
          TIMEOUT,
        );
        if (r.status !== 200) failures.push(`${r.status} ${JSON.stringify(r.body)}`);
        else seen.push({ sidecar: i, token: (r.body as { tokens: string[] }).tokens[0]!, started });
      }
    };
    const load = Promise.all([worker(0), worker(1), worker(0), worker(1)]);
    let acknowledged = 0;
    let changing = 0;
    try {
      await until('traffic', () => seen.length > 20);
      changing = Date.now();
      const set = await ops([
        'policy',
        'set',
        '--tenant',
        TENANT,
        '--field',
        'switch',
        '--kind',
        'deterministic',
      ]);
      // The command returns once every live sidecar has applied the change (issue 16).
      assert.match(set.stderr, /policy of field switch applied by 2 of 2 sidecars/);
      acknowledged = Date.now();
      await until('traffic after the change', () => seen.filter((s) => s.started > acknowledged).length > 40);
    } finally {
      stop = true;
      await load;
    }
    assert.deepEqual(failures, []);
    const before = new Set(seen.filter((s) => s.started < changing).map((s) => s.token));
    assert.ok(before.size > 1, 'random tokens before the change');
    const after = seen.filter((s) => s.started > acknowledged);
    assert.ok(after.some((s) => s.sidecar === 0) && after.some((s) => s.sidecar === 1));
    assert.equal(
      new Set(after.map((s) => s.token)).size,
      1,
      'after the acknowledgement, only the deterministic token',
    );
  });

  it('tokens stay the same through rotate tek, reencrypt, ork rotate and a new sidecar', async () => {
    const orkFile = join(dir, 'a.ork');
    writeFileSync(orkFile, `${orkA}\n`, { mode: 0o600 });
    const check = async (url: string, ork: string, what: string) => {
      assert.deepEqual(await tokens(url, ork, 'email', EMAILS), emailTokens, `email tokens after ${what}`);
      assert.deepEqual(await tokens(url, ork, 'card', CARDS), cardTokens, `card tokens after ${what}`);
      assert.deepEqual(
        await reveal(url, ork, emailTokens),
        EMAILS.map((value) => ({ value })),
        what,
      );
      assert.deepEqual(
        await reveal(url, ork, cardTokens, 'card'),
        CARDS.map((value) => ({ value })),
        what,
      );
    };
    await ops(['rotate', 'tek', '--tenant', TENANT, '--propagation-seconds', '1']);
    await until('the new TEK version on both sidecars', async () => {
      // A value never seen before is sealed under the primary version; both sidecars must agree on it.
      const t = await tokens(sidecars[1]!.url, orkA, 'email', [`probe-${Date.now()}@kinds.example`]);
      const [row] = await fleet.pg.adminQuery<{ v: number }>(
        `select tek_version as v from sidekey_tokens where token = '${t[0]}'`,
      );
      return row?.v === 2;
    });
    for (const s of sidecars) await check(s.url, orkA, 'rotate tek');
    await ops(['reencrypt', '--tenant', TENANT, '--ork-file', orkFile]);
    const [left] = await fleet.pg.adminQuery<{ n: string }>(
      `select count(*) as n from sidekey_tokens
        where tenant = '${TENANT}' and tek_version = 1 and kind <> 'random' and ork_id = '${decodeOrkString(orkA)!.orkId}'`,
    );
    assert.equal(Number(left?.n), 0, "reencrypt moved the ORK's deterministic and fpe records");
    for (const s of sidecars) await check(s.url, orkA, 'reencrypt');

    const newFile = join(dir, 'a2.ork');
    await ops(['ork', 'rotate', '--tenant', TENANT, '--from-file', orkFile, '--new-ork-file', newFile]);
    const orkA2 = readFileSync(newFile, 'utf8').trim();
    for (const s of sidecars) await check(s.url, orkA2, 'ork rotate');
    const fresh = await fleet.startSidecar();
    await check(fresh.url, orkA2, 'ork rotate, on a new sidecar');
    // Organisation B is untouched and still another lineage.
    const other = await tokens(fresh.url, orkB, 'email', EMAILS);
    assert.ok(other.every((t) => !emailTokens.includes(t)));
  });

  it('keys status counts records per kind; an fpe field keeps its format while it has fpe tokens', async () => {
    const status = JSON.parse((await ops(['keys', 'status', '--tenant', TENANT, '--json'])).stdout) as {
      recordsByKind: Record<string, number>;
    }[];
    const total = (kind: string) => status.reduce((n, v) => n + (v.recordsByKind[kind] ?? 0), 0);
    assert.equal(total('fpe'), await records('fpe'));
    assert.equal(total('deterministic'), await records('deterministic'));
    assert.equal(total('random'), await records('random'));
    assert.ok(total('random') > 0 && total('deterministic') > 0 && total('fpe') > 0);

    const refused = await fleet.ops([
      'policy',
      'set',
      '--tenant',
      TENANT,
      '--field',
      'card',
      '--keep-prefix',
      '4',
    ]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /cannot change once it has fpe tokens/);
    const policy = JSON.parse(
      (await ops(['policy', 'get', '--tenant', TENANT, '--field', 'card', '--json'])).stdout,
    );
    assert.equal(policy.keepPrefix, 6, 'policy unchanged');
    // The same format is fine (a mask change, say).
    await ops(['policy', 'set', '--tenant', TENANT, '--field', 'card', '--mask', 'last4']);
  });

  it('tenant shred: no token of any kind can be read or made again', async () => {
    await ops(['tenant', 'shred', TENANT, '--yes']);
    const s = sidecars[0]!;
    await until('the shred to reach the sidecar', async () => {
      const r = await postWithin(
        s.url,
        '/v1/tokenize',
        orkB,
        { tenant: TENANT, field: 'email', values: ['x'] },
        TIMEOUT,
      );
      return r.status !== 200;
    });
    for (const [field, toks] of [
      [undefined, emailTokens],
      ['card', cardTokens],
    ] as const) {
      const r = await postWithin(
        s.url,
        '/v1/detokenize',
        orkB,
        { tenant: TENANT, tokens: toks, ...(field && { field }) },
        TIMEOUT,
      );
      const values = JSON.stringify(r.body);
      for (const v of [...EMAILS, ...CARDS])
        assert.ok(!values.includes(v), 'a value came back after the shred');
    }
    const [trk] = await fleet.pg.adminQuery<{ state: string; wrapped: unknown }>(
      `select state, wrapped_key as wrapped from sidekey_token_keys where tenant = '${TENANT}'`,
    );
    assert.deepEqual(trk, { state: 'destroyed', wrapped: null }, 'the token root key bytes are gone');
  });
});
