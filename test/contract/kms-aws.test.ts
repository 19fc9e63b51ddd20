/**
 * The KMS contract and AWS-specific behaviour, with the real
 * @aws-sdk/client-kms against the wire-compatible test server.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AwsKek, type AwsKekOptions } from '../../src/kms/aws.js';
import { kmsContext } from '../../src/kms/index.js';
import { FakeAwsKms } from '../fakes/aws-kms-server.js';
import { assertNoSecret, captureKmsError, overFake, runKmsContract } from './kms-contract.js';

// The SDK's default credential chain reads these first; nothing else is consulted.
process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
delete process.env.AWS_PROFILE;

function kekFor(fake: FakeAwsKms, keyId: string, extra: Partial<AwsKekOptions> = {}): AwsKek {
  return new AwsKek({
    keyId,
    region: fake.region,
    endpoint: fake.url,
    requestTimeoutMs: 500,
    connectTimeoutMs: 500,
    retryBaseDelayMs: 10,
    ...extra,
  });
}

runKmsContract({
  name: 'aws',
  make: async () => {
    const fake = await FakeAwsKms.start();
    fake.createKey({ alias: 'alias/sidekey' });
    return overFake(kekFor(fake, 'alias/sidekey'), fake);
  },
});

describe('aws KEK adapter', () => {
  let fake: FakeAwsKms;
  before(async () => {
    fake = await FakeAwsKms.start();
  });
  after(() => fake.close());

  const context = kmsContext.tek('acme', 1);

  it('uses the key by id, ARN, alias and alias ARN interchangeably for unwrap of its own blobs', async () => {
    const { keyId, arn } = fake.createKey({ alias: 'alias/refs' });
    const key = randomBytes(32);
    const byAlias = kekFor(fake, 'alias/refs');
    const wrapped = await byAlias.wrap(key, context);
    for (const ref of [keyId, arn, `arn:aws:kms:${fake.region}:${fake.account}:alias/refs`]) {
      const kek = kekFor(fake, ref);
      assert.equal(kek.kekRef, `aws:${ref}`);
      assert.deepEqual(await kek.unwrap(wrapped, context), key);
      await kek.close();
    }
    await byAlias.close();
  });

  it('takes the region from a key ARN when none is configured', async () => {
    const { arn } = fake.createKey();
    const kek = new AwsKek({ keyId: arn, endpoint: fake.url, retryBaseDelayMs: 10 });
    const key = randomBytes(32);
    assert.deepEqual(await kek.unwrap(await kek.wrap(key, context), context), key);
    await kek.close();
  });

  it('refuses a blob made under another key (IncorrectKeyException) as integrity', async () => {
    const a = fake.createKey();
    const b = fake.createKey();
    const kekA = kekFor(fake, a.keyId);
    const kekB = kekFor(fake, b.keyId);
    const key = randomBytes(32);
    const wrapped = await kekA.wrap(key, context);
    const err = await captureKmsError(kekB.unwrap(wrapped, context));
    assert.equal(err.kind, 'integrity');
    assert.match(err.message, /IncorrectKeyException/);
    assertNoSecret(err, key);
    await kekA.close();
    await kekB.close();
  });

  it('keeps unwrapping blobs made before a KMS key rotation', async () => {
    const { keyId } = fake.createKey();
    const kek = kekFor(fake, keyId);
    const key = randomBytes(32);
    const before = await kek.wrap(key, context);
    fake.rotateKey(keyId);
    const afterRotation = await kek.wrap(key, context);
    assert.deepEqual(await kek.unwrap(before, context), key);
    assert.deepEqual(await kek.unwrap(afterRotation, context), key);
    await kek.close();
  });

  it('retries throttling within its budget, then reports UNAVAILABLE', async () => {
    const { keyId } = fake.createKey();
    const kek = kekFor(fake, keyId, { maxAttempts: 3 });
    const key = randomBytes(32);
    fake.throttle(2); // two throttles, the third attempt succeeds
    assert.deepEqual(await kek.unwrap(await kek.wrap(key, context), context), key);
    const callsBefore = fake.count('Encrypt');
    fake.throttle(Number.POSITIVE_INFINITY);
    const err = await captureKmsError(kek.wrap(key, context));
    fake.throttle(0);
    assert.equal(err.kind, 'unavailable');
    assert.match(err.message, /ThrottlingException/);
    assert.equal(fake.count('Encrypt') - callsBefore, 3, 'exactly maxAttempts attempts');
    await kek.close();
  });

  it('maps KMS internal errors (500) to UNAVAILABLE', async () => {
    const { keyId } = fake.createKey();
    const kek = kekFor(fake, keyId, { maxAttempts: 2 });
    fake.failInternally(5);
    const err = await captureKmsError(kek.wrap(randomBytes(32), context));
    fake.failInternally(0);
    assert.equal(err.kind, 'unavailable');
    await kek.close();
  });

  it('times out a KMS that does not answer, as UNAVAILABLE', async () => {
    const { keyId } = fake.createKey();
    const kek = kekFor(fake, keyId, { maxAttempts: 2, requestTimeoutMs: 150 });
    fake.hang(true);
    // Without the request timeout this call would never return.
    const err = await captureKmsError(kek.wrap(randomBytes(32), context));
    fake.hang(false);
    assert.equal(err.kind, 'unavailable', err.message);
    await kek.close();
  });

  it('reports access denied clearly, from calls and from health, without retrying', async () => {
    const { keyId } = fake.createKey({ alias: 'alias/denied' });
    const kek = kekFor(fake, 'alias/denied');
    const wrapped = await kek.wrap(randomBytes(32), context);
    fake.deny();
    try {
      const before = fake.calls.length;
      const err = await captureKmsError(kek.wrap(randomBytes(32), context));
      assert.equal(err.kind, 'denied');
      assert.match(err.message, /access denied to key alias\/denied/);
      assert.equal(fake.calls.length - before, 1, 'a refusal is not retried');
      assert.equal((await captureKmsError(kek.unwrap(wrapped, context))).kind, 'denied');
      const health = await kek.health();
      assert.equal(health.ok, false);
      assert.match(
        health.ok ? '' : health.reason,
        /^aws kms: access denied to key alias\/denied .*AccessDeniedException/,
      );
      assert.match(health.ok ? '' : health.reason, new RegExp(keyId));
    } finally {
      fake.allowAll();
    }
    await kek.close();
  });

  it('reports a disabled, missing or unsuitable key from health and calls', async () => {
    const disabled = fake.createKey();
    fake.setKeyState(disabled.keyId, 'Disabled');
    const signing = fake.createKey({ usage: 'SIGN_VERIFY', spec: 'ECC_NIST_P256' });
    const cases: [string, RegExp][] = [
      [disabled.keyId, /is Disabled/],
      ['alias/nope', /not found|NotFoundException/],
      [signing.keyId, /SYMMETRIC_DEFAULT ENCRYPT_DECRYPT/],
    ];
    for (const [ref, reason] of cases) {
      const kek = kekFor(fake, ref);
      const health = await kek.health();
      assert.equal(health.ok, false, ref);
      assert.match(health.ok ? '' : health.reason, reason);
      assert.equal((await captureKmsError(kek.wrap(randomBytes(32), context))).kind, 'denied', ref);
      await kek.close();
    }
  });

  it('reports refused credentials as denied', async () => {
    const other = await FakeAwsKms.start({ region: 'us-east-2' });
    other.createKey({ alias: 'alias/x' });
    // Signed for eu-west-1 but sent to a us-east-2 endpoint: the credential scope is refused.
    const kek = kekFor(other, 'alias/x', { region: 'eu-west-1' });
    const err = await captureKmsError(kek.wrap(randomBytes(32), context));
    assert.equal(err.kind, 'denied');
    assert.match(err.message, /credentials were refused/);
    await kek.close();
    await other.close();
  });
});
