import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KekRefError, parseKekRef, parseKekRefList } from './kek-ref.js';

describe('parseKekRef', () => {
  it('parses every provider form', () => {
    assert.deepEqual(parseKekRef('local'), { provider: 'local' });
    assert.deepEqual(parseKekRef(' local:0123456789abcdef '), {
      provider: 'local',
      fingerprint: '0123456789abcdef',
    });
    assert.deepEqual(parseKekRef('aws:alias/sidekey'), { provider: 'aws', keyId: 'alias/sidekey' });
    const arn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    assert.deepEqual(parseKekRef(`aws:${arn}`), { provider: 'aws', keyId: arn });
    assert.deepEqual(parseKekRef('aws:1234abcd-12ab-34cd-56ef-1234567890ab'), {
      provider: 'aws',
      keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
    });
    assert.deepEqual(parseKekRef('vault:sidekey'), { provider: 'vault', keyName: 'sidekey' });
    assert.deepEqual(parseKekRef('vault:transit/sidekey'), {
      provider: 'vault',
      keyName: 'sidekey',
      mount: 'transit',
    });
    assert.deepEqual(parseKekRef('vault:team/a/transit/key-2'), {
      provider: 'vault',
      keyName: 'key-2',
      mount: 'team/a/transit',
    });
  });

  it('accepts exactly the kekRef sidekey stores (keys status output)', () => {
    // local:<fingerprint>, aws:<key as configured>, vault:<mount>/<name>
    for (const stored of ['local:3f9a00112233aabb', 'aws:alias/x', 'vault:transit/sidekey']) {
      assert.doesNotThrow(() => parseKekRef(stored), stored);
    }
  });

  it('refuses anything else with a message naming the reference and the forms', () => {
    const bad = [
      '',
      'kms:x',
      'local:xyz',
      'local:0123456789ABCDEF',
      'aws:',
      'aws',
      'aws:has space',
      'aws:a,b',
      'vault:',
      'vault:transit/',
      'vault:bad name',
      'vault:-x',
      'vault:a//b',
    ];
    for (const text of bad) {
      assert.throws(
        () => parseKekRef(text),
        (err: Error) => err instanceof KekRefError && err.message.includes(JSON.stringify(text.trim())),
        text,
      );
    }
  });

  it('parses comma-separated lists, ignoring empty entries', () => {
    assert.deepEqual(parseKekRefList(''), []);
    assert.deepEqual(parseKekRefList('local, aws:alias/old,,vault:k'), [
      { provider: 'local' },
      { provider: 'aws', keyId: 'alias/old' },
      { provider: 'vault', keyName: 'k' },
    ]);
    assert.throws(() => parseKekRefList('local,nope'), KekRefError);
  });
});
