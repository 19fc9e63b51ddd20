/**
 * Runbook "scheduled rotation" on a fleet (docs/operations.md): two sidecars
 * on one PostgreSQL serve a mixed tokenize/detokenize load while the
 * operator runs `sidekey rotate tek`. Zero failed requests; every token is
 * readable on every sidecar before and after; new tokens use the new version.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Fleet, postWithin, startFleet } from '../support/fleet.js';

let fleet: Fleet;
before(async () => {
  fleet = await startFleet();
});
after(async () => {
  await fleet?.destroy();
});

const TENANT = 'rot-acme';

describe('rotate tek while two sidecars serve', () => {
  it('fails no request and leaves every token readable everywhere', async () => {
    await fleet.createTenant(TENANT);
    const { ork } = await fleet.issueOrk(TENANT);
    const sidecars = [await fleet.startSidecar(), await fleet.startSidecar()];
    const urls = sidecars.map((s) => s.url);
    const issued = new Map<string, string>();
    const failures: string[] = [];
    let requests = 0;
    let stop = false;

    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const values = Array.from({ length: 5 }, (_, j) => `w${w}-r${i}-v${j}-ü✓`);
        const here = urls[(w + i) % 2]!;
        const there = urls[(w + i + 1) % 2]!;
        const t = await postWithin(
          here,
          '/v1/tokenize',
          ork,
          { tenant: TENANT, field: `f${w % 3}`, values },
          10_000,
        );
        requests++;
        if (t.status !== 200) {
          failures.push(`tokenize ${t.status} ${t.code}`);
          continue;
        }
        const tokens = (t.body as { tokens: string[] }).tokens;
        for (const [j, tok] of tokens.entries()) issued.set(tok, values[j]!);
        // Read back on the other sidecar, plus a few older tokens.
        const older = [...issued.keys()].slice(-20, -5);
        const ask = [...tokens, ...older];
        const d = await postWithin(there, '/v1/detokenize', ork, { tenant: TENANT, tokens: ask }, 10_000);
        requests++;
        if (d.status !== 200) {
          failures.push(`detokenize ${d.status} ${d.code}`);
          continue;
        }
        const results = (d.body as { results: { value?: string; error?: { code: string } }[] }).results;
        results.forEach((r, j) => {
          if (r.value !== issued.get(ask[j]!)) failures.push(`item ${r.error?.code ?? 'wrong value'}`);
        });
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(worker));
    await new Promise((r) => setTimeout(r, 1000));
    const before = issued.size;
    const rot = await fleet.ops([
      'rotate',
      'tek',
      '--tenant',
      TENANT,
      '--propagation-seconds',
      '2',
      '--json',
    ]);
    assert.equal(rot.code, 0, rot.stderr);
    assert.deepEqual(JSON.parse(rot.stdout), [
      { tenant: TENANT, action: 'rotated', primary: 2, previous: 1 },
    ]);
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await load;

    assert.deepEqual(failures, [], `${failures.length} of ${requests} requests failed`);
    assert.ok(before > 0 && issued.size > before, 'load ran before and after the rotation');

    const status = await fleet.ops(['keys', 'status', '--tenant', TENANT, '--json']);
    const rows = JSON.parse(status.stdout) as { version: number; state: string; records: number }[];
    assert.deepEqual(
      rows.map((r) => [r.version, r.state]),
      [
        [1, 'active'],
        [2, 'primary'],
      ],
    );
    assert.ok(rows[0]!.records > 0 && rows[1]!.records > 0, 'records under both versions');
    assert.equal(rows[0]!.records + rows[1]!.records, issued.size);

    // Every token, old version and new, on every sidecar.
    const all = [...issued.keys()];
    for (const url of urls) {
      for (let i = 0; i < all.length; i += 500) {
        const chunk = all.slice(i, i + 500);
        const d = await postWithin(url, '/v1/detokenize', ork, { tenant: TENANT, tokens: chunk }, 15_000);
        assert.equal(d.status, 200);
        const values = (d.body as { results: { value?: string }[] }).results.map((r) => r.value);
        assert.deepEqual(
          values,
          chunk.map((t) => issued.get(t)),
        );
      }
    }

    // A schedule (`--if-older-than`) leaves the young key alone.
    const again = await fleet.ops(['rotate', 'tek', '--all', '--if-older-than', '90d', '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(JSON.parse(again.stdout).every((o: { action: string }) => o.action === 'skipped'));
  });
});
