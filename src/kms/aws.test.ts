import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsKek, classifyAwsError } from './aws.js';

const sdkError = (
  name: string,
  status: number,
  fault: 'client' | 'server' = status >= 500 ? 'server' : 'client',
) => Object.assign(new Error('m'), { name, $fault: fault, $metadata: { httpStatusCode: status } });

describe('classifyAwsError', () => {
  const table: [unknown, string][] = [
    [sdkError('InvalidCiphertextException', 400), 'integrity'],
    [sdkError('IncorrectKeyException', 400), 'integrity'],
    [sdkError('ThrottlingException', 400), 'unavailable'],
    [sdkError('KMSInternalException', 500), 'unavailable'],
    [sdkError('DependencyTimeoutException', 503), 'unavailable'],
    [sdkError('KeyUnavailableException', 500), 'unavailable'],
    [sdkError('SomethingNew', 502), 'unavailable'],
    [sdkError('AccessDeniedException', 400), 'denied'],
    [sdkError('DisabledException', 400), 'denied'],
    [sdkError('KMSInvalidStateException', 400), 'denied'],
    [sdkError('NotFoundException', 400), 'denied'],
    [sdkError('InvalidKeyUsageException', 400), 'denied'],
    [sdkError('UnrecognizedClientException', 400), 'denied'],
    [sdkError('SomethingNew', 400), 'denied'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'unavailable'],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'unavailable'],
    [Object.assign(new Error('t'), { name: 'TimeoutError' }), 'unavailable'],
    [Object.assign(new Error('Could not load credentials'), { name: 'CredentialsProviderError' }), 'denied'],
  ];
  for (const [err, kind] of table) {
    it(`${(err as Error).name}${(err as { code?: string }).code ? ` ${(err as { code?: string }).code}` : ''} → ${kind}`, () => {
      assert.equal(classifyAwsError(err), kind);
    });
  }
});

describe('AwsKek', () => {
  it('names the key as configured in its kekRef', async () => {
    const kek = new AwsKek({ keyId: 'alias/sidekey', region: 'eu-west-1' });
    assert.equal(kek.kekRef, 'aws:alias/sidekey');
    assert.equal(kek.provider, 'aws');
    await kek.close();
  });
});
