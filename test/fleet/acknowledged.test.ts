/**
 * Acknowledged propagation on a 5-sidecar fleet over the real PostgreSQL
 * (docs/operations.md "Acknowledged waits"): four in-process sidecars and
 * one `sidekey serve` process (the one that can be frozen with SIGSTOP).
 *
 * - `rotate tek`, `ork revoke` and `tenant shred` return once all five have
 *   acknowledged, without the TTL fallback;
 * - with one sidecar frozen, `rotate tek` waits the cache TTL for that one
 *   alone and names it; `fleet status` shows it stale, the others live.
 *
 * Short settings keep it lean: 1 s heartbeats, an 8 s key cache TTL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestDaemon } from '../support/daemon.js';
import { type Fleet, type SpawnedSidecar, startFleet, until } from '../support/fleet.js';

const SETTINGS = {
  SIDEKEY_FLEET_HEARTBEAT_SECONDS: '1',
  SIDEKEY_TEK_CACHE_TTL_SECONDS: '8',
  SIDEKEY_ORK_CACHE_TTL_SECONDS: '8',
};

let fleet: Fleet;
let inProcess: TestDaemon[];
let frozen: SpawnedSidecar;
let frozenId: string;

interface StatusRow {
  id: string;
  state: string;
  appliedChange: number;
  version: string;
  upToDate: boolean;
}
async function status(): Promise<{ latestChange: { changeId: number } | null; sidecars: StatusRow[] }> {
  const r = await fleet.ops(['fleet', 'status', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

before(async () => {
  fleet = await startFleet();
  inProcess = [];
  for (let i = 0; i < 4; i++) inProcess.push(await fleet.startSidecar(SETTINGS));
  frozen = await fleet.spawnSidecar(SETTINGS);
  const chain = /"chain":"([0-9a-f]{32})"/.exec(frozen.child.stdout)?.[1];
  assert.ok(chain !== undefined, 'the spawned sidecar logs its audit chain id (its sidecar id)');
  frozenId = chain;
  await until('five live sidecars in the registry', async () => {
    const s = await status();
    return s.sidecars.filter((x) => x.state === 'live').length === 5;
  });
});
after(async () => {
  if (frozen !== undefined && frozen.child.proc.exitCode === null) frozen.child.proc.kill('SIGCONT');
  await fleet?.destroy();
});

describe('acknowledged propagation', () => {
  it('rotate tek, ork revoke and tenant shred return once all five sidecars have applied the change', async () => {
    await fleet.createTenant('ack-a');
    await fleet.createTenant('ack-b');
    const { orkId } = await fleet.issueOrk('ack-a');

    const rot = await fleet.ops(['rotate', 'tek', '--tenant', 'ack-a', '--json']);
    assert.equal(rot.code, 0, rot.stderr);
    assert.match(rot.stderr, /tenant ack-a: new TEK version applied by 5 of 5 sidecars/);
    assert.match(rot.stderr, /new primary TEK version applied by 5 of 5 sidecars/);
    assert.doesNotMatch(rot.stderr, /did not answer|do not answer/);
    assert.deepEqual(JSON.parse(rot.stdout), [
      { tenant: 'ack-a', action: 'rotated', primary: 2, previous: 1 },
    ]);

    const rev = await fleet.ops(['ork', 'revoke', '--tenant', 'ack-a', orkId]);
    assert.equal(rev.code, 0, rev.stderr);
    assert.match(rev.stderr, /revocation of ORK [0-9a-f]{32} applied by 5 of 5 sidecars/);

    const shred = await fleet.ops(['tenant', 'shred', 'ack-b', '--yes']);
    assert.equal(shred.code, 0, shred.stderr);
    assert.match(shred.stderr, /tenant ack-b: shred applied by 5 of 5 sidecars/);

    // Every sidecar is up to date with the newest change, and exports it.
    const s = await status();
    assert.ok(s.latestChange, 'a newest change is shown');
    assert.deepEqual(
      s.sidecars.map((x) => [x.state, x.appliedChange]),
      Array.from({ length: 5 }, () => ['live', s.latestChange!.changeId]),
    );
    const metrics = await (await fetch(`${inProcess[0]!.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`^sidekey_fleet_change_applied ${s.latestChange.changeId}$`, 'm'));
    assert.match(metrics, /^sidekey_fleet_listener_connected 1$/m);
    assert.match(metrics, /^sidekey_fleet_change_lag_seconds_count [1-9]/m);
  });

  it('waits the cache TTL only for a frozen sidecar, names it, and fleet status shows it stale', async () => {
    await fleet.createTenant('ack-c');
    frozen.child.proc.kill('SIGSTOP');
    try {
      const rot = await fleet.ops(['rotate', 'tek', '--tenant', 'ack-c']);
      assert.equal(rot.code, 0, rot.stderr);
      const short = frozenId.slice(0, 12);
      assert.match(
        rot.stderr,
        new RegExp(
          `waiting up to \\d+ s \\(their key cache TTL\\) for 1 sidecar\\(s\\) that do not answer: ${short}`,
        ),
      );
      assert.match(
        rot.stderr,
        new RegExp(
          `new TEK version applied by 4 of 5 sidecars; waited the cache TTL for 1 that did not answer: ${short}`,
        ),
      );

      const s = await status();
      const byId = new Map(s.sidecars.map((x) => [x.id, x]));
      assert.equal(byId.get(frozenId)?.state, 'stale');
      assert.equal(byId.get(frozenId)?.upToDate, false);
      assert.deepEqual(
        s.sidecars.filter((x) => x.id !== frozenId).map((x) => [x.state, x.upToDate]),
        Array.from({ length: 4 }, () => ['live', true]),
      );
      const table = await fleet.ops(['fleet', 'status']);
      assert.match(table.stdout, new RegExp(`^${short} .* stale `, 'm'));
      assert.match(table.stderr, /5 sidecar\(s\): 4 live, 1 stale, 0 stopped/);
    } finally {
      frozen.child.proc.kill('SIGCONT');
    }
    // Thawed, it catches up with the next heartbeat and the next change.
    await until('the thawed sidecar is live again', async () => {
      const s = await status();
      return s.sidecars.find((x) => x.id === frozenId)?.state === 'live';
    });
  });
});
