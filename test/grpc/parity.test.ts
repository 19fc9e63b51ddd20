/**
 * One core, two transports, one contract: a table of requests run over HTTP
 * and over gRPC against the same daemon gives equivalent results (the gRPC
 * response in its proto3 JSON form equals the HTTP body; a failure has the
 * gRPC status of the HTTP error's code and the same message), and what one
 * transport makes the other reads. Then many concurrent gRPC clients with
 * batches.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ErrorCode, grpcStatusOf } from '../../src/errors/index.js';
import type { SidekeyClient } from '../../src/transport/grpc/generated/sidekey/v1/Sidekey.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { post } from '../support/http.js';
import { asJson, callGrpc, type GrpcOutcome, type Method, sidekeyClient } from './support.js';

let d: TestDaemon;
let client: SidekeyClient;

const PATHS: Record<Method, string> = {
  Tokenize: '/v1/tokenize',
  Detokenize: '/v1/detokenize',
  Encrypt: '/v1/encrypt',
  Decrypt: '/v1/decrypt',
  DeleteTokens: '/v1/tokens/delete',
};

interface Both {
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies
  readonly http: { status: number; body: any };
  readonly grpc: GrpcOutcome;
}

/** The request under its proto field names (`ttlSeconds` is `ttl_seconds` in the .proto). */
function protoNamed(request: object): object {
  return Object.fromEntries(
    Object.entries(request).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]),
  );
}

async function both(method: Method, request: object, ork: string | undefined): Promise<Both> {
  const [http, grpc] = await Promise.all([
    post(d.url, PATHS[method], ork, request),
    callGrpc(client, method, protoNamed(request), ork === undefined ? {} : { ork }),
  ]);
  return { http, grpc };
}

/** Equivalent: the same success body, or the same error code and message. */
function assertEquivalent({ http, grpc }: Both, compareBodies = true): void {
  if (http.status === 200) {
    assert.ok(grpc.ok, `HTTP succeeded, gRPC failed: ${grpc.ok ? '' : grpc.details}`);
    if (compareBodies) assert.deepEqual(asJson(grpc.response), http.body);
    return;
  }
  const { code, message } = http.body.error as { code: ErrorCode; message: string };
  assert.ok(!grpc.ok, `HTTP failed with ${code}, gRPC succeeded`);
  assert.equal(grpc.code, grpcStatusOf(code), `${code}: gRPC status ${grpc.code}`);
  assert.equal(grpc.details, message);
}

before(async () => {
  d = await startTestDaemon({ SIDEKEY_MAX_BATCH: '200' });
  client = sidekeyClient(d.daemon.grpcSocket);
  assert.equal(d.daemon.grpcSocket, join(d.dataDir, 'sidekey.sock'), 'the default socket path');
  // Field policies through the store port (the CLI cannot open an embedded store a daemon holds).
  const policy = {
    tenant: 'demo',
    alphabet: null,
    keepPrefix: 0,
    keepSuffix: 0,
    mask: 'redact',
    ttlSeconds: null,
  } as const;
  await d.daemon.store.putPolicy({ ...policy, field: 'det', kind: 'deterministic' });
  await d.daemon.store.putPolicy({
    ...policy,
    field: 'card',
    kind: 'fpe',
    alphabet: 'digits',
    keepPrefix: 6,
    keepSuffix: 4,
  });
  await d.daemon.store.putPolicy({
    ...policy,
    field: 'pan',
    kind: 'random',
    mask: 'last4',
    ttlSeconds: 3600,
  });
});
after(async () => {
  client?.close();
  await d?.destroy();
});

