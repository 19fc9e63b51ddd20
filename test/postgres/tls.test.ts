/**
 * Mutual TLS to PostgreSQL: refused certificates say which and why,
 * certificate files replaced on disk are used by new connections without a
 * restart, and an outage makes calls fail fast with StoreUnavailableError
 * until the server is back — with the same store object.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCertificateAuthority, issueCertificate, type PemPair } from '../../src/certs/x509.js';
import { StoreAuthError, StoreConfigError, StoreUnavailableError } from '../../src/store/errors.js';
import { migratePostgres, openPostgresStore } from '../../src/store/postgres.js';
import { freshChainId, freshOrkId, tokenRow } from '../contract/store-contract.js';
import { OPERATOR_ROLE, SIDECAR_ROLE, startPostgres, type TestPostgres } from '../support/postgres.js';

const DAY = 86_400_000;
let h: TestPostgres;
let dir: string;

before(async () => {
  h = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'sidekey-tls-'));
  await migratePostgres(h.connection(OPERATOR_ROLE));
});
after(async () => {
  await h?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** Writes a PEM pair to fresh files (atomically, as cert-manager's symlink swap is). */
function writePair(pair: PemPair, name = `pair-${n++}`): { certFile: string; keyFile: string } {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  writeFileSync(`${certFile}.tmp`, pair.cert);
  writeFileSync(`${keyFile}.tmp`, pair.key, { mode: 0o600 });
  renameSync(`${keyFile}.tmp`, keyFile);
  renameSync(`${certFile}.tmp`, certFile);
  return { certFile, keyFile };
}

async function refusal(promise: Promise<unknown>): Promise<StoreAuthError> {
  try {
    const store = (await promise) as { close(): Promise<void> };
    await store.close();
  } catch (err) {
    assert.ok(err instanceof StoreAuthError, `expected StoreAuthError, got ${String(err)}`);
    assert.ok(!/PRIVATE KEY|BEGIN/.test(err.message), 'no key material in the message');
    return err;
  }
  assert.fail('the connection was accepted');
}

describe('postgres TLS: refused certificates', () => {
  it('a client certificate from another CA is refused: unknown CA', async () => {
    const other = createCertificateAuthority({ commonName: 'some other CA' });
    const files = writePair(issueCertificate(other, { commonName: SIDECAR_ROLE, usage: 'client' }));
    const err = await refusal(openPostgresStore({ url: h.url(), caFile: h.caFile, ...files }));
    assert.equal(err.problem, 'client-untrusted');
    assert.match(err.message, /client certificate rejected by PostgreSQL at 127\.0\.0\.1:\d+: unknown CA/);
  });

  it('an expired client certificate is refused: expired', async () => {
    const expired = issueCertificate(h.ca, {
      commonName: SIDECAR_ROLE,
      usage: 'client',
      notBefore: new Date(Date.now() - 10 * DAY),
      notAfter: new Date(Date.now() - DAY),
    });
    const err = await refusal(openPostgresStore({ url: h.url(), caFile: h.caFile, ...writePair(expired) }));
    assert.equal(err.problem, 'client-expired', err.message);
    assert.match(err.message, /client certificate rejected by .*: expired/);
  });

  it('a client certificate for another role cannot log in as this one', async () => {
    const files = writePair(issueCertificate(h.ca, { commonName: 'mallory', usage: 'client' }));
    const err = await refusal(openPostgresStore({ url: h.url(SIDECAR_ROLE), caFile: h.caFile, ...files }));
    assert.equal(err.problem, 'role-rejected');
    assert.match(err.message, /refused the login as role sidekey: certificate authentication failed/);
  });

  it('a server certificate for another host is refused', async () => {
    const wrongHost = await startPostgres({ serverAltNames: ['db.example.internal'] });
    try {
      const err = await refusal(openPostgresStore(wrongHost.connection()));
      assert.equal(err.problem, 'server-host-mismatch');
      assert.match(err.message, /server certificate is not valid for host 127\.0\.0\.1/);
      const byName = await refusal(
        openPostgresStore({
          ...wrongHost.connection(),
          url: `postgres://sidekey@localhost:${wrongHost.port}/sidekey`,
        }),
      );
      assert.match(
        byName.message,
        /server certificate is not valid for host localhost .*db\.example\.internal/,
      );
    } finally {
      await wrongHost.destroy();
    }
  });

  it('a server certificate from a CA other than SIDEKEY_PG_CA_FILE is refused', async () => {
    const caFile = join(dir, 'other-ca.crt');
    writeFileSync(caFile, createCertificateAuthority({ commonName: 'not the server CA' }).cert);
    const err = await refusal(openPostgresStore({ ...h.connection(), caFile }));
    assert.equal(err.problem, 'server-untrusted');
    assert.match(
      err.message,
      /server certificate of .* is not trusted: it is not signed by the CA in SIDEKEY_PG_CA_FILE/,
    );
  });
});

