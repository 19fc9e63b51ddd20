/**
 * Runbook "suspected ORK compromise" on a fleet (docs/operations.md):
 * `sidekey ork rotate` (the real CLI, killed with SIGKILL mid-run and run
 * again: it resumes towards the same new ORK) while the application still
 * tokenizes with the old ORK, then `sidekey ork revoke` of the old one.
 * Every record is then readable with the new ORK only, on every sidecar, and
 * the old ORK is refused everywhere within seconds.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Fleet, postgresEnv, postWithin, startFleet, until } from '../support/fleet.js';
import { OPERATOR_ROLE } from '../support/postgres.js';
import { spawnSidekey } from '../support/process.js';

let fleet: Fleet;
const dir = mkdtempSync(join(tmpdir(), 'sidekey-orkrot-'));
before(async () => {
  fleet = await startFleet();
});
after(async () => {
  await fleet?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const TENANT = 'orkrot-acme';

describe('ork rotate, then ork revoke', () => {
  it('moves every record to the new ORK (resuming after SIGKILL); the old ORK is then refused everywhere', async () => {
    await fleet.createTenant(TENANT);
    const old = await fleet.issueOrk(TENANT, 'checkout');
    const oldFile = join(dir, 'old.ork');
    const newFile = join(dir, 'new.ork');
    writeFileSync(oldFile, `${old.ork}\n`, { mode: 0o600 });
    const sidecars = [await fleet.startSidecar(), await fleet.startSidecar()];
    const values = new Map<string, string>();
    const tokenize = async (url: string, field: string, n: number, tag: string) => {
      const vals = Array.from({ length: n }, (_, i) => `${tag}-${i}-€`);
      const t = await postWithin(
        url,
        '/v1/tokenize',
        old.ork,
        { tenant: TENANT, field, values: vals },
        10_000,
      );
      assert.equal(t.status, 200, JSON.stringify(t.body));
      for (const [i, tok] of (t.body as { tokens: string[] }).tokens.entries()) values.set(tok, vals[i]!);
    };
    for (let b = 0; b < 3; b++) await tokenize(sidecars[b % 2]!.url, `f${b}`, 100, `orig${b}`);

    const opsEnv = {
      SIDEKEY_DATA_DIR: fleet.opsDir,
      SIDEKEY_LOG_LEVEL: 'error',
      ...postgresEnv(fleet.pg, OPERATOR_ROLE),
    };
    const args = ['ork', 'rotate', '--tenant', TENANT, '--from-file', oldFile, '--new-ork-file', newFile];
    const child = spawnSidekey([...args, '--batch-size', '10', '--throttle-ms', '100'], opsEnv);
    const started = Date.now();
    const moved = () => {
      const lines = child.stderr.split('\n').filter((l) => l.startsWith('{"event":"progress"'));
      return lines.length === 0 ? 0 : JSON.parse(lines.at(-1)!).moved;
    };
    while (moved() < 30) {
      assert.equal(child.proc.exitCode, null, `finished too early: ${child.stderr}`);
      assert.ok(Date.now() - started < 60_000, `no progress: ${child.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.proc.kill('SIGKILL');
    await child.exited;
    assert.equal(child.stdout, '', 'the new ORK is printed only at the end');
    assert.ok(existsSync(newFile), 'the new ORK was on disk before any record moved');
    assert.equal(statSync(newFile).mode & 0o777, 0o600);
    const newOrk = readFileSync(newFile, 'utf8').trim();
    assert.match(newOrk, /^sk_ork_/);

    // The application keeps tokenizing with the old ORK while the rotation resumes.
    let busy = true;
    const traffic = (async () => {
      for (let i = 0; busy && i < 20; i++) {
        await tokenize(sidecars[i % 2]!.url, 'f0', 5, `during${i}`);
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    const resumed = await fleet.ops([...args, '--batch-size', '25', '--throttle-ms', '20']);
    busy = false;
    await traffic;
    // While the application still writes with the old ORK a run may end before
    // catching up: then it says so and exits 1 (documented), and a re-run finishes.
    if (resumed.code === 0) assert.equal(resumed.stdout.trim(), newOrk, 'the same new ORK, alone on stdout');
    else {
      assert.equal(resumed.code, 1, resumed.stderr);
      assert.match(resumed.stderr, /still being written under the old key.*re-run/);
    }
    // Anything the application wrote with the old ORK after that run's last pass: run again.
    const last = await fleet.ops(args);
    assert.equal(last.code, 0, last.stderr);
    assert.equal(last.stdout.trim(), newOrk);
    assert.ok(!resumed.stderr.includes(old.ork) && !resumed.stderr.includes(newOrk), 'no ORK in the notes');

    const orks = JSON.parse((await fleet.ops(['ork', 'list', '--tenant', TENANT, '--json'])).stdout);
    assert.equal(orks.length, 2, 'one new ORK, however many runs');
    const newId = orks.find((o: { id: string }) => o.id !== old.orkId).id;
    const status = JSON.parse((await fleet.ops(['keys', 'status', '--tenant', TENANT, '--json'])).stdout);
    assert.deepEqual(status[0].recordsByOrk, { [newId]: values.size }, 'every record belongs to the new ORK');

    await fleet.revokeOrk(TENANT, old.orkId);
    const tokens = [...values.keys()];
    for (const s of sidecars) {
      await until(
        'the old ORK refused',
        async () => {
          const r = await postWithin(
            s.url,
            '/v1/detokenize',
            old.ork,
            { tenant: TENANT, tokens: tokens.slice(0, 1) },
            5_000,
          );
          return r.status === 401;
        },
        10_000,
      );
      const det = await postWithin(s.url, '/v1/detokenize', newOrk, { tenant: TENANT, tokens }, 15_000);
      assert.equal(det.status, 200);
      assert.deepEqual(
        (det.body as { results: { value?: string }[] }).results.map((r) => r.value),
        tokens.map((t) => values.get(t)),
        'every record readable with the new ORK',
      );
    }
  });
});
