/**
 * The one contract every KEK adapter (local, aws, vault) passes: round trip,
 * context binding, tamper detection, outage behaviour and health. Each
 * adapter's `kms-<name>.test.ts` calls `runKmsContract` with a factory that
 * builds a fresh adapter (and, for network adapters, a fresh test server).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type EncryptionContext, type KekPort, KmsError, kmsContext } from '../../src/kms/index.js';
import type { HttpFake } from '../fakes/http-fake.js';

export interface KmsContractSubject {
  readonly kek: KekPort;
  /** Makes the KMS unreachable (connection refused). */
  down(): Promise<void>;
  /** Makes it reachable again. */
  up(): Promise<void>;
  /** Closes the adapter and anything `make` started. */
  close(): Promise<void>;
}

/** The subject for an adapter talking to one of the wire-compatible fakes under test/fakes. */
export function overFake(kek: KekPort, fake: HttpFake): KmsContractSubject {
  return {
    kek,
    down: () => fake.down(),
    up: () => fake.up(),
    close: async () => {
      await kek.close();
      await fake.close();
    },
  };
}

export interface KmsContractOptions {
  readonly name: string;
  readonly make: () => Promise<KmsContractSubject>;
  /** Set, with the reason, when the adapter has no KMS that can go away. */
  readonly outageUnsupported?: string;
}

export function runKmsContract(options: KmsContractOptions): void {
  describe(`KMS contract: ${options.name}`, () => {
    let subject: KmsContractSubject;
    let kek: KekPort;
    beforeEach(async () => {
      subject = await options.make();
      kek = subject.kek;
    });
    afterEach(async () => {
      await subject.close();
    });

    const tekContext = kmsContext.tek('acme', 3);

    it('round-trips a 32-byte key and never shows it in the wrapped bytes', async () => {
      const key = randomBytes(32);
      const wrapped = await kek.wrap(key, tekContext);
      assert.ok(Buffer.isBuffer(wrapped));
      assert.equal(wrapped.indexOf(key), -1);
      assert.equal(wrapped.indexOf(Buffer.from(key.toString('base64'))), -1);
      assert.deepEqual(await kek.unwrap(wrapped, tekContext), key);
    });

    it('round-trips ORK and audit contexts', async () => {
      for (const context of [kmsContext.ork('acme', 'ork_1'), kmsContext.auditChain('chain-1')]) {
        const key = randomBytes(32);
        assert.deepEqual(await kek.unwrap(await kek.wrap(key, context), context), key);
      }
    });

    it('wraps the same key differently each time', async () => {
      const key = randomBytes(32);
      const a = await kek.wrap(key, tekContext);
      const b = await kek.wrap(key, tekContext);
      assert.notDeepEqual(a, b);
    });

    it('accepts the same context given in another order', async () => {
      const key = randomBytes(32);
      const wrapped = await kek.wrap(key, { purpose: 'tek', tenant: 'acme', version: '3' });
      assert.deepEqual(await kek.unwrap(wrapped, { version: '3', tenant: 'acme', purpose: 'tek' }), key);
    });

    it('has a stable, non-secret kekRef naming its provider', () => {
      assert.ok(kek.kekRef.startsWith(`${kek.provider}:`), kek.kekRef);
    });

    it('refuses any other encryption context as an integrity error', async () => {
      const key = randomBytes(32);
      const wrapped = await kek.wrap(key, tekContext);
      const wrong: EncryptionContext[] = [
        kmsContext.tek('acme', 4),
        kmsContext.tek('other', 3),
        kmsContext.ork('acme', '3'),
        { ...tekContext, extra: 'x' },
        { purpose: 'tek', tenant: 'acme' },
        {},
        { purpose: 'tek', tenant: 'acme', version: '3 ' },
        { purpose: 'tek', Tenant: 'acme', version: '3' },
      ];
      for (const context of wrong) {
        const err = await captureKmsError(kek.unwrap(wrapped, context));
        assert.equal(err.kind, 'integrity', `context ${JSON.stringify(context)}: ${err.message}`);
        assertNoSecret(err, key);
      }
    });

    it('refuses tampered, truncated and empty wrapped keys as integrity errors', async () => {
      const key = randomBytes(32);
      const wrapped = await kek.wrap(key, tekContext);
      const variants: Buffer[] = [];
      for (const at of [
        0,
        Math.floor(wrapped.length / 3),
        Math.floor(wrapped.length / 2),
        wrapped.length - 1,
      ]) {
        const copy = Buffer.from(wrapped);
        copy[at] = copy[at]! ^ 0x01;
        variants.push(copy);
      }
      variants.push(wrapped.subarray(0, wrapped.length - 1), wrapped.subarray(0, 8), Buffer.alloc(0));
      variants.push(Buffer.concat([wrapped, Buffer.from('A')]));
      for (const [i, bad] of variants.entries()) {
        const err = await captureKmsError(kek.unwrap(bad, tekContext));
        assert.equal(err.kind, 'integrity', `variant ${i}: ${err.message}`);
        assertNoSecret(err, key);
      }
    });

    it('is healthy while its KMS is reachable', async () => {
      assert.deepEqual(await kek.health(), { ok: true });
    });

    const outage = options.outageUnsupported === undefined ? {} : { skip: options.outageUnsupported };

    it('reports UNAVAILABLE while its KMS is down, and works again when it is back', outage, async () => {
      const key = randomBytes(32);
      const wrapped = await kek.wrap(key, tekContext);
      await subject.down();
      for (const call of [() => kek.wrap(key, tekContext), () => kek.unwrap(wrapped, tekContext)]) {
        const err = await captureKmsError(call());
        assert.equal(err.kind, 'unavailable', err.message);
        assertNoSecret(err, key);
      }
      await subject.up();
      // Retrying the same call is safe and now succeeds.
      assert.deepEqual(await kek.unwrap(wrapped, tekContext), key);
    });

    it('reports not ok, with a reason, from health while its KMS is down', outage, async () => {
      await subject.down();
      const health = await kek.health();
      assert.equal(health.ok, false);
      assert.ok(!health.ok && health.reason.length > 0);
      assert.match(!health.ok ? health.reason : '', new RegExp(kek.provider));
      await subject.up();
      assert.deepEqual(await kek.health(), { ok: true });
    });
  });
}

export async function captureKmsError(promise: Promise<unknown>): Promise<KmsError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof KmsError, `expected a KmsError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

/** The error (and its cause chain) shows no form of the key. */
export function assertNoSecret(err: unknown, ...secrets: Uint8Array[]): void {
  let text = '';
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 5; depth++) {
    text += e instanceof Error ? `${e.name} ${e.message} ${e.stack ?? ''}` : String(e);
    e = e instanceof Error ? e.cause : undefined;
  }
  for (const s of secrets) {
    const b = Buffer.from(s);
    for (const form of [b.toString('hex'), b.toString('base64'), b.toString('base64url')]) {
      assert.ok(!text.includes(form), 'error text contains a secret');
    }
  }
}