describe('postgres TLS: settings refused at start', () => {
  const refusedUrl = async (url: string, pattern: RegExp) => {
    await assert.rejects(openPostgresStore({ ...h.connection(), url }), (err) => {
      assert.ok(err instanceof StoreConfigError, String(err));
      assert.match(err.message, pattern);
      assert.ok(!err.message.includes('hunter2'), 'the password is not repeated');
      return true;
    });
  };

  it('a password in the URL', async () => {
    await refusedUrl(`postgres://sidekey:hunter2@127.0.0.1:${h.port}/sidekey`, /must not contain a password/);
    await refusedUrl(
      `postgres://sidekey@127.0.0.1:${h.port}/sidekey?password=hunter2`,
      /must not contain a password/,
    );
  });

  it('a URL that turns TLS or verification off', async () => {
    for (const mode of ['disable', 'allow', 'prefer', 'require', 'verify-ca']) {
      await refusedUrl(
        `postgres://sidekey@127.0.0.1:${h.port}/sidekey?sslmode=${mode}`,
        /sslmode=verify-full/,
      );
    }
    await refusedUrl(
      `postgres://sidekey@127.0.0.1:${h.port}/sidekey?sslcert=/tmp/x`,
      /use SIDEKEY_PG_CERT_FILE/,
    );
    await refusedUrl('postgres://sidekey@%2Ftmp%2Fsock/sidekey', /TCP host|TLS/);
    await refusedUrl('mysql://sidekey@127.0.0.1/sidekey', /postgres:\/\//);
  });

  it('missing or mismatched TLS files', async () => {
    await assert.rejects(openPostgresStore({ ...h.connection(), certFile: join(dir, 'nope.crt') }), (err) => {
      assert.ok(err instanceof StoreConfigError);
      assert.match(err.message, /cannot read SIDEKEY_PG_CERT_FILE .*ENOENT/);
      return true;
    });
    const a = issueCertificate(h.ca, { commonName: SIDECAR_ROLE, usage: 'client' });
    const b = issueCertificate(h.ca, { commonName: SIDECAR_ROLE, usage: 'client' });
    const mixed = writePair({ cert: a.cert, key: b.key });
    await assert.rejects(openPostgresStore({ url: h.url(), caFile: h.caFile, ...mixed }), (err) => {
      assert.ok(err instanceof StoreConfigError);
      assert.match(err.message, /SIDEKEY_PG_KEY_FILE does not belong to the certificate/);
      assert.ok(!err.message.includes('PRIVATE KEY'));
      return true;
    });
  });

  it('the role defaults to the certificate CN and the sslmode verify-full is accepted', async () => {
    const store = await openPostgresStore({
      ...h.connection(SIDECAR_ROLE),
      url: `postgresql://127.0.0.1:${h.port}/sidekey?sslmode=verify-full&application_name=contract`,
    });
    try {
      await store.ping();
    } finally {
      await store.close();
    }
  });
});

describe('postgres TLS: certificates replaced on disk', () => {
  it('new connections use the new files without a restart', async () => {
    const certFile = join(dir, 'live.crt');
    const keyFile = join(dir, 'live.key');
    const install = (pair: PemPair) => {
      writePair(pair, 'live-next');
      renameSync(join(dir, 'live-next.key'), keyFile);
      renameSync(join(dir, 'live-next.crt'), certFile);
    };
    install(issueCertificate(h.ca, { commonName: SIDECAR_ROLE, usage: 'client' }));
    const errors: Error[] = [];
    const store = await openPostgresStore(
      { url: h.url(), caFile: h.caFile, certFile, keyFile },
      { onError: (e) => errors.push(e) },
    );
    try {
      await store.ping();
      const kick = () =>
        h.adminQuery(`select pg_terminate_backend(pid) from pg_stat_activity where usename = $1`, [
          SIDECAR_ROLE,
        ]);

      // The server now trusts only a new CA: the current certificate is refused on a new connection.
      const newCa = createCertificateAuthority({ commonName: 'renewed CA' });
      await h.setClientCaBundle(newCa.cert);
      await kick();
      await eventually(async () => {
        await assert.rejects(
          store.ping(),
          (err) => err instanceof StoreAuthError && err.problem === 'client-untrusted',
        );
      });

      // cert-manager renews the files in place; the same store picks them up.
      install(issueCertificate(newCa, { commonName: SIDECAR_ROLE, usage: 'client' }));
      await store.ping();
      const [row] = await h.adminQuery<{ n: string }>(
        `select count(*) as n from pg_stat_ssl s join pg_stat_activity a using (pid)
          where a.usename = $1 and s.client_dn = '/CN=sidekey' and s.issuer_dn = '/CN=renewed CA'`,
        [SIDECAR_ROLE],
      );
      assert.ok(Number(row?.n) >= 1, 'a connection authenticated with the renewed certificate');
    } finally {
      await h.setClientCaBundle(h.ca.cert);
      await store.close();
    }
  });

  it('a half-replaced pair keeps the previous one in use and is reported', async () => {
    const pair = issueCertificate(h.ca, { commonName: SIDECAR_ROLE, usage: 'client' });
    const files = writePair(pair, 'half');
    const errors: Error[] = [];
    const store = await openPostgresStore(
      { url: h.url(), caFile: h.caFile, ...files },
      { onError: (e) => errors.push(e), poolMax: 1 },
    );
    try {
      // Only the certificate changes (its new key is not written yet).
      writeFileSync(
        files.certFile,
        issueCertificate(h.ca, { commonName: SIDECAR_ROLE, usage: 'client' }).cert,
      );
      await h.adminQuery(`select pg_terminate_backend(pid) from pg_stat_activity where usename = $1`, [
        SIDECAR_ROLE,
      ]);
      await eventually(() => store.ping());
      assert.ok(errors.some((e) => /could not be loaded, still using the previous ones/.test(e.message)));
      assert.ok(errors.every((e) => !e.message.includes('PRIVATE KEY')));
    } finally {
      await store.close();
    }
  });
});

describe('postgres: outage', () => {
  it('calls fail fast with StoreUnavailableError while PostgreSQL is down and resume by themselves', async () => {
    const ops = await openPostgresStore(h.connection(OPERATOR_ROLE));
    const tenant = `t-outage-${Date.now()}`;
    await ops.createTenant(tenant, { kekRef: 'local:1', wrapped: Buffer.alloc(16, 1) });
    await ops.close();
    const store = await openPostgresStore(h.connection(SIDECAR_ROLE), { onError: () => {} });
    const token = tokenRow(tenant, freshOrkId());
    try {
      await store.ping();
      await h.stop();
      await assert.rejects(store.ping(), StoreUnavailableError);
      await assert.rejects(store.getTokens([token.token]), StoreUnavailableError);
      await assert.rejects(store.write({ tokens: [token], audit: [] }), StoreUnavailableError);
      await assert.rejects(
        store.insertAuditChain({
          chainId: freshChainId(),
          kekRef: 'k',
          wrappedKey: Buffer.alloc(8),
          host: 'h',
        }),
        (err) => err instanceof StoreUnavailableError && err.retryable === true,
      );
      await h.start();
      await store.ping();
      await store.write({ tokens: [token], audit: [] });
      assert.equal((await store.getTokens([token.token])).length, 1);
    } finally {
      await store.close();
    }
  });

  it('a store can start while PostgreSQL is down when allowed, and works once it is up', async () => {
    await h.stop();
    let store: Awaited<ReturnType<typeof openPostgresStore>> | undefined;
    try {
      await assert.rejects(openPostgresStore(h.connection()), StoreUnavailableError);
      store = await openPostgresStore(h.connection(), { allowUnavailableAtStart: true, onError: () => {} });
      await assert.rejects(store.ping(), StoreUnavailableError);
    } finally {
      await h.start();
    }
    await store.ping();
    await store.close();
  });
});

describe('postgres: a server that never answers', () => {
  it('the connection attempt times out with StoreUnavailableError instead of hanging', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    try {
      await assert.rejects(
        openPostgresStore(
          { ...h.connection(), url: `postgres://sidekey@127.0.0.1:${port}/sidekey` },
          { connectTimeoutMs: 500 },
        ),
        (err) => err instanceof StoreUnavailableError && err.reason === 'timeout',
      );
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});

async function eventually(fn: () => Promise<void>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fn();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
