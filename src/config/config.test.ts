import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, isLoopbackHost, loadConfig, redactedConfig } from './index.js';

describe('loadConfig', () => {
  it('has working defaults: embedded store, local KMS, 127.0.0.1:7600, socket in the data dir', () => {
    const c = loadConfig({}, '/srv');
    assert.equal(c.dataDir, '/srv/.sidekey');
    assert.deepEqual(c.http, { host: '127.0.0.1', port: 7600 });
    assert.equal(c.grpcSocket, '/srv/.sidekey/sidekey.sock');
    assert.deepEqual(c.store, { kind: 'embedded' });
    assert.deepEqual(c.kms, { provider: 'local' });
    assert.equal(c.bootstrapDemo, true);
    assert.deepEqual(c.limits, { maxBatch: 1000, maxValueBytes: 65536, maxBodyBytes: 8 * 1024 * 1024 });
    assert.equal(c.rateLimit, undefined);
  });

  it('accepts loopback hosts only, with a message that says loopback', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) {
      assert.equal(loadConfig({ SIDEKEY_HTTP_HOST: host }, '/').http.host, host);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1', 'localhost.example']) {
      assert.throws(
        () => loadConfig({ SIDEKEY_HTTP_HOST: host }, '/'),
        (err: Error) => err instanceof ConfigError && /^SIDEKEY_HTTP_HOST: .*loopback/.test(err.message),
        host,
      );
    }
  });

  it('names the setting in one line', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ SIDEKEY_HTTP_PORT: '70000' }, /^SIDEKEY_HTTP_PORT: /],
      [{ SIDEKEY_STORE: 'mysql' }, /^SIDEKEY_STORE: /],
      [{ SIDEKEY_STORE: 'postgres' }, /^SIDEKEY_PG_URL: is required/],
      [{ SIDEKEY_KMS: 'aws' }, /^SIDEKEY_KMS_KEY_ID: is required/],
      [{ SIDEKEY_TENANTS: 'ok,Not OK' }, /^SIDEKEY_TENANTS: /],
      [{ SIDEKEY_GRPC_SOCKET: 'relative.sock' }, /^SIDEKEY_GRPC_SOCKET: must be an absolute path/],
      [
        { SIDEKEY_STORE: 'postgres', SIDEKEY_PG_URL: 'postgres://u:pw@h/db' },
        /^SIDEKEY_PG_URL: must not contain a password/,
      ],
    ];
    for (const [env, pattern] of cases) {
      assert.throws(
        () => loadConfig(env, '/'),
        (err: Error) =>
          err instanceof ConfigError && pattern.test(err.message) && !err.message.includes('\n'),
        JSON.stringify(env),
      );
    }
  });

  it('reads SIDEKEY_CONFIG_FILE under the environment, which wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sidekey-config-'));
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({ SIDEKEY_HTTP_PORT: 7700, SIDEKEY_TENANTS: 'a,b', SIDEKEY_LOG_LEVEL: 'debug' }),
    );
    const c = loadConfig({ SIDEKEY_CONFIG_FILE: file, SIDEKEY_LOG_LEVEL: 'warn' }, '/');
    assert.equal(c.http.port, 7700);
    assert.deepEqual(c.tenants, ['a', 'b']);
    assert.equal(c.logLevel, 'warn');
    writeFileSync(file, '[1]');
    assert.throws(() => loadConfig({ SIDEKEY_CONFIG_FILE: file }, '/'), /SIDEKEY_CONFIG_FILE/);
  });

  it('a configuration file that is not JSON is named in one line that quotes none of it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sidekey-config-'));
    const file = join(dir, 'config.json');
    // An unquoted token: JSON.parse's own message would quote it ("hvs.supers…").
    writeFileSync(file, '{"VAULT_TOKEN": hvs.supersecretvalue,\n"SIDEKEY_KMS": "vault"}');
    assert.throws(
      () => loadConfig({ SIDEKEY_CONFIG_FILE: file }, '/'),
      (err: Error) =>
        err.message === `SIDEKEY_CONFIG_FILE: ${file} is not valid JSON` && !err.message.includes('hvs'),
    );
    assert.throws(
      () => loadConfig({ SIDEKEY_CONFIG_FILE: join(dir, 'absent.json') }, '/'),
      /^ConfigError: SIDEKEY_CONFIG_FILE: cannot read .*absent\.json \(ENOENT\)$/,
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('never prints a secret: not in errors, not in config print', () => {
    assert.throws(
      () => loadConfig({ VAULT_TOKEN: 'hvs.secret', SIDEKEY_KMS: 'vault', SIDEKEY_KMS_KEY_ID: 'k' }, '/'),
      (err: Error) => /VAULT_ADDR/.test(err.message) && !err.message.includes('hvs.secret'),
    );
    const c = loadConfig(
      {
        VAULT_TOKEN: 'hvs.secret',
        SIDEKEY_KMS: 'vault',
        SIDEKEY_KMS_KEY_ID: 'k',
        VAULT_ADDR: 'http://127.0.0.1:8200',
      },
      '/',
    );
    assert.ok(!JSON.stringify(redactedConfig(c)).includes('hvs.secret'));
  });

  it('rate limit: off by default, burst defaults to the rate', () => {
    assert.deepEqual(loadConfig({ SIDEKEY_RATE_LIMIT_RPS: '50' }, '/').rateLimit, { rate: 50, burst: 50 });
  });
});

describe('isLoopbackHost', () => {
  it('knows the loopback forms', () => {
    assert.equal(isLoopbackHost('0:0:0:0:0:0:0:1'), true);
    assert.equal(isLoopbackHost('::ffff:10.0.0.1'), false);
  });
});
