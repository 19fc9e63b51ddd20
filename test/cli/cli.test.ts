/** The command line of API.md, run as a real child process and in-process. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sidekey } from '../support/cli.js';
import { freshDataDir, startTestDaemon } from '../support/daemon.js';
import { freePort, runSidekey, spawnSidekey } from '../support/process.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
async function dataDir(): Promise<string> {
  const d = await freshDataDir();
  dirs.push(d);
  return d;
}

describe('tenants and ORKs', () => {
  it('creates, lists, issues, lists and revokes', async () => {
    const env = { SIDEKEY_DATA_DIR: await dataDir() };
    const created = await sidekey(['tenant', 'create', 'shop'], env);
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await sidekey(['tenant', 'create', 'shop'], env)).code, 1, 'a second create fails');
    const bad = await sidekey(['tenant', 'create', 'Bad_Name'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /tenant name/);

    const tenants = JSON.parse((await sidekey(['tenant', 'list', '--json'], env)).stdout);
    assert.deepEqual(
      tenants.map((t: { tenant: string; primaryVersion: number }) => [t.tenant, t.primaryVersion]),
      [['shop', 1]],
    );

    const issued = await sidekey(['ork', 'issue', '--tenant', 'shop', '--label', 'checkout'], env);
    assert.equal(issued.code, 0, issued.stderr);
    const orkString = issued.stdout.trim();
    assert.match(orkString, /^sk_ork_[A-Za-z0-9_-]+$/, 'the ORK alone on stdout');
    assert.equal(issued.stdout.split('\n').filter(Boolean).length, 1);

    const list = JSON.parse((await sidekey(['ork', 'list', '--tenant', 'shop', '--json'], env)).stdout);
    assert.equal(list.length, 1);
    for (const key of ['id', 'label', 'state', 'createdAt']) assert.ok(key in list[0], key);
    assert.equal(list[0].label, 'checkout');
    assert.equal(list[0].state, 'active');
    assert.ok(!JSON.stringify(list).includes(orkString.slice(8)), 'listing never shows the ORK');

    assert.equal((await sidekey(['ork', 'revoke', '--tenant', 'shop', list[0].id], env)).code, 0);
    const again = await sidekey(['ork', 'revoke', '--tenant', 'shop', list[0].id], env);
    assert.equal(again.code, 1);
    const after = JSON.parse((await sidekey(['ork', 'list', '--tenant', 'shop', '--json'], env)).stdout);
    assert.equal(after[0].state, 'revoked');
    assert.equal((await sidekey(['ork', 'issue', '--tenant', 'nope'], env)).code, 1);
  });

  it('keys status shows versions and record counts, never key material', async () => {
    const d = await startTestDaemon();
    dirs.push(d.dataDir);
    await fetch(`${d.url}/v1/tokenize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sidekey-org-key': d.ork },
      body: JSON.stringify({ tenant: 'demo', field: 'f', values: ['a', 'b', 'c'] }),
    });
    await d.stop();
    const r = await sidekey(['keys', 'status', '--tenant', 'demo', '--json'], {
      SIDEKEY_DATA_DIR: d.dataDir,
    });
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout);
    assert.deepEqual(
      rows.map((x: { version: number; state: string; records: number }) => [x.version, x.state, x.records]),
      [[1, 'primary', 3]],
    );
    assert.match(rows[0].kekRef, /^local:[0-9a-f]{16}$/);
    assert.doesNotMatch(r.stdout, /wrapped|key"\s*:/);
  });
});

describe('embedded data directory lock', () => {
  it('refuses a command while a daemon holds the directory, and says so', async () => {
    const d = await startTestDaemon();
    dirs.push(d.dataDir);
    try {
      const r = await runSidekey(['tenant', 'list'], { SIDEKEY_DATA_DIR: d.dataDir });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /in use by another sidekey process/);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    } finally {
      await d.stop();
    }
    const r = await runSidekey(['tenant', 'list'], { SIDEKEY_DATA_DIR: d.dataDir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /demo/);
  });
});

describe('serve and signals', () => {
  it('a SIGTERM while starting stops the daemon cleanly once it is up (exit 0, not "again")', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'sidekey-early-'));
    dirs.push(parent);
    const dataDir = join(parent, 'data');
    const child = spawnSidekey(['serve'], {
      SIDEKEY_DATA_DIR: dataDir,
      SIDEKEY_HTTP_PORT: String(await freePort()),
      SIDEKEY_LOG_LEVEL: 'warn',
    });
    // The daemon creates its data directory first thing, after the signal handlers are in place.
    const started = Date.now();
    while (!existsSync(dataDir) && child.proc.exitCode === null && Date.now() - started < 60_000)
      await new Promise((r) => setTimeout(r, 5));
    child.proc.kill('SIGTERM');
    const { code, signal } = await child.exited;
    assert.equal(signal, null, child.stderr);
    assert.equal(code, 0, child.stderr);
    assert.doesNotMatch(child.stderr, /again/);
  });
});

describe('configuration', () => {
  it('refuses a non-loopback host with one line that says loopback', async () => {
    const r = await runSidekey(['serve'], {
      SIDEKEY_DATA_DIR: await dataDir(),
      SIDEKEY_HTTP_HOST: '0.0.0.0',
    });
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /SIDEKEY_HTTP_HOST: .*loopback/);
  });

  it('names the bad setting', async () => {
    const r = await sidekey(['config', 'print'], { SIDEKEY_HTTP_PORT: 'seventy' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /SIDEKEY_HTTP_PORT/);
    const pg = await sidekey(['config', 'print'], { SIDEKEY_STORE: 'postgres' });
    assert.match(pg.stderr, /SIDEKEY_PG_URL: is required/);
  });

  it('config print shows the effective configuration with secrets redacted', async () => {
    const r = await sidekey(['config', 'print'], {
      SIDEKEY_KMS: 'vault',
      SIDEKEY_KMS_KEY_ID: 'sidekey',
      VAULT_ADDR: 'http://127.0.0.1:8200',
      VAULT_TOKEN: 'hvs.very-secret',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('hvs.very-secret'));
    const printed = JSON.parse(r.stdout);
    assert.equal(printed.kms.token, '[redacted]');
    assert.equal(printed.http.port, 7600);
  });

  it('unknown commands and flags are usage errors (exit 2)', async () => {
    assert.equal((await sidekey(['frobnicate'], {})).code, 2);
    assert.equal((await sidekey(['tenant', 'list', '--nope'], {})).code, 2);
    const help = await sidekey(['--help'], {});
    assert.equal(help.code, 0);
    assert.match(help.stdout, /ork issue/);
  });
});

describe('first start', () => {
  it('creates the demo tenant, a 0600 demo.ork, a 0600 KEK file and prints a curl line', async () => {
    const d = await startTestDaemon();
    dirs.push(d.dataDir);
    await d.stop();
    assert.equal(statSync(join(d.dataDir, 'demo.ork')).mode & 0o777, 0o600);
    assert.equal(statSync(join(d.dataDir, 'kek.key')).mode & 0o777, 0o600);
    assert.match(d.ork, /^sk_ork_/);
  });

  it('an operator command on a data directory that does not exist yet creates it and the local KEK, as serve does', async () => {
    const parent = await dataDir();
    const fresh = join(parent, 'not-yet', 'there');
    const r = await sidekey(['migrate'], { SIDEKEY_DATA_DIR: fresh, SIDEKEY_KMS: 'local' });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /ENOENT/);
    assert.equal(statSync(join(fresh, 'kek.key')).mode & 0o777, 0o600);
    assert.equal(statSync(fresh).mode & 0o777, 0o700);
  });
});
