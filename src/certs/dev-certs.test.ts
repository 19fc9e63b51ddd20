import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateDevCerts, runCertsDev } from './dev-certs.js';
import { createCertificateAuthority, issueCertificate } from './x509.js';

const root = mkdtempSync(join(tmpdir(), 'sidekey-certs-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('sidekey certs dev', () => {
  it('writes a CA, a localhost server certificate and one client certificate per role', async () => {
    const out = join(root, 'dev');
    const written = await runCertsDev(out);
    assert.deepEqual(written.map((p) => p.slice(out.length + 1)).sort(), [
      'ca.crt',
      'ca.key',
      'server.crt',
      'server.key',
      'sidekey.crt',
      'sidekey.key',
      'sidekey_ops.crt',
      'sidekey_ops.key',
    ]);
    assert.equal(statSync(out).mode & 0o777, 0o700);
    for (const p of written.filter((f) => f.endsWith('.key')))
      assert.equal(statSync(p).mode & 0o777, 0o600, p);

    const ca = new X509Certificate(readFileSync(join(out, 'ca.crt')));
    assert.equal(ca.subject, 'CN=sidekey development CA');
    assert.equal(ca.ca, true);
    const server = new X509Certificate(readFileSync(join(out, 'server.crt')));
    assert.ok(server.verify(ca.publicKey));
    assert.equal(server.checkHost('localhost'), 'localhost');
    assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(server.checkIP('::1'), '::1');
    assert.equal(server.checkHost('example.com'), undefined);
    assert.deepEqual(server.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    for (const role of ['sidekey', 'sidekey_ops']) {
      const c = new X509Certificate(readFileSync(join(out, `${role}.crt`)));
      assert.equal(c.subject, `CN=${role}`);
      assert.ok(c.verify(ca.publicKey));
      assert.deepEqual(c.keyUsage, ['1.3.6.1.5.5.7.3.2']);
      assert.equal(c.ca, false);
    }
  });

  it('refuses to overwrite an existing set unless asked, and honours other role names', () => {
    const out = join(root, 'again');
    generateDevCerts(out);
    assert.throws(() => generateDevCerts(out), /already holds ca\.crt/);
    const d = generateDevCerts(out, {
      overwrite: true,
      sidecarRole: 'app_sidecar',
      operatorRole: 'app_ops',
      days: 2,
    });
    const c = new X509Certificate(readFileSync(d.files.clients.app_sidecar!.cert));
    assert.equal(c.subject, 'CN=app_sidecar');
    const lifetime = Date.parse(c.validTo) - Date.parse(c.validFrom);
    assert.ok(lifetime <= 2 * 86_400_000 + 10 * 60_000);
    assert.throws(() => generateDevCerts(join(root, 'x'), { sidecarRole: 'Bad Name' }), /invalid role name/);
  });

  it('issues certificates with the chosen validity', () => {
    const ca = createCertificateAuthority({ commonName: 'c' });
    const notBefore = new Date('2020-01-01T00:00:00Z');
    const notAfter = new Date('2020-01-02T00:00:00Z');
    const c = new X509Certificate(
      issueCertificate(ca, { commonName: 'x', usage: 'client', notBefore, notAfter }).cert,
    );
    assert.equal(Date.parse(c.validFrom), notBefore.getTime());
    assert.equal(Date.parse(c.validTo), notAfter.getTime());
    assert.throws(() =>
      issueCertificate(ca, { commonName: 'x', usage: 'client', notBefore: notAfter, notAfter: notBefore }),
    );
  });
});
