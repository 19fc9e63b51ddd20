/**
 * `sidekey reencrypt` racing live traffic on a fleet: while it runs,
 * sidecars delete some of its records, tokenize new ones, and a "stale"
 * writer (a sidecar that has not yet heard of the rotation, simulated with a
 * sidecar's own keyring) keeps adding records under the old version. No
 * deleted token is resurrected, no new token is missed, every live token is
 * on the new version and returns its value on every sidecar.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newToken, sealRecord, systemRandom, zeroize } from '../../src/crypto/index.js';
import type { TokenRow } from '../../src/store/index.js';
import { type Fleet, postWithin, startFleet } from '../support/fleet.js';

let fleet: Fleet;
const dir = mkdtempSync(join(tmpdir(), 'sidekey-race-'));
before(async () => {
  fleet = await startFleet();
});
after(async () => {
  await fleet?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const TENANT = 'race-acme';

describe('reencrypt racing deletes and tokenizes', () => {
  it('resurrects no deleted token and misses no new one', async () => {
    await fleet.createTenant(TENANT);
    const { ork, orkId } = await fleet.issueOrk(TENANT);
    const orkFile = join(dir, 'acme.ork');
    writeFileSync(orkFile, `${ork}\n`, { mode: 0o600 });
    const [s1, s2] = [await fleet.startSidecar(), await fleet.startSidecar()];
    const values = new Map<string, string>();
    const tokenize = async (url: string, field: string, n: number, tag: string) => {
      const vals = Array.from({ length: n }, (_, i) => `${tag}-${i}-${Math.random()}`);
      const t = await postWithin(url, '/v1/tokenize', ork, { tenant: TENANT, field, values: vals }, 10_000);
      assert.equal(t.status, 200, JSON.stringify(t.body));
      const tokens = (t.body as { tokens: string[] }).tokens;
      for (const [i, tok] of tokens.entries()) values.set(tok, vals[i]!);
      return tokens;
    };
    const original: string[] = [];
    for (let b = 0; b < 6; b++) original.push(...(await tokenize(s1!.url, `f${b % 2}`, 100, `orig${b}`)));
    const rot = await fleet.ops(['rotate', 'tek', '--tenant', TENANT, '--propagation-seconds', '0']);
    assert.equal(rot.code, 0, rot.stderr);

    let finished = false;
    const run = fleet
      .ops([
        'reencrypt',
        '--tenant',
        TENANT,
        '--ork-file',
        orkFile,
        '--batch-size',
        '20',
        '--throttle-ms',
        '60',
      ])
      .finally(() => {
        finished = true;
      });

    // Live deletes of records the run is moving.
    const deleted: string[] = [];
    const deletes = (async () => {
      for (let i = 0; i < 10; i++) {
        const chunk = original.slice(i * 40, i * 40 + 15);
        const r = await postWithin(
          s2!.url,
          '/v1/tokens/delete',
          ork,
          { tenant: TENANT, tokens: chunk },
          10_000,
        );
        assert.equal(r.status, 200);
        deleted.push(...chunk);
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    // Live tokenizes (new version) on both sidecars.
    const fresh: string[] = [];
    const tokenizes = (async () => {
      for (let i = 0; i < 10; i++) {
        fresh.push(...(await tokenize(i % 2 ? s1!.url : s2!.url, 'f0', 10, `new${i}`)));
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    // A stale sidecar still writing under version 1.
    const stale: string[] = [];
    const staleWrites = (async () => {
      const keyring = s1!.daemon.keyring;
      const id = await keyring.authenticate(ork);
      for (let i = 0; i < 5; i++) {
        const fdk = await keyring.fdk(id, 'f1', 1);
        const rows: TokenRow[] = [];
        try {
          for (let j = 0; j < 10; j++) {
            const token = newToken(systemRandom);
            const value = `stale-${i}-${j}`;
            const binding = { token, tenant: TENANT, field: 'f1', tekVersion: 1, orkId };
            rows.push({ ...binding, envelope: sealRecord(fdk, binding, Buffer.from(value), systemRandom) });
            values.set(token, value);
            stale.push(token);
          }
        } finally {
          zeroize(fdk);
        }
        await s1!.daemon.store.write({ tokens: rows, audit: [] });
        await new Promise((r) => setTimeout(r, 80));
      }
    })();
    await Promise.all([deletes, tokenizes, staleWrites]);
    assert.equal(finished, false, 'the traffic ran while the re-encryption did (raise the throttle if not)');

    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.complete, true);
    assert.ok(summary.passes >= 2, 'the stale records made it look again');

    const gone = await fleet.pg.adminQuery('select token from sidekey_tokens where token = any($1)', [
      deleted,
    ]);
    assert.deepEqual(gone, [], 'no deleted token resurrected');
    const live = [...original.filter((t) => !deleted.includes(t)), ...fresh, ...stale];
    const rows = await fleet.pg.adminQuery<{ token: string; tek_version: number }>(
      'select token, tek_version from sidekey_tokens where tenant = $1',
      [TENANT],
    );
    assert.equal(rows.length, live.length, 'no new token missed, none lost');
    assert.ok(
      rows.every((x) => x.tek_version === 2),
      'every record on the new version',
    );

    for (const s of [s1!, s2!]) {
      const det = await postWithin(s.url, '/v1/detokenize', ork, { tenant: TENANT, tokens: live }, 15_000);
      const results = (det.body as { results: { value?: string }[] }).results;
      assert.deepEqual(
        results.map((x) => x.value),
        live.map((t) => values.get(t)),
      );
      const del = await postWithin(s.url, '/v1/detokenize', ork, { tenant: TENANT, tokens: deleted }, 15_000);
      const codes = (del.body as { results: { error?: { code: string } }[] }).results.map(
        (x) => x.error?.code,
      );
      assert.ok(
        codes.every((c) => c === 'NOT_FOUND'),
        'deleted stays deleted on every sidecar',
      );
    }
  });
});