describe('parity', () => {
  it('tokens made on one transport are read on the other, with identical results', async () => {
    const values = ['alice@example.com', '', 'Zoë 👩‍💻', '\u0000\u001f\u007f'];
    const viaHttp = (await post(d.url, '/v1/tokenize', d.ork, { tenant: 'demo', field: 'email', values }))
      .body.tokens as string[];
    const viaGrpc = await callGrpc(
      client,
      'Tokenize',
      { tenant: 'demo', field: 'email', values },
      { ork: d.ork },
    );
    assert.ok(viaGrpc.ok);
    const tokens = [...viaHttp, ...viaGrpc.response.tokens, 'tok_AAAAAAAAAAAAAAAAAAAAAA'];
    const r = await both('Detokenize', { tenant: 'demo', tokens, purpose: 'parity' }, d.ork);
    assertEquivalent(r);
    assert.deepEqual(
      r.http.body.results.slice(0, 8).map((x: { value: string }) => x.value),
      [...values, ...values],
    );
    assert.deepEqual(r.http.body.results[8], { error: { code: 'NOT_FOUND', message: 'token not found' } });
  });

  it('ciphertexts made on one transport decrypt on the other, with identical results', async () => {
    const plaintexts = ['4111 1111 1111 1111', '', 'ü'];
    const e = await both('Encrypt', { tenant: 'demo', field: 'card', plaintexts, context: 'c1' }, d.ork);
    assertEquivalent(e, false);
    assert.ok(e.grpc.ok);
    const ciphertexts = [...e.http.body.ciphertexts, ...e.grpc.response.ciphertexts];
    for (const context of ['c1', 'c2']) {
      const r = await both('Decrypt', { tenant: 'demo', field: 'card', ciphertexts, context }, d.ork);
      assertEquivalent(r);
      if (context === 'c1') {
        assert.deepEqual(
          r.http.body.results.map((x: { plaintext: string }) => x.plaintext),
          [...plaintexts, ...plaintexts],
        );
      } else {
        assert.ok(r.http.body.results.every((x: { error?: unknown }) => x.error !== undefined));
      }
    }
  });

  it('delete: the same count on both transports, and the tokens are gone for both', async () => {
    const mk = async () =>
      (await post(d.url, '/v1/tokenize', d.ork, { tenant: 'demo', field: 'f', values: ['a', 'b'] })).body
        .tokens as string[];
    const [forHttp, forGrpc] = [await mk(), await mk()];
    const h = await post(d.url, '/v1/tokens/delete', d.ork, { tenant: 'demo', tokens: forHttp });
    const g = await callGrpc(client, 'DeleteTokens', { tenant: 'demo', tokens: forGrpc }, { ork: d.ork });
    assert.ok(g.ok);
    assert.deepEqual(asJson(g.response), h.body);
    assert.deepEqual(h.body, { deleted: 2 });
    assertEquivalent(await both('Detokenize', { tenant: 'demo', tokens: [...forHttp, ...forGrpc] }, d.ork));
  });

  it('deterministic and fpe tokens: the same tokens on both transports; detokenize and delete with the field', async () => {
    for (const [field, values] of [
      ['det', ['ada@example.com', 'ada@example.com', 'Zoë']],
      ['card', ['4111-1111-1111-1111', '4000 0566 5566 5556']],
    ] as const) {
      const t = await both('Tokenize', { tenant: 'demo', field, values }, d.ork);
      assertEquivalent(t);
      const tokens = t.http.body.tokens as string[];
      const r = await both(
        'Detokenize',
        { tenant: 'demo', field, tokens: [...tokens, 'not-a-token'] },
        d.ork,
      );
      assertEquivalent(r);
      assert.deepEqual(
        r.http.body.results.slice(0, values.length),
        values.map((value) => ({ value })),
      );
      assert.deepEqual(r.http.body.results.at(-1), {
        error: { code: 'NOT_FOUND', message: 'token not found' },
      });
    }
    const mk = async () =>
      (
        await post(d.url, '/v1/tokenize', d.ork, {
          tenant: 'demo',
          field: 'card',
          values: ['5555-5555-5555-4444'],
        })
      ).body.tokens as string[];
    const token = await mk();
    const h = await post(d.url, '/v1/tokens/delete', d.ork, { tenant: 'demo', field: 'card', tokens: token });
    assert.deepEqual(h.body, { deleted: 1 });
    assert.deepEqual(await mk(), token, 'the same token again after a delete');
    const g = await callGrpc(
      client,
      'DeleteTokens',
      { tenant: 'demo', field: 'card', tokens: token },
      { ork: d.ork },
    );
    assert.ok(g.ok);
    assert.deepEqual(asJson(g.response), h.body);
  });

  it('masked reveal (detokenize and decrypt) and a tokenize TTL: identical on both transports', async () => {
    const t = await both(
      'Tokenize',
      { tenant: 'demo', field: 'pan', values: ['4111 1111 1111 1111'], ttlSeconds: 60 },
      d.ork,
    );
    assertEquivalent(t, false);
    assert.ok(t.grpc.ok);
    const tokens = [...t.http.body.tokens, ...t.grpc.response.tokens, 'tok_AAAAAAAAAAAAAAAAAAAAAA'];
    const r = await both('Detokenize', { tenant: 'demo', tokens, mask: true }, d.ork);
    assertEquivalent(r);
    const masked = { value: '**** **** **** 1111', masked: true };
    assert.deepEqual(r.http.body.results, [
      masked,
      masked,
      { error: { code: 'NOT_FOUND', message: 'token not found' } },
    ]);
    const plain = await both(
      'Detokenize',
      { tenant: 'demo', tokens: tokens.slice(0, 2), mask: false },
      d.ork,
    );
    assertEquivalent(plain);
    assert.deepEqual(plain.http.body.results, [
      { value: '4111 1111 1111 1111' },
      { value: '4111 1111 1111 1111' },
    ]);
    const e = await post(d.url, '/v1/encrypt', d.ork, {
      tenant: 'demo',
      field: 'pan',
      plaintexts: ['5500-0000-0000-0004'],
    });
    const p = await both(
      'Decrypt',
      { tenant: 'demo', field: 'pan', ciphertexts: e.body.ciphertexts, mask: true },
      d.ork,
    );
    assertEquivalent(p);
    assert.deepEqual(p.http.body.results, [{ plaintext: '****-****-****-0004', masked: true }]);
  });

  const failures: [string, Method, () => object, (() => string | undefined)?][] = [
    [
      'ttlSeconds negative',
      'Tokenize',
      () => ({ tenant: 'demo', field: 'f', values: ['v'], ttlSeconds: -5 }),
    ],
    [
      'ttlSeconds above ten years',
      'Tokenize',
      () => ({ tenant: 'demo', field: 'f', values: ['v'], ttlSeconds: 315_360_001 }),
    ],
    [
      'fpe value too short',
      'Tokenize',
      () => ({ tenant: 'demo', field: 'card', values: ['4111-1111-1111-1111', '4111'] }),
    ],
    [
      'fpe token without its field',
      'Detokenize',
      () => ({ tenant: 'demo', tokens: ['4111-1122-3344-1111'] }),
    ],
    ['bad field on delete', 'DeleteTokens', () => ({ tenant: 'demo', field: 'no good', tokens: ['x'] })],
    ['bad tenant', 'Tokenize', () => ({ tenant: 'Nope!', field: 'f', values: ['v'] })],
    ['bad field', 'Encrypt', () => ({ tenant: 'demo', field: '', plaintexts: ['v'] })],
    ['empty batch', 'Tokenize', () => ({ tenant: 'demo', field: 'f', values: [] })],
    [
      'oversize batch',
      'Detokenize',
      () => ({ tenant: 'demo', tokens: Array(201).fill('tok_AAAAAAAAAAAAAAAAAAAAAA') }),
    ],
    [
      'oversize value',
      'Encrypt',
      () => ({ tenant: 'demo', field: 'f', plaintexts: ['v', 'x'.repeat(65537)] }),
    ],
    [
      'malformed token',
      'DeleteTokens',
      () => ({ tenant: 'demo', tokens: ['tok_AAAAAAAAAAAAAAAAAAAAAA', 'x'] }),
    ],
    ['malformed ciphertext', 'Decrypt', () => ({ tenant: 'demo', field: 'f', ciphertexts: ['x'] })],
    ['missing ORK', 'Tokenize', () => ({ tenant: 'demo', field: 'f', values: ['v'] }), () => undefined],
    [
      'malformed ORK',
      'Detokenize',
      () => ({ tenant: 'demo', tokens: ['tok_AAAAAAAAAAAAAAAAAAAAAA'] }),
      () => 'x',
    ],
  ];
  for (const [name, method, request, ork] of failures) {
    it(`${method}: ${name} fails the same way on both`, async () => {
      const r = await both(method, request(), ork === undefined ? d.ork : ork());
      assert.notEqual(r.http.status, 200);
      assertEquivalent(r);
    });
  }
});

