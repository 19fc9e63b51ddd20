/**
 * End-to-end encrypted ingest on a real daemon (embedded store, real HTTP
 * listener and gRPC socket): GetIngestKeys, sealed tokenize and encrypt per
 * suite, every bad input of the issue (INVALID_ARGUMENT naming the index,
 * one message whatever went wrong, nothing stored), shredding, and no
 * plaintext in any log line.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fromBase64Url } from '../../src/crypto/index.js';
import { formatSealed, parseSealed, SUITES } from '../../src/ingest/index.js';
import { callGrpc, sidekeyClient } from '../grpc/support.js';
import { capturedLogs, startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { post } from '../support/http.js';
import { sealOne } from '../support/seal.js';

let d: TestDaemon;
const TENANT = 'demo';
const FIELD = 'card';

interface Key {
  keyId: string;
  kem: string;
  kdf: string;
  aead: string;
  publicKey: string;
}

async function keys(): Promise<Key[]> {
  const r = await post(d.url, '/v1/ingest/keys', d.ork, { tenant: TENANT });
  assert.equal(r.status, 200, r.text);
  return r.body.keys as Key[];
}

async function seal(key: Key, value: string, tenant = TENANT, field = FIELD): Promise<string> {
  return sealOne(key, tenant, field, value);
}

async function recordCount(): Promise<number> {
  const rows = await d.daemon.store.recordCounts(TENANT);
  return rows.reduce((n, r) => n + r.records, 0);
}

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.destroy();
});

describe('GetIngestKeys', () => {
  it('gives one current key per suite, X-Wing first, and the same keys on every call', async () => {
    const first = await keys();
    assert.deepEqual(
      first.map((k) => [k.kem, k.kdf, k.aead]),
      [
        ['X-Wing', 'HKDF-SHA256', 'AES-256-GCM'],
        ['DHKEM(X25519, HKDF-SHA256)', 'HKDF-SHA256', 'AES-256-GCM'],
      ],
    );
    assert.match(first[0]!.keyId, /^xwing_[A-Za-z0-9_-]{22}$/);
    assert.match(first[1]!.keyId, /^x25519_[A-Za-z0-9_-]{22}$/);
    assert.equal(fromBase64Url(first[0]!.publicKey)?.length, SUITES.xwing.publicKeyBytes);
    assert.equal(fromBase64Url(first[1]!.publicKey)?.length, SUITES.x25519.publicKeyBytes);
    assert.deepEqual(await keys(), first);
  });

  it('needs the ORK, of that tenant', async () => {
    const none = await post(d.url, '/v1/ingest/keys', undefined, { tenant: TENANT });
    assert.equal(none.status, 401);
    const bad = await post(d.url, '/v1/ingest/keys', d.ork, { tenant: 'other' });
    assert.equal(bad.status, 403);
    const invalid = await post(d.url, '/v1/ingest/keys', d.ork, { tenant: 'Not A Tenant' });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.error.code, 'INVALID_ARGUMENT');
  });

  it('over gRPC gives the same keys', async () => {
    const client = sidekeyClient(d.daemon.grpcSocket);
    try {
      const r = await callGrpc(client, 'GetIngestKeys', { tenant: TENANT }, { ork: d.ork });
      assert.ok(r.ok, JSON.stringify(r));
      const http = await keys();
      assert.deepEqual(
        r.response.keys.map((k: Record<string, string>) => ({
          keyId: k.key_id,
          kem: k.kem,
          kdf: k.kdf,
          aead: k.aead,
          publicKey: k.public_key,
        })),
        http,
      );
    } finally {
      client.close();
    }
  });
});

describe('sealed tokenize and encrypt, per suite', () => {
  for (const index of [0, 1]) {
    it(`suite ${index === 0 ? 'X-Wing' : 'DHKEM(X25519)'}: tokens detokenize to the sealed values; ciphertexts decrypt`, async () => {
      const key = (await keys())[index]!;
      const values = ['4111 1111 1111 1111', '', 'ünïcødé ✓ 𝄞'];
      const sealed = await Promise.all(values.map((v) => seal(key, v)));
      const t = await post(d.url, '/v1/tokenize', d.ork, {
        tenant: TENANT,
        field: FIELD,
        sealedValues: sealed,
      });
      assert.equal(t.status, 200, t.text);
      const back = await post(d.url, '/v1/detokenize', d.ork, { tenant: TENANT, tokens: t.body.tokens });
      assert.deepEqual(
        back.body.results.map((r: { value: string }) => r.value),
        values,
      );
      const e = await post(d.url, '/v1/encrypt', d.ork, {
        tenant: TENANT,
        field: FIELD,
        sealedPlaintexts: await Promise.all(values.map((v) => seal(key, v))),
      });
      assert.equal(e.status, 200, e.text);
      const dec = await post(d.url, '/v1/decrypt', d.ork, {
        tenant: TENANT,
        field: FIELD,
        ciphertexts: e.body.ciphertexts,
      });
      assert.deepEqual(
        dec.body.results.map((r: { plaintext: string }) => r.plaintext),
        values,
      );
    });
  }

  it('over gRPC (sealed_values, with values empty as proto3 sends it)', async () => {
    const [key] = await keys();
    const client = sidekeyClient(d.daemon.grpcSocket);
    try {
      const r = await callGrpc(
        client,
        'Tokenize',
        { tenant: TENANT, field: FIELD, sealed_values: [await seal(key!, 'grpc value')] },
        { ork: d.ork },
      );
      assert.ok(r.ok, JSON.stringify(r));
      const back = await post(d.url, '/v1/detokenize', d.ork, { tenant: TENANT, tokens: r.response.tokens });
      assert.equal(back.body.results[0].value, 'grpc value');
    } finally {
      client.close();
    }
  });
});

describe('bad input: INVALID_ARGUMENT naming the index, one message, nothing stored', () => {
  const SECRET = 'never-stored-4929';

  it('every kind of bad sealed item fails the call at its index with the same message', async () => {
    const [xwing, x25519] = await keys();
    const good = await seal(xwing!, 'fine');
    const parts = parseSealed(await seal(x25519!, SECRET), 1 << 16)!;
    const tampered = Buffer.from(parts.ciphertext);
    tampered[0]! ^= 0x01;
    const cases: Record<string, string> = {
      'bad prefix': (await seal(xwing!, SECRET)).replace('hpke:', 'hpkx:'),
      'unknown key id': formatSealed(`x25519_${'A'.repeat(22)}`, parts.enc, parts.ciphertext),
      'bad base64url': `${(await seal(xwing!, SECRET)).slice(0, -3)}*==`,
      truncated: (await seal(xwing!, SECRET)).slice(0, -10),
      tampered: formatSealed(parts.keyId, parts.enc, tampered),
      'another field': await seal(xwing!, SECRET, TENANT, 'iban'),
      'another tenant': await seal(x25519!, SECRET, 'acme', FIELD),
      'not a string at all': 'hello',
    };
    const before = await recordCount();
    const messages = new Set<string>();
    for (const [name, bad] of Object.entries(cases)) {
      const r = await post(d.url, '/v1/tokenize', d.ork, {
        tenant: TENANT,
        field: FIELD,
        sealedValues: [good, bad],
      });
      assert.equal(r.status, 400, `${name}: ${r.text}`);
      assert.equal(r.body.error.code, 'INVALID_ARGUMENT', name);
      assert.match(r.body.error.message, /^sealedValues\[1\] /, name);
      messages.add(r.body.error.message);
      const e = await post(d.url, '/v1/encrypt', d.ork, {
        tenant: TENANT,
        field: FIELD,
        sealedPlaintexts: [bad],
      });
      assert.equal(e.status, 400, `${name} (encrypt): ${e.text}`);
      assert.match(e.body.error.message, /^sealedPlaintexts\[0\] /, name);
    }
    assert.equal(messages.size, 1, `the messages differ: ${[...messages].join(' | ')}`);
    assert.equal(await recordCount(), before, 'a failed sealed tokenize stored something');
  });

  it('over gRPC: INVALID_ARGUMENT (3) with the same message', async () => {
    const [key] = await keys();
    const client = sidekeyClient(d.daemon.grpcSocket);
    try {
      const r = await callGrpc(
        client,
        'Encrypt',
        { tenant: TENANT, field: FIELD, sealed_plaintexts: [await seal(key!, SECRET, TENANT, 'iban')] },
        { ork: d.ork },
      );
      assert.ok(!r.ok);
      assert.equal(r.code, 3);
      assert.match(r.details, /^sealedPlaintexts\[0\] does not open: /);
      assert.ok(!r.details.includes(SECRET));
    } finally {
      client.close();
    }
  });

  it('both values and sealedValues, or neither, is INVALID_ARGUMENT', async () => {
    const [key] = await keys();
    const both = await post(d.url, '/v1/tokenize', d.ork, {
      tenant: TENANT,
      field: FIELD,
      values: ['a'],
      sealedValues: [await seal(key!, 'b')],
    });
    assert.equal(both.status, 400);
    assert.equal(both.body.error.code, 'INVALID_ARGUMENT');
    const neither = await post(d.url, '/v1/tokenize', d.ork, { tenant: TENANT, field: FIELD });
    assert.equal(neither.status, 400);
    assert.equal(neither.body.error.code, 'INVALID_ARGUMENT');
    const bothEncrypt = await post(d.url, '/v1/encrypt', d.ork, {
      tenant: TENANT,
      field: FIELD,
      plaintexts: ['a'],
      sealedPlaintexts: [await seal(key!, 'b')],
    });
    assert.equal(bothEncrypt.status, 400);
  });

  it('nothing is opened without a valid ORK', async () => {
    const [key] = await keys();
    const r = await post(d.url, '/v1/tokenize', 'sk_ork_not-a-real-one', {
      tenant: TENANT,
      field: FIELD,
      sealedValues: [await seal(key!, SECRET)],
    });
    assert.equal(r.status, 401);
  });

  it('no plaintext of a sealed value reaches any log line', async () => {
    const [key] = await keys();
    const marker = `sealed-log-probe-${Date.now()}`;
    await post(d.url, '/v1/tokenize', d.ork, {
      tenant: TENANT,
      field: FIELD,
      sealedValues: [await seal(key!, marker)],
    });
    await post(d.url, '/v1/tokenize', d.ork, {
      tenant: TENANT,
      field: 'other',
      sealedValues: [await seal(key!, marker)],
    });
    const logs = capturedLogs.join('');
    assert.ok(logs.length > 0);
    assert.ok(!logs.includes(marker), 'a sealed value reached the logs');
    assert.ok(!logs.includes(SECRET), 'a sealed value reached the logs');
  });
});

describe('sealed items are plain values once opened: token kinds and data subjects apply', () => {
  it('a deterministic field gives a sealed value the token of the same plain value', async () => {
    await d.daemon.store.putPolicy({
      tenant: TENANT,
      field: 'email-det',
      kind: 'deterministic',
      alphabet: null,
      keepPrefix: 0,
      keepSuffix: 0,
      mask: 'redact',
      ttlSeconds: null,
    });
    const [xwing] = await keys();
    const plain = await post(d.url, '/v1/tokenize', d.ork, {
      tenant: TENANT,
      field: 'email-det',
      values: ['joined@example.com'],
    });
    const sealed = await post(d.url, '/v1/tokenize', d.ork, {
      tenant: TENANT,
      field: 'email-det',
      sealedValues: [await seal(xwing!, 'joined@example.com', TENANT, 'email-det')],
    });
    assert.equal(plain.status, 200, plain.text);
    assert.equal(sealed.status, 200, sealed.text);
    assert.deepEqual(sealed.body.tokens, plain.body.tokens);
  });

  it('a sealed value with a subject is erased by forgetting the subject (tokenize and encrypt)', async () => {
    const [, x25519] = await keys();
    const t = await post(d.url, '/v1/tokenize', d.ork, {
      tenant: TENANT,
      field: FIELD,
      subject: 'sealed-user-1',
      sealedValues: [await seal(x25519!, '4111 1111 1111 1111')],
    });
    const e = await post(d.url, '/v1/encrypt', d.ork, {
      tenant: TENANT,
      field: FIELD,
      subject: 'sealed-user-1',
      sealedPlaintexts: [await seal(x25519!, 'sealed plaintext of a subject')],
    });
    assert.equal(t.status, 200, t.text);
    assert.equal(e.status, 200, e.text);
    const read = async () => [
      (await post(d.url, '/v1/detokenize', d.ork, { tenant: TENANT, tokens: t.body.tokens })).body.results[0],
      (
        await post(d.url, '/v1/decrypt', d.ork, {
          tenant: TENANT,
          field: FIELD,
          ciphertexts: e.body.ciphertexts,
        })
      ).body.results[0],
    ];
    assert.deepEqual(await read(), [
      { value: '4111 1111 1111 1111' },
      { plaintext: 'sealed plaintext of a subject' },
    ]);
    const f = await post(d.url, '/v1/subjects/forget', d.ork, {
      tenant: TENANT,
      subjects: ['sealed-user-1'],
    });
    assert.equal(f.body.forgotten, 1, f.text);
    assert.deepEqual(
      (await read()).map((r) => r.error?.code),
      ['FAILED_PRECONDITION', 'FAILED_PRECONDITION'],
    );
  });
});

describe('the Node example (clients/browser/node-example.mjs)', () => {
  it('seals, tokenizes and detokenizes against the daemon', async () => {
    const example = join(import.meta.dirname, '..', '..', 'clients', 'browser', 'node-example.mjs');
    const child = spawn(process.execPath, [example, 'example value ✓'], {
      env: { PATH: process.env.PATH ?? '', SIDEKEY_URL: d.url, SIDEKEY_ORK: d.ork },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, err);
    const [first, second] = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(first.kem, 'X-Wing');
    assert.equal(first.tokens.length, 1);
    assert.deepEqual(second.revealed, ['example value ✓']);
  });
});
