/**
 * Runbook "suspected KEK compromise" / "scheduled rotation" on the embedded
 * store (docs/operations.md): rotate the TEK, re-encrypt with the ORK, retire
 * the old version. `keys retire` is refused while records remain, allowed
 * after re-encryption, and the retired version then no longer decrypts.
 * Also: a rotation interrupted between its phases is completed by a re-run,
 * and every step leaves an audit event.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openEmbeddedStore } from '../../src/store/index.js';
import { sidekey } from '../support/cli.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { post } from '../support/http.js';
import { spawnSidekey } from '../support/process.js';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const f of cleanup) await f();
});

async function daemon(dataDir?: string): Promise<TestDaemon> {
  const d = await startTestDaemon({}, dataDir === undefined ? {} : { dataDir });
  cleanup.push(() => d.destroy());
  return d;
}

interface Status {
  version: number;
  state: string;
  records: number;
  recordsByOrk: Record<string, number>;
}

async function status(env: Record<string, string>): Promise<Status[]> {
  const r = await sidekey(['keys', 'status', '--tenant', 'demo', '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('rotate tek, reencrypt, keys retire (embedded)', () => {
  it('refuses to retire while records remain, allows it after re-encryption, then refuses the old version', async () => {
    const d = await daemon();
    const emails = Array.from({ length: 60 }, (_, i) => `person${i}@example.org`);
    const phones = Array.from({ length: 25 }, (_, i) => `+41 79 000 ${String(i).padStart(4, '0')}`);
    const t1 = await post(d.url, '/v1/tokenize', d.ork, { tenant: 'demo', field: 'email', values: emails });
    const t2 = await post(d.url, '/v1/tokenize', d.ork, { tenant: 'demo', field: 'phone', values: phones });
    const enc = await post(d.url, '/v1/encrypt', d.ork, {
      tenant: 'demo',
      field: 'note',
      plaintexts: ['kept by the app'],
    });
    assert.equal(enc.status, 200);
    await d.stop();
    const env = { SIDEKEY_DATA_DIR: d.dataDir };
    const orkFile = join(d.dataDir, 'demo.ork');

    const rot = await sidekey(['rotate', 'tek', '--tenant', 'demo', '--json'], env);
    assert.equal(rot.code, 0, rot.stderr);
    assert.deepEqual(JSON.parse(rot.stdout), [
      { tenant: 'demo', action: 'rotated', primary: 2, previous: 1 },
    ]);
    let s = await status(env);
    assert.deepEqual(
      s.map((x) => [x.version, x.state, x.records]),
      [
        [1, 'active', 85],
        [2, 'primary', 0],
      ],
    );
    const [orkId] = Object.keys(s[0]!.recordsByOrk);
    assert.match(orkId!, /^[0-9a-f]{32}$/);
    assert.equal(s[0]!.recordsByOrk[orkId!], 85);

    const refused = await sidekey(['keys', 'retire', '--tenant', 'demo', '--below', '2'], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /85 record\(s\) of demo still use TEK versions below 2/);
    assert.equal((await status(env))[0]!.state, 'active', 'nothing changed');
    assert.equal(
      (await sidekey(['keys', 'retire', '--tenant', 'demo', '--below', '3'], env)).code,
      1,
      'never the primary',
    );

    const re = await sidekey(
      ['reencrypt', '--tenant', 'demo', '--ork-file', orkFile, '--batch-size', '20'],
      env,
    );
    assert.equal(re.code, 0, re.stderr);
    const summary = JSON.parse(re.stdout);
    assert.equal(summary.targetVersion, 2);
    assert.equal(summary.moved, 85);
    assert.equal(summary.complete, true);
    const progress = re.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    assert.ok(progress.length >= 5, 'JSON progress lines when not on a terminal');
    assert.equal(progress.at(-1).done, 85);
    assert.ok(!re.stderr.includes(d.ork) && !re.stdout.includes(d.ork), 'the ORK is never printed');

    const again = await sidekey(['reencrypt', '--tenant', 'demo', '--ork-file', orkFile], env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).moved, 0, 'a re-run has nothing left to do');

    const retire = await sidekey(['keys', 'retire', '--tenant', 'demo', '--below', '2'], env);
    assert.equal(retire.code, 0, retire.stderr);
    s = await status(env);
    assert.deepEqual(
      s.map((x) => [x.version, x.state, x.records]),
      [
        [1, 'retired', 0],
        [2, 'primary', 85],
      ],
    );

    const d2 = await daemon(d.dataDir);
    const det = await post(d2.url, '/v1/detokenize', d.ork, {
      tenant: 'demo',
      tokens: [...t1.body.tokens, ...t2.body.tokens],
    });
    assert.deepEqual(
      det.body.results.map((r: { value: string }) => r.value),
      [...emails, ...phones],
      'every token returns its original value',
    );
    const dec = await post(d2.url, '/v1/decrypt', d.ork, {
      tenant: 'demo',
      field: 'note',
      ciphertexts: enc.body.ciphertexts,
    });
    assert.equal(dec.status, 200);
    assert.equal(
      dec.body.results[0].error.code,
      'FAILED_PRECONDITION',
      'the retired version no longer decrypts',
    );
    const fresh = await post(d2.url, '/v1/encrypt', d.ork, {
      tenant: 'demo',
      field: 'note',
      plaintexts: ['x'],
    });
    assert.equal(fresh.status, 200);
    await d2.stop();

    // Every lifecycle step left an audit event with its outcome.
    const store = await openEmbeddedStore(d.dataDir);
    try {
      const events: { operation: string; outcome: string; caller: string; detail?: { actor?: string } }[] =
        [];
      for (const c of await store.listAuditChains())
        for (const e of await store.readAuditEvents(c.chainId, 0, 10_000)) events.push(JSON.parse(e.event));
      const lifecycle = events.filter((e) => e.caller === 'cli');
      const seen = lifecycle.map((e) => `${e.operation}:${e.outcome}`);
      for (const want of [
        'tek.rotate:ok',
        'tek.retire:FAILED_PRECONDITION',
        'records.reencrypt:ok',
        'tek.retire:ok',
      ])
        assert.ok(seen.includes(want), `${want} in ${seen}`);
      assert.ok(
        lifecycle.every((e) => typeof e.detail?.actor === 'string'),
        'who',
      );
    } finally {
      await store.close();
    }
    assert.equal((await sidekey(['audit', 'verify'], env)).code, 0);
  });

  it('a rotation interrupted between its phases (Ctrl-C) is completed by the next run', async () => {
    const d = await daemon();
    await d.stop();
    const env = { SIDEKEY_DATA_DIR: d.dataDir };
    const child = spawnSidekey(['rotate', 'tek', '--tenant', 'demo', '--propagation-seconds', '60'], env);
    const started = Date.now();
    while (!child.stderr.includes('waiting')) {
      assert.ok(Date.now() - started < 30_000, `no wait started: ${child.stderr}`);
      assert.equal(child.proc.exitCode, null, child.stderr);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.proc.kill('SIGINT');
    const { code } = await child.exited;
    assert.equal(code, 130, child.stderr);
    assert.match(child.stderr, /re-run to complete/);
    assert.deepEqual(
      (await status(env)).map((x) => [x.version, x.state]),
      [
        [1, 'primary'],
        [2, 'active'],
      ],
      'half done: version 2 decrypts, version 1 still encrypts',
    );
    const r = await sidekey(
      ['rotate', 'tek', '--tenant', 'demo', '--propagation-seconds', '0', '--json'],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [
      { tenant: 'demo', action: 'completed', primary: 2, previous: 1 },
    ]);
    assert.deepEqual(
      (await status(env)).map((x) => [x.version, x.state]),
      [
        [1, 'active'],
        [2, 'primary'],
      ],
      'completed, not a third version',
    );
    const skip = await sidekey(['rotate', 'tek', '--all', '--if-older-than', '90d', '--json'], env);
    assert.equal(skip.code, 0, skip.stderr);
    assert.equal(JSON.parse(skip.stdout)[0].action, 'skipped', 'a schedule does not rotate a young key');
  });
});
