import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createCertificateAuthority, issueCertificate } from '../certs/x509.js';
import { StoreAuthError, StoreConfigError, StoreUnavailableError } from './errors.js';
import { parsePostgresUrl, TlsMaterial } from './postgres-connection.js';
import { classifyPgError } from './postgres-errors.js';

describe('parsePostgresUrl', () => {
  it('accepts role, host, port, database and verify-full', () => {
    assert.deepEqual(parsePostgresUrl('postgres://sidekey@db.internal:6432/tokens?sslmode=verify-full'), {
      host: 'db.internal',
      port: 6432,
      user: 'sidekey',
      database: 'tokens',
      applicationName: undefined,
    });
    assert.deepEqual(parsePostgresUrl('postgresql://[::1]/'), {
      host: '::1',
      port: 5432,
      user: undefined,
      database: 'sidekey',
      applicationName: undefined,
    });
    assert.equal(parsePostgresUrl('postgres://h/d?application_name=pod-1').applicationName, 'pod-1');
  });

  it('refuses passwords, weaker sslmodes, file parameters, sockets and unknown parameters', () => {
    const refused: [string, RegExp][] = [
      ['postgres://sidekey:pw@h/d', /must not contain a password/],
      ['postgres://h/d?password=pw', /must not contain a password/],
      ['postgres://h/d?sslmode=disable', /sslmode=disable.*verify-full/],
      ['postgres://h/d?sslmode=require', /sslmode=require/],
      ['postgres://h/d?sslmode=no-verify', /sslmode=no-verify/],
      ['postgres://h/d?sslrootcert=/x', /SIDEKEY_PG_CA_FILE/],
      ['postgres://h/d?sslkey=/x', /SIDEKEY_PG_KEY_FILE/],
      ['postgres://h/d?ssl=false', /unsupported parameter ssl/],
      ['postgres://h/d?host=/tmp', /unsupported parameter host/],
      ['postgres:///d', /TCP host/],
      ['postgres://%2Ftmp/d', /TCP host/],
      ['http://h/d', /postgres:\/\//],
      ['not a url', /not a valid URL/],
    ];
    for (const [url, msg] of refused) {
      assert.throws(
        () => parsePostgresUrl(url),
        (err) => err instanceof StoreConfigError && msg.test(err.message) && !err.message.includes(':pw'),
        url,
      );
    }
  });
});

describe('classifyPgError', () => {
  const target = { host: 'db', port: 5432 };
  const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

  it('maps connection failures to StoreUnavailableError', () => {
    for (const [code, reason] of [
      ['ECONNREFUSED', 'unreachable'],
      ['ENOTFOUND', 'unreachable'],
      ['ETIMEDOUT', 'timeout'],
      ['ECONNRESET', 'connection-lost'],
      ['57P01', 'shutdown'],
      ['57P03', 'shutdown'],
      ['08006', 'connection-lost'],
      ['53300', 'overloaded'],
      ['40001', 'conflict'],
      ['57014', 'timeout'],
    ] as const) {
      const e = classifyPgError(withCode(code), target);
      assert.ok(e instanceof StoreUnavailableError && !(e instanceof StoreAuthError), code);
      assert.equal(e.reason, reason, code);
      assert.equal(e.retryable, true);
    }
    for (const msg of [
      'Connection terminated unexpectedly',
      'Connection terminated due to connection timeout',
      'timeout exceeded when trying to connect',
      'Query read timeout',
    ]) {
      assert.ok(classifyPgError(new Error(msg), target) instanceof StoreUnavailableError, msg);
    }
  });

  it('names TLS and login problems', () => {
    const cases: [string, string, RegExp][] = [
      ['ERR_TLS_CERT_ALTNAME_INVALID', 'server-host-mismatch', /not valid for host db/],
      ['SELF_SIGNED_CERT_IN_CHAIN', 'server-untrusted', /SIDEKEY_PG_CA_FILE/],
      ['CERT_HAS_EXPIRED', 'server-expired', /expired/],
      ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'client-untrusted', /client certificate rejected .* unknown CA/],
      ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED', 'client-expired', /client certificate rejected .* expired/],
      ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'client-rejected', /bad certificate/],
      ['28000', 'role-rejected', /refused the login as role r/],
    ];
    for (const [code, problem, msg] of cases) {
      const e = classifyPgError(withCode(code), target, 'r');
      assert.ok(e instanceof StoreAuthError, code);
      assert.equal(e.problem, problem);
      assert.match(e.message, msg);
    }
    const noTls = classifyPgError(new Error('The server does not support SSL connections'), target);
    assert.ok(noTls instanceof StoreAuthError && noTls.problem === 'server-no-tls');
  });

  it('leaves SQL errors alone', () => {
    const e = withCode('23505', 'duplicate key');
    assert.equal(classifyPgError(e, target), e);
    const denied = withCode('42501', 'permission denied');
    assert.equal(classifyPgError(denied, target), denied);
  });
});

describe('TlsMaterial', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sidekey-tlsmat-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = createCertificateAuthority({ commonName: 'test CA' });
  const files = { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'c.crt'), keyFile: join(dir, 'c.key') };

  it('re-reads changed files and keeps the last good pair when the new one does not load', () => {
    const first = issueCertificate(ca, { commonName: 'sidekey', usage: 'client' });
    writeFileSync(files.caFile, ca.cert);
    writeFileSync(files.certFile, first.cert);
    writeFileSync(files.keyFile, first.key);
    const errors: Error[] = [];
    const m = new TlsMaterial(files, (e) => errors.push(e));
    assert.equal(m.commonName(), 'sidekey');
    assert.equal(m.current().cert, first.cert);

    const second = issueCertificate(ca, { commonName: 'sidekey', usage: 'client' });
    writeFileSync(files.certFile, second.cert); // the key is not there yet
    assert.equal(m.current().cert, first.cert);
    assert.equal(errors.length, 1);
    assert.equal(m.current().cert, first.cert);
    assert.equal(errors.length, 1, 'reported once per change');
    assert.ok(!errors[0]!.message.includes('PRIVATE KEY'));

    writeFileSync(files.keyFile, second.key);
    assert.equal(m.current().cert, second.cert);
    assert.equal(m.current().key, second.key);

    rmSync(files.keyFile);
    assert.equal(m.current().key, second.key, 'a vanished file keeps the last good pair');
    assert.match(errors.at(-1)!.message, /cannot read SIDEKEY_PG_KEY_FILE/);
  });

  it('refuses unusable files at start, naming the setting', () => {
    writeFileSync(files.keyFile, 'garbage');
    assert.throws(() => new TlsMaterial(files), /SIDEKEY_PG_KEY_FILE .* holds no readable private key/);
    writeFileSync(files.caFile, 'garbage');
    assert.throws(() => new TlsMaterial(files), /SIDEKEY_PG_CA_FILE .* holds no PEM certificate/);
  });
});
