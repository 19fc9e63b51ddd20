import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyVaultError, VaultKek } from './vault.js';

const vaultError = (status: number, errors: string[]) =>
  Object.assign(new Error(errors[0] ?? ''), { response: { statusCode: status, body: { errors } } });

describe('classifyVaultError', () => {
  const table: [unknown, boolean, string, boolean][] = [
    [vaultError(400, ['cipher: message authentication failed']), true, 'integrity', false],
    [vaultError(400, ['invalid ciphertext: no prefix']), true, 'integrity', false],
    [
      vaultError(400, ['ciphertext or signature version is disallowed by policy (too old)']),
      true,
      'integrity',
      false,
    ],
    [vaultError(400, ['encryption key not found']), true, 'denied', false],
    [vaultError(400, ['invalid role name "x"']), false, 'denied', false],
    [vaultError(403, ['permission denied']), true, 'denied', true],
    [vaultError(403, ['1 error occurred:\n\t* permission denied\n\n']), false, 'denied', true],
    [vaultError(404, []), false, 'denied', false],
    [vaultError(412, []), false, 'unavailable', false],
    [vaultError(429, []), false, 'unavailable', false],
    [vaultError(500, ['internal error']), false, 'unavailable', false],
    [vaultError(503, ['Vault is sealed']), true, 'unavailable', false],
    [Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), false, 'unavailable', false],
    [
      Object.assign(new Error('timeout of 500ms exceeded'), { code: 'ECONNABORTED' }),
      false,
      'unavailable',
      false,
    ],
    [Object.assign(new Error('x'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }), false, 'denied', false],
    [Object.assign(new Error('x'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), false, 'denied', false],
  ];
  for (const [err, decrypting, kind, tokenRefused] of table) {
    const label =
      (err as { response?: { statusCode: number } }).response?.statusCode ?? (err as { code: string }).code;
    it(`${label} ${(err as Error).message.split('\n')[0]}${decrypting ? ' (decrypt)' : ''} → ${kind}`, () => {
      const failure = classifyVaultError(err, 'vault transit: op', decrypting);
      assert.equal(failure.kind, kind);
      assert.equal(failure.tokenRefused, tokenRefused);
      assert.match(failure.message, /^vault transit: op: /);
      assert.doesNotMatch(failure.message, /[\n\t]/);
    });
  }
});

describe('VaultKek', () => {
  it('names the key by mount and name in its kekRef', async () => {
    const kek = new VaultKek({
      addr: 'http://127.0.0.1:1',
      keyName: 'sidekey',
      transitMount: '/transit/',
      token: 't',
    });
    assert.equal(kek.kekRef, 'vault:transit/sidekey');
    await kek.close();
  });

  it('refuses to start without any credential source', () => {
    assert.throws(() => new VaultKek({ addr: 'http://127.0.0.1:1', keyName: 'k' }), /VAULT_TOKEN/);
  });

  it('refuses bytes that are not a Vault ciphertext without calling Vault', async () => {
    const kek = new VaultKek({ addr: 'http://127.0.0.1:1', keyName: 'k', token: 't', maxAttempts: 1 });
    for (const bad of ['', 'vault:v1:', 'vault:v0:AAAA', 'vault:v1:AA AA', 'x'.repeat(40)]) {
      await assert.rejects(kek.unwrap(Buffer.from(bad), {}), { name: 'KmsError', kind: 'integrity' });
    }
    await kek.close();
  });
});