describe('many concurrent clients', () => {
  it('20 clients × 5 rounds of 100-value batches: no errors, every value round-trips', async () => {
    // Each client on its own connection (grpc-js would otherwise share one).
    const clients = Array.from({ length: 20 }, () =>
      sidekeyClient(d.daemon.grpcSocket, { ownConnection: true }),
    );
    try {
      await Promise.all(
        clients.map(async (c, ci) => {
          for (let round = 0; round < 5; round++) {
            const values = Array.from(
              { length: 100 },
              (_, i) => `${ci}:${round}:${i}:${randomBytes(6).toString('base64')}`,
            );
            const t = await callGrpc(
              c,
              'Tokenize',
              { tenant: 'demo', field: 'load', values },
              { ork: d.ork },
            );
            assert.ok(t.ok, t.ok ? '' : t.details);
            const r = await callGrpc(
              c,
              'Detokenize',
              { tenant: 'demo', tokens: t.response.tokens },
              { ork: d.ork },
            );
            assert.ok(r.ok, r.ok ? '' : r.details);
            assert.deepEqual(
              r.response.results.map((x: { value: string }) => x.value),
              values,
            );
            const e = await callGrpc(
              c,
              'Encrypt',
              { tenant: 'demo', field: 'load', plaintexts: values },
              { ork: d.ork },
            );
            assert.ok(e.ok, e.ok ? '' : e.details);
            const p = await callGrpc(
              c,
              'Decrypt',
              { tenant: 'demo', field: 'load', ciphertexts: e.response.ciphertexts },
              { ork: d.ork },
            );
            assert.ok(p.ok, p.ok ? '' : p.details);
            assert.deepEqual(
              p.response.results.map((x: { plaintext: string }) => x.plaintext),
              values,
            );
          }
        }),
      );
    } finally {
      for (const c of clients) c.close();
    }
  });
});
