/**
 * Every operation and every error code of API.md over the real gRPC socket
 * of a real daemon (embedded store, local KEK), with a real grpc-js client.
 * One daemon for the file; a client token is configured, so every call
 * carries `authorization` unless a test is about leaving it out.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { connect as h2connect } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { status } from '@grpc/grpc-js';
import type { SidekeyClient } from '../../src/transport/grpc/generated/sidekey/v1/Sidekey.js';
import { sidekey } from '../support/cli.js';
import { capturedLogs, freshDataDir, startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { keyMaterial, type Secret, secretsIn } from '../support/secrets.js';
import {
  type CallCredentials,
  callGrpc,
  callRaw,
  type GrpcOutcome,
  type Method,
  metadataOf,
  rawClient,
  sidekeyClient,
} from './support.js';

const TOKEN = 'client-token-for-grpc-tests-0123456789';
const MAX_BATCH = 100;
const MAX_BODY = 1024 * 1024;
let d: TestDaemon;
let client: SidekeyClient;
let acmeOrk: string;
let revokedOrk: string;
let goneOrk: string;
const secrets = new Set<string>();

const keep = <T extends string>(v: T): T => {
  if (v.length >= 6) secrets.add(v);
  return v;
};
const creds = (extra: Partial<CallCredentials> = {}): CallCredentials => ({
  ork: d.ork,
  token: TOKEN,
  ...extra,
});
const call = (method: Method, request: object, c: CallCredentials = creds()) =>
  callGrpc(client, method, request, c);

function ok(r: GrpcOutcome) {
  assert.ok(r.ok, r.ok ? '' : `expected success, got ${r.code}: ${r.details}`);
  return r.response;
}
function failed(r: GrpcOutcome, code: number, details?: RegExp): void {
  assert.ok(!r.ok, 'expected a failure');
  assert.equal(r.code, code, `status ${r.code} (${r.details})`);
  if (details) assert.match(r.details, details);
  // grpc-js refuses an oversized message itself, before any handler (and so without a request id).
  if (!/larger than max/.test(r.details)) assert.ok(r.requestId, 'x-request-id trailer on failures too');
}
async function rowCount(): Promise<number> {
  return (await d.daemon.store.keyStatus()).reduce((n, r) => n + r.records, 0);
}

before(async () => {
  const dataDir = await freshDataDir();
  const env = { SIDEKEY_DATA_DIR: dataDir };
  const run = async (args: string[]) => {
    const r = await sidekey(args, env);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };
  await run(['tenant', 'create', 'acme']);
  acmeOrk = await run(['ork', 'issue', '--tenant', 'acme', '--label', 'acme app']);
  revokedOrk = await run(['ork', 'issue', '--tenant', 'acme', '--label', 'to revoke']);
  const orks = JSON.parse(await run(['ork', 'list', '--tenant', 'acme', '--json'])) as {
    id: string;
    label: string;
  }[];
  await run(['ork', 'revoke', '--tenant', 'acme', orks.find((o) => o.label === 'to revoke')!.id]);
  await run(['tenant', 'create', 'gone']);
  goneOrk = await run(['ork', 'issue', '--tenant', 'gone']);
  // What `tenant shred` leaves behind: every key version of the tenant destroyed.
  const db = await PGlite.create(join(dataDir, 'pgdata'));
  await db.query(
    "update sidekey_tenant_keys set state = 'destroyed', wrapped_key = null where tenant = 'gone'",
  );
  await db.close();
  writeFileSync(join(dataDir, 'client.token'), `${TOKEN}\n`, { mode: 0o600 });
  d = await startTestDaemon(
    {
      SIDEKEY_GRPC_SOCKET: join(dataDir, 'grpc.sock'),
      SIDEKEY_CLIENT_TOKEN_FILE: join(dataDir, 'client.token'),
      SIDEKEY_TENANTS: 'demo,acme,gone',
      SIDEKEY_MAX_BATCH: String(MAX_BATCH),
      SIDEKEY_MAX_BODY_BYTES: String(MAX_BODY),
    },
    { dataDir },
  );
  for (const s of [d.ork, acmeOrk, revokedOrk, goneOrk, TOKEN]) secrets.add(s);
  client = sidekeyClient(d.daemon.grpcSocket);
});

after(async () => {
  client?.close();
  const keys = (
    await Promise.all([d.ork, acmeOrk].map((o) => keyMaterial(d.dataDir, d.daemon.store, o, 'email')))
  ).flatMap((k) => k.secrets);
  await d?.destroy();
  // No value, ORK, client token or unwrapped key in any log line, as text or hex/base64 of its bytes.
  const logs = capturedLogs.join('');
  assert.ok(logs.length > 0);
  const all: Secret[] = [
    ...keys,
    ...[...secrets].map((s) => ({ name: `${s.slice(0, 6)}…`, bytes: Buffer.from(s), text: s })),
  ];
  assert.deepEqual(secretsIn(logs, all), [], 'secrets reached the logs');
});

describe('operations', () => {
  it('Tokenize and Detokenize round-trip any string exactly, in order, with per-item NOT_FOUND', async () => {
    const values = [
      keep('amelia@example.org'),
      '',
      keep('Zoë 👩‍💻 naïve 中文'),
      keep('\u0000\u0001\t\r\n\u007f control'),
      keep('x'.repeat(64 * 1024)),
      keep('amelia@example.org'),
    ];
    const t = ok(await call('Tokenize', { tenant: 'demo', field: 'email', values }));
    assert.equal(t.tokens.length, values.length);
    assert.notEqual(t.tokens[0], t.tokens[5]);
    const acmeToken = ok(
      await call(
        'Tokenize',
        { tenant: 'acme', field: 'email', values: [keep('erin@acme.example')] },
        creds({ ork: acmeOrk }),
      ),
    ).tokens[0];
    const r = ok(
      await call('Detokenize', {
        tenant: 'demo',
        tokens: [...t.tokens, acmeToken, 'tok_AAAAAAAAAAAAAAAAAAAAAA'],
        purpose: 'support ticket 7',
      }),
    );
    assert.deepEqual(
      r.results.slice(0, values.length).map((x: { value: string; result: string }) => [x.result, x.value]),
      values.map((v) => ['value', v]),
    );
    for (const x of r.results.slice(values.length)) {
      assert.equal(x.result, 'error');
      assert.deepEqual([x.error.code, x.error.message], ['NOT_FOUND', 'token not found']);
    }
  });

  it('Encrypt and Decrypt with a context; another context fails per item; absent context = empty', async () => {
    const plaintexts = [keep('4111 1111 1111 1111'), '', keep('ünïcødé ✓')];
    const e = ok(await call('Encrypt', { tenant: 'demo', field: 'card', plaintexts, context: 'order:42' }));
    assert.equal(e.ciphertexts.length, 3);
    const before = await rowCount();
    const good = ok(
      await call('Decrypt', {
        tenant: 'demo',
        field: 'card',
        ciphertexts: e.ciphertexts,
        context: 'order:42',
      }),
    );
    assert.deepEqual(
      good.results.map((x: { plaintext: string }) => x.plaintext),
      plaintexts,
    );
    const wrong = ok(
      await call('Decrypt', {
        tenant: 'demo',
        field: 'card',
        ciphertexts: [e.ciphertexts[0]],
        context: 'order:43',
      }),
    );
    assert.equal(wrong.results[0].result, 'error');
    assert.equal(wrong.results[0].error.code, 'INVALID_ARGUMENT');
    const noContext = ok(await call('Encrypt', { tenant: 'demo', field: 'card', plaintexts: ['abc'] }));
    const back = ok(
      await call('Decrypt', {
        tenant: 'demo',
        field: 'card',
        ciphertexts: noContext.ciphertexts,
        context: '',
      }),
    );
    assert.equal(back.results[0].plaintext, 'abc');
    assert.equal(await rowCount(), before, 'encrypt stores nothing');
  });

  it('DeleteTokens deletes only the caller’s tokens; deleted tokens are then NOT_FOUND', async () => {
    const mine = ok(await call('Tokenize', { tenant: 'demo', field: 'f', values: ['a1', 'a2'] })).tokens;
    const theirs = ok(
      await call('Tokenize', { tenant: 'acme', field: 'f', values: ['b1'] }, creds({ ork: acmeOrk })),
    ).tokens;
    const del = ok(await call('DeleteTokens', { tenant: 'demo', tokens: [...mine, ...theirs] }));
    assert.equal(del.deleted, 2);
    const r = ok(await call('Detokenize', { tenant: 'demo', tokens: mine }));
    assert.deepEqual(
      r.results.map((x: { error: { code: string } }) => x.error.code),
      ['NOT_FOUND', 'NOT_FOUND'],
    );
    const still = ok(await call('Detokenize', { tenant: 'acme', tokens: theirs }, creds({ ork: acmeOrk })));
    assert.equal(still.results[0].value, 'b1');
  });

  it('echoes a given x-request-id in the trailers and generates one otherwise', async () => {
    const given = await call(
      'Encrypt',
      { tenant: 'demo', field: 'f', plaintexts: ['x'] },
      creds({ requestId: 'trace-123' }),
    );
    assert.equal(given.requestId, 'trace-123');
    const generated = await call('Encrypt', { tenant: 'demo', field: 'f', plaintexts: ['x'] });
    assert.match(generated.requestId ?? '', /^[0-9a-f-]{36}$/);
    const invalid = await call(
      'Encrypt',
      { tenant: 'demo', field: 'f', plaintexts: ['x'] },
      creds({ requestId: 'bad id!' }),
    );
    assert.match(invalid.requestId ?? '', /^[0-9a-f-]{36}$/);
  });
});

describe('errors, mapped to gRPC status codes with the message as details', () => {
  const valid = { tenant: 'demo', field: 'email', values: ['v@example.com'] };
  const cases: [string, Method, () => object, () => CallCredentials, number, RegExp][] = [
    [
      'bad tenant',
      'Tokenize',
      () => ({ ...valid, tenant: 'Bad_Tenant' }),
      creds,
      status.INVALID_ARGUMENT,
      /tenant/,
    ],
    [
      'absent tenant',
      'Tokenize',
      () => ({ field: 'email', values: ['v'] }),
      creds,
      status.INVALID_ARGUMENT,
      /tenant/,
    ],
    ['bad field', 'Tokenize', () => ({ ...valid, field: '-x' }), creds, status.INVALID_ARGUMENT, /field/],
    [
      'empty batch',
      'Tokenize',
      () => ({ ...valid, values: [] }),
      creds,
      status.INVALID_ARGUMENT,
      /values must not be empty/,
    ],
    [
      'batch over the limit',
      'Tokenize',
      () => ({ ...valid, values: Array(MAX_BATCH + 1).fill('v') }),
      creds,
      status.INVALID_ARGUMENT,
      /limit is 100/,
    ],
    [
      'value over the limit (PAYLOAD_TOO_LARGE)',
      'Tokenize',
      () => ({ ...valid, values: ['ok', 'x'.repeat(64 * 1024 + 1)] }),
      creds,
      status.RESOURCE_EXHAUSTED,
      /values\[1\] is over the limit/,
    ],
    [
      'message over the limit',
      'Tokenize',
      () => ({ ...valid, values: Array(20).fill('x'.repeat(60 * 1024)) }),
      creds,
      status.RESOURCE_EXHAUSTED,
      /larger than max/,
    ],
    [
      'malformed token',
      'Detokenize',
      () => ({ tenant: 'demo', tokens: ['tok_AAAAAAAAAAAAAAAAAAAAAA', 'nope'] }),
      creds,
      status.INVALID_ARGUMENT,
      /tokens\[1\]/,
    ],
    [
      'malformed token (delete)',
      'DeleteTokens',
      () => ({ tenant: 'demo', tokens: ['nope'] }),
      creds,
      status.INVALID_ARGUMENT,
      /tokens\[0\]/,
    ],
    [
      'malformed ciphertext',
      'Decrypt',
      () => ({ tenant: 'demo', field: 'f', ciphertexts: ['nope'] }),
      creds,
      status.INVALID_ARGUMENT,
      /ciphertexts\[0\]/,
    ],
    [
      'no ORK',
      'Tokenize',
      () => valid,
      () => creds({ ork: undefined }),
      status.UNAUTHENTICATED,
      /organisation key/,
    ],
    [
      'malformed ORK',
      'Tokenize',
      () => valid,
      () => creds({ ork: 'not-an-ork' }),
      status.UNAUTHENTICATED,
      /./,
    ],
    [
      'tampered ORK',
      'Tokenize',
      () => valid,
      () => creds({ ork: tamper(d.ork) }),
      status.UNAUTHENTICATED,
      /./,
    ],
    [
      'revoked ORK',
      'Tokenize',
      () => ({ ...valid, tenant: 'acme' }),
      () => creds({ ork: revokedOrk }),
      status.UNAUTHENTICATED,
      /./,
    ],
    [
      'no client token',
      'Tokenize',
      () => valid,
      () => creds({ token: undefined }),
      status.UNAUTHENTICATED,
      /client token/,
    ],
    [
      'wrong client token',
      'Tokenize',
      () => valid,
      () => creds({ token: `${TOKEN}x` }),
      status.UNAUTHENTICATED,
      /client token/,
    ],
    [
      'ORK of another tenant',
      'Tokenize',
      () => valid,
      () => creds({ ork: acmeOrk }),
      status.PERMISSION_DENIED,
      /another tenant/,
    ],
    [
      'tenant not served',
      'Tokenize',
      () => ({ ...valid, tenant: 'zeta' }),
      creds,
      status.PERMISSION_DENIED,
      /does not serve/,
    ],
    [
      'destroyed keys (FAILED_PRECONDITION)',
      'Tokenize',
      () => ({ ...valid, tenant: 'gone' }),
      () => creds({ ork: goneOrk }),
      status.FAILED_PRECONDITION,
      /destroyed/,
    ],
  ];
  for (const [name, method, request, c, code, details] of cases) {
    it(`${method}: ${name} → ${status[code]}; nothing stored`, async () => {
      const before = await rowCount();
      failed(await call(method, request(), c()), code, details);
      assert.equal(await rowCount(), before);
    });
  }

  it('strings that are not valid UTF-8 are refused, naming the item, instead of being altered', async () => {
    const before = await rowCount();
    // TokenizeRequest{tenant:"demo", field:"email", values:["ok", <ff fe>]} by hand.
    const bytes = Buffer.concat([
      field(1, Buffer.from('demo')),
      field(2, Buffer.from('email')),
      field(3, Buffer.from('ok')),
      field(3, Buffer.from([0xff, 0xfe])),
    ]);
    const r = await rawCall('Tokenize', bytes);
    failed(r, status.INVALID_ARGUMENT, /values\[1\] is not valid UTF-8/);
    const garbage = await rawCall('Tokenize', Buffer.from([0x0a, 0x05, 0x64]));
    failed(garbage, status.INVALID_ARGUMENT, /not a valid protobuf message/);
    assert.equal(await rowCount(), before);
  });

  it('a request that is not gRPC (application/json) is refused with HTTP 415, like UNSUPPORTED_MEDIA_TYPE', async () => {
    const session = h2connect('http://localhost', {
      createConnection: () => netConnect(d.daemon.grpcSocket),
    });
    const statusCode = await new Promise<number>((resolve, reject) => {
      const req = session.request({
        ':method': 'POST',
        ':path': '/sidekey.v1.Sidekey/Tokenize',
        'content-type': 'application/json',
      });
      req.on('response', (h) => resolve(Number(h[':status'])));
      req.on('error', reject);
      req.end('{}');
    });
    session.close();
    assert.equal(statusCode, 415);
  });

  it('an unknown method is UNIMPLEMENTED', async () => {
    const c = rawClient(d.daemon.grpcSocket, ['Nope']);
    const r = await callRaw(c, 'Nope', Buffer.alloc(0), metadataOf({}));
    const code = r.ok ? 0 : r.code;
    c.close();
    assert.equal(code, status.UNIMPLEMENTED);
  });
});

function tamper(ork: string): string {
  const i = Math.floor(ork.length / 2);
  return ork.slice(0, i) + (ork[i] === 'A' ? 'B' : 'A') + ork.slice(i + 1);
}

function field(number: number, bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(number << 3) | 2, bytes.length]), bytes]);
}

/** A call with hand-made request bytes (a client that does not check UTF-8). */
async function rawCall(method: Method, bytes: Buffer): Promise<GrpcOutcome> {
  const c = rawClient(d.daemon.grpcSocket, [method]);
  try {
    return await callRaw(c, method, bytes, metadataOf({ ork: d.ork, token: TOKEN }));
  } finally {
    c.close();
  }
}
