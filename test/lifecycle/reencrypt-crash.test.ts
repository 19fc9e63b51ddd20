/**
 * `sidekey reencrypt` killed with SIGKILL mid-run, then run again (embedded
 * store, the real CLI process): the re-run completes; every record is on the
 * new version; every token returns its original value; records moved before
 * the kill are not touched again (their envelopes are byte-identical).
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

/** The demo ORK's id (set once the tenant exists). */
let orkIdOf = '';

/** Every record of the demo ORK: version and envelope. */
async function records(dataDir: string): Promise<Map<string, { version: number; envelope: string }>> {
  const store = await openEmbeddedStore(dataDir);
  try {
    const out = new Map<string, { version: number; envelope: string }>();
    let after = '';
    for (;;) {
      const rows = await store.listTokensToMove({
        tenant: 'demo',
        orkId: orkIdOf,
        afterToken: after,
        limit: 1000,
      });
      if (rows.length === 0) break;
      for (const r of rows) out.set(r.token, { version: r.tekVersion, envelope: r.envelope.toString('hex') });
      after = rows.at(-1)!.token;
    }
    return out;
  } finally {
    await store.close();
  }
}
describe('reencrypt after SIGKILL', () => {
  it('a re-run finishes the job without touching a record twice', async () => {
    const d = await daemon();
    const values = new Map<string, string>();
    for (const field of ['email', 'iban']) {
      for (let b = 0; b < 2; b++) {
        const vals = Array.from({ length: 100 }, (_, i) => `${field}-${b}-${i}-✓`);
        const t = await post(d.url, '/v1/tokenize', d.ork, { tenant: 'demo', field, values: vals });
        assert.equal(t.status, 200);
        (t.body.tokens as string[]).forEach((tok, i) => {
          values.set(tok, vals[i]!);
        });
      }
    }
    await d.stop();
    const env = { SIDEKEY_DATA_DIR: d.dataDir };
    const orks = JSON.parse((await sidekey(['ork', 'list', '--tenant', 'demo', '--json'], env)).stdout);
    orkIdOf = orks[0].id;
    assert.equal((await sidekey(['rotate', 'tek', '--tenant', 'demo'], env)).code, 0);

    const orkFile = join(d.dataDir, 'demo.ork');
    const args = [
      'reencrypt',
      '--tenant',
      'demo',
      '--ork-file',
      orkFile,
      '--batch-size',
      '10',
      '--throttle-ms',
      '100',
    ];
    const child = spawnSidekey(args, env);
    const started = Date.now();
    const done = () => {
      const lines = child.stderr.split('\n').filter((l) => l.startsWith('{"event":"progress"'));
      return lines.length === 0 ? 0 : JSON.parse(lines.at(-1)!).moved;
    };
    while (done() < 50) {
      assert.equal(child.proc.exitCode, null, `finished too early: ${child.stderr}`);
      assert.ok(Date.now() - started < 60_000, `no progress: ${child.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.proc.kill('SIGKILL');
    const exit = await child.exited;
    assert.equal(exit.signal, 'SIGKILL');

    const mid = await records(d.dataDir);
    assert.equal(mid.size, 400);
    const movedBefore = [...mid].filter(([, r]) => r.version === 2);
    assert.ok(
      movedBefore.length >= 50 && movedBefore.length < 400,
      `${movedBefore.length} moved before the kill`,
    );

    const rerun = await sidekey(args.slice(0, 5), env);
    assert.equal(rerun.code, 0, rerun.stderr);
    const summary = JSON.parse(rerun.stdout);
    assert.equal(summary.moved, 400 - movedBefore.length, 'the re-run moves exactly what was left');
    assert.equal(summary.complete, true);

    const end = await records(d.dataDir);
    assert.equal(end.size, 400, 'no record lost');
    for (const [, r] of end) assert.equal(r.version, 2, 'every record on the new version');
    for (const [token, r] of movedBefore)
      assert.equal(
        end.get(token)!.envelope,
        r.envelope,
        'a record moved before the kill is not touched again',
      );

    const d2 = await daemon(d.dataDir);
    const tokens = [...values.keys()];
    const det = await post(d2.url, '/v1/detokenize', d.ork, { tenant: 'demo', tokens });
    assert.deepEqual(
      det.body.results.map((r: { value: string }) => r.value),
      tokens.map((t) => values.get(t)),
      'every token returns its original value',
    );
  });
});
