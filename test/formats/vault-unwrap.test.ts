/**
 * docs/formats.md §14 step 1, `vault:` KEK, followed to the letter with
 * plain HTTP against the wire-compatible Vault test server: a key sidekey
 * wrapped comes back, and a wrapped key moved to another context is refused.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { after, before, it } from 'node:test';
import { kmsContext } from '../../src/kms/index.js';
import { VaultKek } from '../../src/kms/vault.js';
import { FakeVault } from '../fakes/vault-server.js';

let fake: FakeVault;
let token: string;
before(async () => {
  fake = await FakeVault.start({ mount: 'transit' });
  fake.createKey('sidekey');
  token = fake.createToken();
});
after(async () => {
  await fake?.close();
});

/** §1 canonicalContext, written again from the document. */
function canonical(ctx: Record<string, string>): Buffer {
  const lp = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  };
  const keys = Object.keys(ctx).sort();
  return Buffer.concat([
    Buffer.from([keys.length >> 8, keys.length & 0xff]),
    ...keys.flatMap((k) => [lp(k), lp(ctx[k]!)]),
  ]);
}

/** The steps of the document: POST …/decrypt, base64 `data.plaintext`, check label and digest, the rest is the key. */
async function unwrapAsDocumented(
  kekRef: string,
  wrapped: Buffer,
  ctx: Record<string, string>,
): Promise<Buffer> {
  const path = kekRef.slice('vault:'.length);
  const slash = path.lastIndexOf('/');
  const [mount, keyName] = [path.slice(0, slash), path.slice(slash + 1)];
  const res = await fetch(`${fake.url}/v1/${mount}/decrypt/${keyName}`, {
    method: 'POST',
    headers: { 'X-Vault-Token': token, 'Content-Type': 'application/json' },
    body: JSON.stringify({ ciphertext: wrapped.toString('ascii') }),
  });
  assert.equal(res.status, 200);
  const inner = Buffer.from(((await res.json()) as { data: { plaintext: string } }).data.plaintext, 'base64');
  assert.ok(inner.length > 55);
  assert.equal(inner.subarray(0, 23).toString('hex'), '0015736964656b65792f7661756c742d777261702f7631');
  const digest = createHash('sha256').update(canonical(ctx)).digest();
  if (!timingSafeEqual(inner.subarray(23, 55), digest)) throw new Error('another context: refused');
  return inner.subarray(55);
}

it('unwraps a key sidekey wrapped under a Vault KEK, as the document says', async () => {
  const kek = new VaultKek({ addr: fake.url, keyName: 'sidekey', transitMount: 'transit', token });
  try {
    const key = randomBytes(32);
    const ctx = kmsContext.tek('acme', 3);
    const wrapped = await kek.wrap(key, ctx);
    assert.match(wrapped.toString('ascii'), /^vault:v1:/);
    assert.equal(kek.kekRef, 'vault:transit/sidekey');
    assert.deepEqual(await unwrapAsDocumented(kek.kekRef, wrapped, { ...ctx }), key);
    await assert.rejects(
      unwrapAsDocumented(kek.kekRef, wrapped, { ...kmsContext.tek('acme', 4) }),
      /refused/,
    );
  } finally {
    await kek.close();
  }
});
