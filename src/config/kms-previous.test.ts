import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, redactedConfig } from './index.js';

describe('SIDEKEY_KMS_PREVIOUS and provider settings', () => {
  it('defaults to no previous KEK', () => {
    const c = loadConfig({}, '/');
    assert.deepEqual(c.kmsPrevious, []);
    assert.deepEqual(c.kmsSettings, { aws: {}, vault: { transitMount: 'transit' } });
  });

  it('parses the list of KEK references', () => {
    const c = loadConfig(
      {
        SIDEKEY_KMS: 'aws',
        SIDEKEY_KMS_KEY_ID: 'alias/new',
        SIDEKEY_KMS_PREVIOUS: 'local, aws:alias/old',
        AWS_REGION: 'eu-west-1',
        AWS_ENDPOINT_URL_KMS: 'http://127.0.0.1:4566',
      },
      '/',
    );
    assert.deepEqual(c.kmsPrevious, [{ provider: 'local' }, { provider: 'aws', keyId: 'alias/old' }]);
    assert.deepEqual(c.kmsSettings.aws, { region: 'eu-west-1', endpoint: 'http://127.0.0.1:4566' });
    // The primary is unchanged by the addition.
    assert.deepEqual(c.kms, {
      provider: 'aws',
      keyId: 'alias/new',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:4566',
    });
  });

  it('keeps Vault settings usable by a previous or target vault KEK whatever the primary is', () => {
    const c = loadConfig(
      {
        SIDEKEY_KMS_PREVIOUS: 'vault:old',
        VAULT_ADDR: 'http://127.0.0.1:8200',
        VAULT_TOKEN: 'hvs.secret-token',
        SIDEKEY_VAULT_TRANSIT_MOUNT: 'kms',
      },
      '/',
    );
    assert.deepEqual(c.kms, { provider: 'local' });
    assert.deepEqual(c.kmsPrevious, [{ provider: 'vault', keyName: 'old' }]);
    assert.equal(c.kmsSettings.vault.addr, 'http://127.0.0.1:8200');
    assert.equal(c.kmsSettings.vault.transitMount, 'kms');
    assert.ok(!JSON.stringify(redactedConfig(c)).includes('hvs.secret-token'));
  });

  it('names the setting in one line when a reference is wrong or Vault has no address', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ SIDEKEY_KMS_PREVIOUS: 'local,kms:x' }, /^SIDEKEY_KMS_PREVIOUS: .*"kms:x".*local, aws: or vault:/],
      [{ SIDEKEY_KMS_PREVIOUS: 'aws:' }, /^SIDEKEY_KMS_PREVIOUS: .*AWS KMS KEK/],
      [
        { SIDEKEY_KMS_PREVIOUS: 'vault:k' },
        /^VAULT_ADDR: is required when SIDEKEY_KMS_PREVIOUS names a vault: KEK/,
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
});
