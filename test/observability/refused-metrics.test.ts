/**
 * Requests refused before the service are counted by reason on /metrics
 * (a DNS-rebinding or browser attack, a wrong client, an oversized body):
 * over the real HTTP listener and gRPC socket of a daemon with a client token.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { callGrpc, sidekeyClient } from '../grpc/support.js';
import { freshDataDir, startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { call } from '../support/http.js';

const TOKEN = 'refused-metrics-test-token';
let d: TestDaemon;
before(async () => {
  const dataDir = await freshDataDir();
  const tokenFile = join(dataDir, 'client.token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  d = await startTestDaemon(
    { SIDEKEY_CLIENT_TOKEN_FILE: tokenFile, SIDEKEY_MAX_BODY_BYTES: '1024' },
    { dataDir },
  );
});
after(async () => {
  await d?.stop();
  if (d) rmSync(d.dataDir, { recursive: true, force: true });
});

const body = { tenant: 'demo', field: 'f', values: ['v'] };
const auth = { authorization: `Bearer ${TOKEN}`, 'x-sidekey-org-key': 'sk_ork_x' };

function refusedCounts(metrics: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of metrics.matchAll(/^sidekey_requests_refused_total\{(.*)\} (\d+)$/gm)) {
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    out[`${labels.transport}/${labels.reason}`] = Number(m[2]);
  }
  return out;
}

describe('refused requests on /metrics', () => {
  it('counts each refusal under its reason, and nothing for accepted calls', async () => {
    const before = refusedCounts((await call(d.url, '/metrics')).text);
    assert.deepEqual(before, {
      'http/host': 0,
      'http/origin': 0,
      'http/content_type': 0,
      'http/route': 0,
      'http/body_size': 0,
      'http/client_token': 0,
      'grpc/client_token': 0,
    });

    const statuses = [
      (await call(d.url, '/v1/tokenize', { body, headers: { ...auth, host: 'rebind.example.com' } })).status,
      (await call(d.url, '/v1/tokenize', { body, headers: { ...auth, origin: 'https://evil.example' } }))
        .status,
      (
        await call(d.url, '/v1/tokenize', {
          body: JSON.stringify(body),
          headers: { ...auth, 'content-type': 'text/plain' },
        })
      ).status,
      (await call(d.url, '/v1/nowhere', { body, headers: auth })).status,
      (await call(d.url, '/v1/tokenize', { body: { ...body, values: ['x'.repeat(2048)] }, headers: auth }))
        .status,
      (await call(d.url, '/v1/tokenize', { body, headers: { 'x-sidekey-org-key': 'sk_ork_x' } })).status,
    ];
    assert.deepEqual(statuses, [403, 403, 415, 404, 413, 401]);
    // An accepted call (it fails later, in the service) is not a refusal.
    const accepted = await call(d.url, '/v1/tokenize', { body, headers: auth });
    assert.equal(accepted.status, 401, 'a malformed ORK is the service answering');

    const client = sidekeyClient(d.daemon.grpcSocket, { ownConnection: true });
    try {
      const outcome = await callGrpc(client, 'Tokenize', body, { ork: 'sk_ork_x' });
      assert.equal(outcome.ok ? 0 : outcome.code, 16, 'UNAUTHENTICATED');
    } finally {
      client.close();
    }

    const after = refusedCounts((await call(d.url, '/metrics')).text);
    assert.deepEqual(after, {
      'http/host': 1,
      'http/origin': 1,
      'http/content_type': 1,
      'http/route': 1,
      'http/body_size': 1,
      'http/client_token': 1,
      'grpc/client_token': 1,
    });
  });
});
