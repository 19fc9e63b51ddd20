/**
 * createKekRing builds each adapter from the validated configuration, reports
 * a KMS that is not ready at start, and reports every KMS call for metrics.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Config } from '../../src/config/index.js';
import {
  createKekRing,
  type KekFactoryDeps,
  type KmsCallObservation,
  kmsContext,
} from '../../src/kms/index.js';
import { FakeAwsKms } from '../fakes/aws-kms-server.js';
import { FakeVault } from '../fakes/vault-server.js';

process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
process.env.AWS_EC2_METADATA_DISABLED = 'true';

describe('createKekRing', () => {
  let aws: FakeAwsKms;
  let vault: FakeVault;
  let dataDir: string;
  before(async () => {
    aws = await FakeAwsKms.start();
    aws.createKey({ alias: 'alias/sidekey' });
    vault = await FakeVault.start();
    vault.createKey('sidekey');
    dataDir = mkdtempSync(join(tmpdir(), 'sidekey-factory-'));
  });
  after(async () => {
    await aws.close();
    await vault.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const deps = (warnings: string[], seen: KmsCallObservation[] = []): KekFactoryDeps => ({
    random: { bytes: (n) => randomBytes(n) },
    warn: (m) => warnings.push(m),
    observe: (o) => seen.push(o),
    aws: { retryBaseDelayMs: 10, requestTimeoutMs: 500 },
    vault: { retryBaseDelayMs: 10, requestTimeoutMs: 500 },
  });

  const roundTrip = async (
    config: Pick<Config, 'kms' | 'dataDir'>,
    warnings: string[],
    seen: KmsCallObservation[],
  ) => {
    const ring = await createKekRing(config, deps(warnings, seen));
    const key = randomBytes(32);
    const context = kmsContext.tek('acme', 1);
    assert.deepEqual(await ring.primary.unwrap(await ring.primary.wrap(key, context), context), key);
    assert.equal(ring.byRef(ring.primary.kekRef), ring.primary);
    await ring.primary.close();
    return ring;
  };

  it('builds the aws adapter, checks it at start and reports its calls', async () => {
    const warnings: string[] = [];
    const seen: KmsCallObservation[] = [];
    const ring = await roundTrip(
      { dataDir, kms: { provider: 'aws', keyId: 'alias/sidekey', region: aws.region, endpoint: aws.url } },
      warnings,
      seen,
    );
    assert.equal(ring.primary.kekRef, 'aws:alias/sidekey');
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      seen.map((o) => `${o.provider} ${o.operation} ${o.outcome}`),
      ['aws health ok', 'aws wrap ok', 'aws unwrap ok'],
    );
  });

  it('builds the vault adapter from the configuration', async () => {
    const warnings: string[] = [];
    const ring = await roundTrip(
      {
        dataDir,
        kms: {
          provider: 'vault',
          keyId: 'sidekey',
          addr: vault.url,
          transitMount: 'transit',
          token: vault.createToken(),
        },
      },
      warnings,
      [],
    );
    assert.equal(ring.primary.kekRef, 'vault:transit/sidekey');
    assert.deepEqual(warnings, []);
  });

  it('starts, but says why in the log, when the KMS refuses at start', async () => {
    const warnings: string[] = [];
    aws.deny(['DescribeKey']);
    try {
      const ring = await createKekRing(
        { dataDir, kms: { provider: 'aws', keyId: 'alias/sidekey', region: aws.region, endpoint: aws.url } },
        deps(warnings),
      );
      await ring.primary.close();
    } finally {
      aws.allowAll();
    }
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      /^KMS aws:alias\/sidekey is not ready: aws kms: access denied to key alias\/sidekey/,
    );
  });

  it('builds the local adapter with its development warning', async () => {
    const warnings: string[] = [];
    const ring = await roundTrip({ dataDir, kms: { provider: 'local' } }, warnings, []);
    assert.equal(ring.primary.provider, 'local');
    assert.match(warnings[0] ?? '', /for development only/);
  });
});
