/**
 * The KEK ring with previous KEKs (SIDEKEY_KMS_PREVIOUS): each reference
 * builds a KEK whose kekRef is exactly what was stored beside the keys it
 * wrapped, so keys wrapped under a former primary unwrap; and the target of
 * `rotate kek --to` is built from a reference with this process's settings.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import {
  createKekFromRef,
  createKekRing,
  type KekFactoryDeps,
  type KmsCallObservation,
  kmsContext,
  parseKekRef,
} from '../../src/kms/index.js';
import { FakeAwsKms } from '../fakes/aws-kms-server.js';
import { FakeVault } from '../fakes/vault-server.js';

process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
process.env.AWS_EC2_METADATA_DISABLED = 'true';

describe('KEK ring with previous KEKs', () => {
  let aws: FakeAwsKms;
  let vault: FakeVault;
  let vaultToken: string;
  let dataDir: string;
  before(async () => {
    aws = await FakeAwsKms.start();
    aws.createKey({ alias: 'alias/old' });
    aws.createKey({ alias: 'alias/new' });
    vault = await FakeVault.start();
    vault.createKey('old');
    vaultToken = vault.createToken({ ttl: 0 });
    dataDir = mkdtempSync(join(tmpdir(), 'sidekey-ring-'));
  });
  after(async () => {
    await aws.close();
    await vault.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const deps = (warnings: string[] = [], seen: KmsCallObservation[] = []): KekFactoryDeps => ({
    random: { bytes: (n) => randomBytes(n) },
    warn: (m) => warnings.push(m),
    observe: (o) => seen.push(o),
    aws: { retryBaseDelayMs: 10, requestTimeoutMs: 500 },
    vault: { retryBaseDelayMs: 10, requestTimeoutMs: 500 },
  });
  const env = (extra: Record<string, string>) =>
    loadConfig(
      {
        SIDEKEY_DATA_DIR: dataDir,
        AWS_REGION: aws.region,
        AWS_ENDPOINT_URL_KMS: aws.url,
        VAULT_ADDR: vault.url,
        VAULT_TOKEN: vaultToken,
        ...extra,
      },
      '/',
    );

  it('unwraps keys wrapped under former primaries (local, aws, vault), wraps with the new primary', async () => {
    const context = kmsContext.tek('acme', 3);
    const key = randomBytes(32);
    // Keys wrapped while each KEK was the primary.
    const wrappedBy = new Map<string, Buffer>();
    for (const cfg of [
      {} as Record<string, string>,
      { SIDEKEY_KMS: 'aws', SIDEKEY_KMS_KEY_ID: 'alias/old' },
      { SIDEKEY_KMS: 'vault', SIDEKEY_KMS_KEY_ID: 'old' },
    ]) {
      const ring = await createKekRing(env(cfg), deps());
      wrappedBy.set(ring.primary.kekRef, await ring.primary.wrap(key, context));
      for (const k of ring.all()) await k.close();
    }
    const seen: KmsCallObservation[] = [];
    const warnings: string[] = [];
    const ring = await createKekRing(
      env({
        SIDEKEY_KMS: 'aws',
        SIDEKEY_KMS_KEY_ID: 'alias/new',
        SIDEKEY_KMS_PREVIOUS: 'local,aws:alias/old,vault:old',
      }),
      deps(warnings, seen),
    );
    try {
      assert.equal(ring.primary.kekRef, 'aws:alias/new');
      assert.deepEqual(
        ring.all().map((k) => k.kekRef.replace(/^local:[0-9a-f]{16}$/, 'local:…')),
        ['aws:alias/new', 'local:…', 'aws:alias/old', 'vault:transit/old'],
      );
      for (const [ref, wrapped] of wrappedBy) {
        const kek = ring.byRef(ref);
        assert.ok(kek !== undefined, `the ring has ${ref}`);
        assert.deepEqual(await kek.unwrap(wrapped, context), key);
      }
      // Every KEK of the ring is instrumented, and each remote one was checked at start.
      assert.ok(seen.some((o) => o.provider === 'vault' && o.operation === 'unwrap'));
      assert.ok(seen.some((o) => o.provider === 'local' && o.operation === 'unwrap'));
      assert.ok(seen.some((o) => o.provider === 'vault' && o.operation === 'health'));
      assert.deepEqual(warnings, []);
    } finally {
      for (const k of ring.all()) await k.close();
    }
  });

  it('drops a previous KEK that is the primary; checks a local fingerprint; never creates a previous local key', async () => {
    const ring = await createKekRing(env({ SIDEKEY_KMS_PREVIOUS: 'local' }), deps());
    const ref = ring.primary.kekRef;
    assert.equal(ring.all().length, 1);
    for (const k of ring.all()) await k.close();

    const checked = await createKekRing(
      env({ SIDEKEY_KMS: 'aws', SIDEKEY_KMS_KEY_ID: 'alias/new', SIDEKEY_KMS_PREVIOUS: ref }),
      deps(),
    );
    assert.ok(checked.byRef(ref) !== undefined);
    for (const k of checked.all()) await k.close();

    await assert.rejects(
      createKekRing(
        env({
          SIDEKEY_KMS: 'aws',
          SIDEKEY_KMS_KEY_ID: 'alias/new',
          SIDEKEY_KMS_PREVIOUS: 'local:0000000000000000',
        }),
        deps(),
      ),
      /local KEK: the key file .* is local:[0-9a-f]{16}, not local:0000000000000000/,
    );
    const empty = mkdtempSync(join(tmpdir(), 'sidekey-ring-empty-'));
    try {
      await assert.rejects(
        createKekRing(
          loadConfig(
            {
              SIDEKEY_DATA_DIR: empty,
              SIDEKEY_KMS: 'aws',
              SIDEKEY_KMS_KEY_ID: 'alias/new',
              AWS_REGION: aws.region,
              AWS_ENDPOINT_URL_KMS: aws.url,
              SIDEKEY_KMS_PREVIOUS: 'local',
            },
            '/',
          ),
          deps(),
        ),
        /local KEK: no key file .*kek\.key/,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('builds a rotation target from a reference with the process settings, whatever the primary', async () => {
    const config = env({});
    assert.equal(config.kms.provider, 'local');
    const target = await createKekFromRef(parseKekRef('aws:alias/new'), config, deps());
    try {
      assert.equal(target.kekRef, 'aws:alias/new');
      const context = kmsContext.ork('acme', '0'.repeat(32));
      const key = randomBytes(32);
      assert.deepEqual(await target.unwrap(await target.wrap(key, context), context), key);
    } finally {
      await target.close();
    }
    const onMount = await createKekFromRef(parseKekRef('vault:transit/old'), config, deps());
    assert.equal(onMount.kekRef, 'vault:transit/old');
    await onMount.close();
  });
});
