/**
 * Health and availability of a real daemon over its socket: SERVING while
 * ready; the rate limit answers RESOURCE_EXHAUSTED; when the store goes down
 * underneath the running daemon (its embedded store closed), data calls get
 * UNAVAILABLE and the health service turns NOT_SERVING within its polling
 * interval (2 s). The health wiring with an injected readiness, both ways,
 * is in listener.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { until } from '../support/wait.js';
import { callGrpc, healthClient, sidekeyClient } from './support.js';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon({ SIDEKEY_RATE_LIMIT_RPS: '5', SIDEKEY_RATE_LIMIT_BURST: '5' });
});
after(() => d?.destroy());

function check(service: string): Promise<string> {
  const h = healthClient(d.daemon.grpcSocket);
  return new Promise<string>((resolve, reject) =>
    h.Check({ service }, (err: Error | null, r: { status: string }) => {
      h.close();
      if (err) reject(err);
      else resolve(r.status);
    }),
  );
}

it('over the rate limit, calls get RESOURCE_EXHAUSTED with the limiter’s message', async () => {
  const c = sidekeyClient(d.daemon.grpcSocket);
  const results = await Promise.all(
    Array.from({ length: 12 }, () =>
      callGrpc(c, 'Encrypt', { tenant: 'demo', field: 'f', plaintexts: ['x'] }, { ork: d.ork }),
    ),
  );
  c.close();
  const limited = results.filter((r) => !r.ok);
  assert.ok(results.some((r) => r.ok));
  assert.ok(limited.length >= 5, `${limited.length} limited`);
  for (const r of limited) {
    assert.ok(!r.ok);
    assert.equal(r.code, status.RESOURCE_EXHAUSTED);
    assert.equal(r.details, 'rate limit exceeded; retry later');
  }
});

it('store down → UNAVAILABLE for data calls and NOT_SERVING for "" and sidekey.v1.Sidekey', async () => {
  assert.equal(await check(''), 'SERVING');
  assert.equal(await check('sidekey.v1.Sidekey'), 'SERVING');

  await d.daemon.store.close(); // the store goes away under the running daemon
  const c = sidekeyClient(d.daemon.grpcSocket);
  // The previous test emptied the rate limiter's bucket: call until it admits the call.
  let r: Awaited<ReturnType<typeof callGrpc>> | undefined;
  await until('a call the rate limiter admits', async () => {
    r = await callGrpc(c, 'Tokenize', { tenant: 'demo', field: 'f', values: ['x'] }, { ork: d.ork });
    return r.ok || r.code !== status.RESOURCE_EXHAUSTED;
  });
  c.close();
  assert.ok(r !== undefined && !r.ok);
  assert.equal(r.code, status.UNAVAILABLE);

  await until(
    'NOT_SERVING within a few polling intervals',
    async () => (await check('sidekey.v1.Sidekey')) === 'NOT_SERVING',
    6000,
    100,
  );
  assert.equal(await check(''), 'NOT_SERVING');
});
