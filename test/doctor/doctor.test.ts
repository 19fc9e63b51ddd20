/**
 * `sidekey doctor` against the real harness PostgreSQL (TLS, client
 * certificates) and the AWS KMS test server: a sound sidecar setup passes;
 * each broken setup it is meant to detect fails with exit 1 and a line that
 * names the problem and what to do.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCertificateAuthority, issueCertificate } from '../../src/certs/x509.js';
import { FakeAwsKms } from '../fakes/aws-kms-server.js';
import type { CliResult } from '../support/cli.js';
import { sidekey } from '../support/cli.js';
import { type Fleet, startFleet } from '../support/fleet.js';
import { SIDECAR_ROLE } from '../support/postgres.js';

process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
delete process.env.AWS_PROFILE;

let fleet: Fleet;
let scratch: string;
before(async () => {
  fleet = await startFleet();
  scratch = mkdtempSync(join(tmpdir(), 'sidekey-doctor-'));
});
after(async () => {
  await fleet?.destroy();
  rmSync(scratch, { recursive: true, force: true });
});

interface Report {
  ok: boolean;
  checks: { name: string; status: string; detail: string; fix?: string }[];
}

async function doctor(extra: Record<string, string> = {}): Promise<{ r: CliResult; report: Report }> {
  const env = fleet.sidecarEnv(fleet.sidecarDataDir(), extra);
  const r = await sidekey(['doctor', '--json'], env);
  return { r, report: JSON.parse(r.stdout) as Report };
}

function check(report: Report, name: string) {
  const c = report.checks.find((x) => x.name === name);
  assert.ok(c !== undefined, `no check ${name} in ${JSON.stringify(report.checks.map((x) => x.name))}`);
  return c;
}

function file(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

describe('sidekey doctor', () => {
  it('passes a sound sidecar setup, every check ok (the local KEK only warned about)', async () => {
    const { r, report } = await doctor();
    assert.equal(r.code, 0, r.stdout);
    assert.equal(report.ok, true);
    const failed = report.checks.filter((c) => c.status === 'fail');
    assert.deepEqual(failed, []);
    for (const name of [
      'config',
      'kms.round-trip',
      'postgres.tls-files',
      'postgres.client-certificate',
      'postgres.connect',
      'postgres.schema',
      'postgres.grants',
      'clock',
      'grpc.socket-dir',
    ])
      assert.equal(check(report, name).status, 'ok', name);
    assert.equal(check(report, 'kms.provider').status, 'warn');
    // The human form: one line per check, fixes under failures.
    const text = await sidekey(['doctor'], fleet.sidecarEnv(fleet.sidecarDataDir()));
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^ok {4}postgres\.grants/m);
    assert.match(text.stderr, /doctor: no problem found/);
  });

  it('names a CA that did not sign the server certificate', async () => {
    const other = createCertificateAuthority({ commonName: 'some other CA' });
    const { r, report } = await doctor({ SIDEKEY_PG_CA_FILE: file('other-ca.pem', other.cert) });
    assert.equal(r.code, 1);
    const c = check(report, 'postgres.connect');
    assert.equal(c.status, 'fail');
    assert.match(c.detail, /server certificate .* is not trusted/);
    assert.match(c.fix ?? '', /SIDEKEY_PG_CA_FILE must hold the CA/);
  });

  it('names an expired client certificate before trying it', async () => {
    const expired = issueCertificate(fleet.pg.ca, {
      commonName: SIDECAR_ROLE,
      usage: 'client',
      notBefore: new Date(Date.now() - 40 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    const { r, report } = await doctor({
      SIDEKEY_PG_CERT_FILE: file('expired.crt', expired.cert),
      SIDEKEY_PG_KEY_FILE: file('expired.key', expired.key),
    });
    assert.equal(r.code, 1);
    const c = check(report, 'postgres.client-certificate');
    assert.equal(c.status, 'fail');
    assert.match(c.detail, /client certificate .* expired on /);
    assert.match(c.fix ?? '', /renew SIDEKEY_PG_CERT_FILE/);
  });

  it('names a missing grant and the migrate command that restores it', async () => {
    await fleet.pg.adminQuery(`revoke select on sidekey_tenant_keys from ${SIDECAR_ROLE}`);
    try {
      const { r, report } = await doctor();
      assert.equal(r.code, 1);
      const c = check(report, 'postgres.grants');
      assert.equal(c.status, 'fail');
      assert.match(c.detail, new RegExp(`role ${SIDECAR_ROLE} lacks select on sidekey_tenant_keys`));
      assert.match(c.fix ?? '', /sidekey migrate.*--sidecar-role sidekey/);
    } finally {
      await fleet.pg.adminQuery(`grant select on sidekey_tenant_keys to ${SIDECAR_ROLE}`);
    }
  });

  it('names a KMS key this identity may not use', async () => {
    const kms = await FakeAwsKms.start();
    try {
      const { keyId } = kms.createKey();
      kms.deny(['Encrypt', 'Decrypt']);
      const { r, report } = await doctor({
        SIDEKEY_KMS: 'aws',
        SIDEKEY_KMS_KEY_ID: keyId,
        AWS_REGION: kms.region,
        AWS_ENDPOINT_URL_KMS: kms.url,
      });
      assert.equal(r.code, 1);
      const c = check(report, 'kms.round-trip');
      assert.equal(c.status, 'fail');
      assert.match(c.detail, /denied|not authori[sz]ed|AccessDenied/i);
      assert.match(c.fix ?? '', /kms:Encrypt and kms:Decrypt/);
    } finally {
      await kms.close();
    }
  });

  it('names a socket directory that cannot hold the socket, or that anyone can write', async () => {
    const notADir = file('plain-file', 'x');
    const blocked = await doctor({ SIDEKEY_GRPC_SOCKET: join(notADir, 'sidekey.sock') });
    assert.equal(blocked.r.code, 1);
    const c = check(blocked.report, 'grpc.socket-dir');
    assert.equal(c.status, 'fail');
    assert.match(c.detail, /cannot create the gRPC socket in .*plain-file/);
    assert.match(c.fix ?? '', /directory this user can write/);

    const open = join(scratch, 'world-writable');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const loose = await doctor({ SIDEKEY_GRPC_SOCKET: join(open, 'sidekey.sock') });
    assert.equal(loose.r.code, 1);
    const d = check(loose.report, 'grpc.socket-dir');
    assert.match(d.detail, /writable by every user \(mode 777\)/);
  });
});
