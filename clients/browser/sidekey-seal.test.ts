/**
 * The browser module in Node (it is isomorphic): what it seals opens with
 * the sidecar's own code (src/ingest) for the same tenant and field only;
 * it prefers X-Wing, honours `kems`, and refuses malformed key lists.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toBase64Url } from '../../src/crypto/index.js';
import {
  ingestInfo,
  keyPairFromSeed,
  newKeyId,
  openingKey,
  openSealed,
  parseSealed,
  SUITES,
  type SuiteName,
} from '../../src/ingest/suites.js';
import { chooseKey, createSealer, type IngestKey } from './sidekey-seal.js';

async function keyList(): Promise<{ keys: IngestKey[]; privates: Map<string, Buffer> }> {
  const privates = new Map<string, Buffer>();
  const keys: IngestKey[] = [];
  for (const [i, suite] of (['xwing', 'x25519'] as SuiteName[]).entries()) {
    const pair = await keyPairFromSeed(suite, Buffer.alloc(32, i + 1));
    const keyId = newKeyId(suite, Buffer.alloc(16, i + 1));
    privates.set(keyId, pair.privateKey);
    keys.push({
      keyId,
      kem: SUITES[suite].kem,
      kdf: 'HKDF-SHA256',
      aead: 'AES-256-GCM',
      publicKey: toBase64Url(pair.publicKey),
    });
  }
  return { keys, privates };
}

describe('clients/browser/sidekey-seal.js', () => {
  for (const kem of ['X-Wing', 'DHKEM(X25519, HKDF-SHA256)']) {
    it(`${kem}: sealed strings open on the sidecar side for that tenant and field only`, async () => {
      const { keys, privates } = await keyList();
      const sealer = await createSealer(keys, { tenant: 'acme', kems: [kem] });
      assert.equal(sealer.kem, kem);
      const sealed = await sealer.seal('card', ['4111 1111 1111 1111', 'ü']);
      assert.equal(sealed.length, 2);
      for (const [i, s] of sealed.entries()) {
        const parts = parseSealed(s, 65536);
        assert.ok(parts, s.slice(0, 30));
        assert.equal(parts.keyId, sealer.keyId);
        const key = await openingKey(parts.suite, privates.get(parts.keyId)!);
        const opened = await openSealed(key, parts, ingestInfo('acme', 'card'));
        assert.equal(Buffer.from(opened!).toString('utf8'), ['4111 1111 1111 1111', 'ü'][i]);
        assert.equal(await openSealed(key, parts, ingestInfo('acme', 'iban')), undefined);
      }
    });
  }

  it('prefers X-Wing, in the order of the list; refuses lists with no usable key', async () => {
    const { keys } = await keyList();
    assert.equal(chooseKey(keys).kem, 'X-Wing');
    assert.equal(chooseKey([...keys].reverse()).kem, 'DHKEM(X25519, HKDF-SHA256)');
    assert.throws(() => chooseKey(keys.map((k) => ({ ...k, aead: 'AES-128-GCM' }))));
    assert.throws(() => chooseKey(keys.map((k) => ({ ...k, keyId: 'bad' }))));
    assert.throws(() => chooseKey('nope' as never));
    await assert.rejects(createSealer(keys, { tenant: 'Not Valid' }));
    const sealer = await createSealer(keys, { tenant: 'acme' });
    await assert.rejects(sealer.seal('bad field!', ['x']));
    await assert.rejects(sealer.seal('card', [1 as never]));
  });
});
