/**
 * The KMS contract and Vault-specific behaviour (key rotation, token expiry
 * and renewal, revocation and re-login, policy denial, TLS), with the real
 * node-vault client against the wire-compatible test server.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kmsContext } from '../../src/kms/index.js';
import { VaultKek, type VaultKekOptions } from '../../src/kms/vault.js';
import { FakeVault } from '../fakes/vault-server.js';
import { until } from '../support/wait.js';
import { assertNoSecret, captureKmsError, overFake, runKmsContract } from './kms-contract.js';

function kekFor(fake: FakeVault, options: Partial<VaultKekOptions>): VaultKek {
  return new VaultKek({
    addr: fake.url,
    keyName: 'sidekey',
    transitMount: fake.mount,
    requestTimeoutMs: 500,
    retryBaseDelayMs: 10,
    ...options,
  });
}

runKmsContract({
  name: 'vault',
  make: async () => {
    const fake = await FakeVault.start();
    fake.createKey('sidekey');
    return overFake(kekFor(fake, { token: fake.createToken({ allow: ['transit/*'] }) }), fake);
  },
});

describe('vault KEK adapter', () => {
  let fake: FakeVault;
  let dir: string;
  const context = kmsContext.tek('acme', 1);
  before(async () => {
    fake = await FakeVault.start({ mount: 'sidekey-transit' });
    fake.createKey('sidekey');
    dir = mkdtempSync(join(tmpdir(), 'sidekey-vault-'));
  });
  after(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores Vault ciphertexts as they come and names the key by mount and name', async () => {
    const kek = kekFor(fake, { token: fake.createToken() });
    assert.equal(kek.kekRef, 'vault:sidekey-transit/sidekey');
    const wrapped = await kek.wrap(randomBytes(32), context);
    assert.match(wrapped.toString('ascii'), /^vault:v1:[A-Za-z0-9+/]+=*$/);
    await kek.close();
  });

  it('keeps unwrapping keys wrapped before a Vault key rotation', async () => {
    fake.createKey('rotating');
    const kek = kekFor(fake, { keyName: 'rotating', token: fake.createToken() });
    const key = randomBytes(32);
    const v1 = await kek.wrap(key, context);
    fake.rotateKey('rotating');
    const v2 = await kek.wrap(key, context);
    assert.match(v2.toString('ascii'), /^vault:v2:/);
    assert.deepEqual(await kek.unwrap(v1, context), key);
    assert.deepEqual(await kek.unwrap(v2, context), key);
    // Trimmed versions are refused by Vault: integrity, not a retry.
    fake.setMinDecryptionVersion('rotating', 2);
    const err = await captureKmsError(kek.unwrap(v1, context));
    assert.equal(err.kind, 'integrity');
    await kek.close();
  });

  it('refuses a ciphertext of another transit key as integrity', async () => {
    fake.createKey('other');
    const token = fake.createToken();
    const mine = kekFor(fake, { token });
    const other = kekFor(fake, { keyName: 'other', token });
    const key = randomBytes(32);
    const err = await captureKmsError(other.unwrap(await mine.wrap(key, context), context));
    assert.equal(err.kind, 'integrity');
    assertNoSecret(err, key);
    await mine.close();
    await other.close();
  });

  it('renews its token before the TTL runs out', async () => {
    // Renewal comes at about two thirds of the TTL (~2 s here): a TTL of 3 s
    // leaves a second of slack for a loaded machine's timers.
    const token = fake.createToken({ ttl: 3, renewable: true, maxTtl: 60 });
    const originalExpiry = Date.now() + 3000;
    const kek = kekFor(fake, { token });
    const key = randomBytes(32);
    const wrapped = await kek.wrap(key, context);
    await until('renew-self', () => fake.count('POST auth/token/renew-self') >= 1, 10_000, 20);
    assert.ok(fake.liveTokens().includes(token), 'renewed while still live');
    await until('the original TTL to pass', () => Date.now() > originalExpiry + 200, 10_000, 20);
    assert.ok(fake.liveTokens().includes(token), 'still live past its original TTL');
    assert.deepEqual(await kek.unwrap(wrapped, context), key);
    await kek.close();
  });

  it('reports denied when a fixed token expired and cannot be replaced', async () => {
    const token = fake.createToken({ ttl: 1, renewable: false });
    const kek = kekFor(fake, { token });
    await kek.wrap(randomBytes(32), context);
    await until('the token to expire', () => !fake.liveTokens().includes(token), 10_000, 20);
    const err = await captureKmsError(kek.wrap(randomBytes(32), context));
    assert.equal(err.kind, 'denied');
    assert.match(err.message, /permission denied/);
    assert.ok(!err.message.includes(token), 'the token is never in a message');
    await kek.close();
  });

  it('logs in with kubernetes auth, and logs in again when its token is revoked', async () => {
    const jwtPath = join(dir, 'sa-token');
    writeFileSync(jwtPath, 'eyJhbGciOiJSUzI1NiJ9.sa-token-1.sig\n');
    fake.createK8sRole('sidekey', 'eyJhbGciOiJSUzI1NiJ9.sa-token-1.sig', {
      ttl: 60,
      allow: ['sidekey-transit/*'],
    });
    const kek = kekFor(fake, { k8sRole: 'sidekey', k8sTokenPath: jwtPath });
    const key = randomBytes(32);
    const loginsBefore = fake.count('POST auth/kubernetes/login');
    const wrapped = await kek.wrap(key, context);
    assert.equal(fake.count('POST auth/kubernetes/login') - loginsBefore, 1);
    fake.revokeAll('kubernetes');
    assert.deepEqual(await kek.unwrap(wrapped, context), key);
    assert.equal(fake.count('POST auth/kubernetes/login') - loginsBefore, 2, 're-logged in once');
    await kek.close();
    assert.equal(fake.liveTokens('kubernetes').length, 0, 'close revokes the token it logged in for');
  });

  it('logs in again before a kubernetes token reaches its max TTL, by itself', async () => {
    const jwtPath = join(dir, 'sa-token-max');
    writeFileSync(jwtPath, 'jwt-max');
    // Renewal at ~2 s no longer extends the lease (max TTL 3 s): the client must log in again then.
    fake.createK8sRole('short', 'jwt-max', { ttl: 3, renewable: true, maxTtl: 3 });
    const kek = kekFor(fake, { k8sRole: 'short', k8sTokenPath: jwtPath });
    const before = fake.issued('kubernetes').length;
    await kek.wrap(randomBytes(32), context);
    const first = fake.issued('kubernetes')[before];
    assert.ok(first?.maxExpiresAt !== undefined, 'one login, a token with a max TTL');
    // No call from here on: only the client's own timer can log in again (a
    // lazy re-login on the next call would never happen here).
    await until(
      'a second kubernetes login',
      () => fake.issued('kubernetes').length >= before + 2,
      10_000,
      20,
    );
    const second = fake.issued('kubernetes')[before + 1]!;
    assert.ok(
      second.issuedAt < first.maxExpiresAt,
      `the new token was issued ${second.issuedAt - first.maxExpiresAt} ms after the first one's max TTL`,
    );
    const key = randomBytes(32);
    assert.deepEqual(await kek.unwrap(await kek.wrap(key, context), context), key);
    await kek.close();
  });

  it('reports a kubernetes login refusal as denied, clearly', async () => {
    const jwtPath = join(dir, 'sa-token-wrong');
    writeFileSync(jwtPath, 'not-the-right-jwt');
    fake.createK8sRole('strict', 'the-right-jwt');
    const kek = kekFor(fake, { k8sRole: 'strict', k8sTokenPath: jwtPath });
    const err = await captureKmsError(kek.wrap(randomBytes(32), context));
    assert.equal(err.kind, 'denied');
    assert.match(err.message, /kubernetes\/login: permission denied/);
    const health = await kek.health();
    assert.equal(health.ok, false);
    const missing = kekFor(fake, { k8sRole: 'strict', k8sTokenPath: join(dir, 'absent') });
    assert.match(
      (await captureKmsError(missing.wrap(randomBytes(32), context))).message,
      /service-account token/,
    );
    await kek.close();
    await missing.close();
  });

  it('re-reads the token file when the token stops working', async () => {
    const tokenFile = join(dir, 'vault-token');
    const first = fake.createToken();
    writeFileSync(tokenFile, `${first}\n`);
    const kek = kekFor(fake, { tokenFile });
    const key = randomBytes(32);
    const wrapped = await kek.wrap(key, context);
    fake.revokeToken(first);
    writeFileSync(tokenFile, fake.createToken());
    assert.deepEqual(await kek.unwrap(wrapped, context), key);
    await kek.close();
  });

  it('reports a policy that lacks the transit paths as denied, from calls and health', async () => {
    const kek = kekFor(fake, { token: fake.createToken({ allow: ['secret/*'] }) });
    const err = await captureKmsError(kek.wrap(randomBytes(32), context));
    assert.equal(err.kind, 'denied');
    assert.match(
      err.message,
      /^vault transit: encrypt with vault:sidekey-transit\/sidekey: permission denied/,
    );
    const health = await kek.health();
    assert.match(
      health.ok ? '' : health.reason,
      /read key with vault:sidekey-transit\/sidekey: permission denied/,
    );
    await kek.close();
  });

  it('reports a missing key or mount from health', async () => {
    const token = fake.createToken();
    const noKey = kekFor(fake, { keyName: 'absent', token });
    assert.match(await reason(noKey), /not found \(404\)/);
    assert.equal((await captureKmsError(noKey.wrap(randomBytes(32), context))).kind, 'denied');
    const noMount = kekFor(fake, { transitMount: 'nope', token });
    assert.match(await reason(noMount), /not found/);
    fake.createKey('derived', { derived: true });
    assert.match(await reason(kekFor(fake, { keyName: 'derived', token })), /derived key/);
    await noKey.close();
    await noMount.close();
  });

  it('treats a sealed Vault as unavailable and retries within its budget', async () => {
    const kek = kekFor(fake, { token: fake.createToken(), maxAttempts: 3 });
    await kek.wrap(randomBytes(32), context); // logged in (lookup-self) while unsealed
    fake.seal(true);
    const before = fake.count('POST sidekey-transit/encrypt/');
    const err = await captureKmsError(kek.wrap(randomBytes(32), context));
    fake.seal(false);
    assert.equal(err.kind, 'unavailable');
    assert.match(err.message, /503: Vault is sealed/);
    assert.equal(fake.count('POST sidekey-transit/encrypt/') - before, 3);
    await kek.close();
  });

  it('times out a Vault that does not answer, as unavailable', async () => {
    const kek = kekFor(fake, { token: fake.createToken(), maxAttempts: 2, requestTimeoutMs: 150 });
    fake.hang(true);
    // Without the request timeout this call would never return.
    const err = await captureKmsError(kek.wrap(randomBytes(32), context));
    fake.hang(false);
    assert.equal(err.kind, 'unavailable');
    await kek.close();
  });
});

describe('vault KEK adapter over TLS', () => {
  let dir: string;
  let fake: FakeVault;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sidekey-vault-tls-'));
    makeCertificates(dir);
    fake = await FakeVault.start({
      tls: { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.crt')) },
    });
    fake.createKey('sidekey');
  });
  after(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies Vault against VAULT_CACERT', async () => {
    const kek = kekFor(fake, { token: fake.createToken(), caCertFile: join(dir, 'ca.crt') });
    const key = randomBytes(32);
    const context = kmsContext.tek('acme', 1);
    assert.deepEqual(await kek.unwrap(await kek.wrap(key, context), context), key);
    assert.deepEqual(await kek.health(), { ok: true });
    await kek.close();
  });

  it('refuses a Vault whose certificate it cannot verify, even with VAULT_SKIP_VERIFY set', async () => {
    process.env.VAULT_SKIP_VERIFY = '1';
    try {
      const kek = kekFor(fake, { token: fake.createToken() });
      const health = await kek.health();
      assert.match(health.ok ? '' : health.reason, /TLS certificate is not trusted .*VAULT_CACERT/);
      const err = await captureKmsError(kek.wrap(randomBytes(32), kmsContext.tek('acme', 1)));
      assert.equal(err.kind, 'denied');
      await kek.close();
    } finally {
      delete process.env.VAULT_SKIP_VERIFY;
    }
  });
});

/** A throwaway CA and a server certificate for 127.0.0.1 (EC P-256: fast). */
function makeCertificates(dir: string): void {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key');
  run(
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-subj',
    '/CN=sidekey test CA',
    '-days',
    '1',
    '-out',
    'ca.crt',
  );
  run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key');
  run('req', '-new', '-key', 'server.key', '-subj', '/CN=127.0.0.1', '-out', 'server.csr');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'ext.cnf',
    '-out',
    'server.crt',
  );
}

async function reason(kek: VaultKek): Promise<string> {
  const health = await kek.health();
  return health.ok ? '' : health.reason;
}
