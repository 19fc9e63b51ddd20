/**
 * The gRPC listener on a real socket over a stand-in service: the parts of
 * the transport that do not depend on the core — internal errors, deadlines,
 * graceful shutdown, the health service following readiness, reflection.
 * (The real core over the same listener: api.test.ts, parity.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import type { Readiness } from '../../src/observability/index.js';
import { type GrpcServerHandle, type GrpcService, listenGrpc } from '../../src/transport/grpc/index.js';
import { until } from '../support/wait.js';
import { callGrpc, healthClient, reflectionClient, sidekeyClient } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'sidekey-grpc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'do-not-log-this-value';
let delayMs = 0;
/** Calls that reached the stand-in service, and calls it finished: what the tests wait for. */
let started = 0;
let finished = 0;
const service: GrpcService = {
  tokenize: async (input) => {
    started++;
    await sleep(delayMs); // the simulated work
    finished++;
    const values = (input as { values: string[] }).values;
    if (values.includes('boom')) throw new TypeError(`unexpected failure near ${SECRET.length} chars`);
    return { tokens: values.map((_, i) => `tok_${i}`) };
  },
  detokenize: async () => ({ results: [] }),
  encrypt: async () => ({ ciphertexts: [] }),
  decrypt: async () => ({ results: [] }),
  deleteTokens: async () => ({ deleted: 0 }),
  forgetSubjects: async () => ({ forgotten: 0 }),
  ingestKeys: async () => ({ keys: [] }),
};

let ready: Readiness = { ready: true, checks: { kms: 'ok', store: 'ok' } };
const logged: { obj: unknown; msg: string }[] = [];
const log = {
  info: () => {},
  warn: (obj: unknown, msg?: string) => logged.push({ obj, msg: msg ?? String(obj) }),
  error: (obj: unknown, msg?: string) => logged.push({ obj, msg: msg ?? '' }),
} as never;

async function listen(name: string, extra: { shutdownGraceMs?: number } = {}): Promise<GrpcServerHandle> {
  return listenGrpc({
    service,
    socketPath: join(dir, name),
    readiness: async () => ready,
    clientToken: undefined,
    maxMessageBytes: 64 * 1024,
    log,
    healthIntervalMs: 50,
    ...extra,
  });
}

describe('calls', () => {
  let server: GrpcServerHandle;
  before(async () => {
    server = await listen('calls.sock');
  });
  after(() => server.close());

  it('an unexpected error is INTERNAL with a generic message; the detail goes to the log with the request id', async () => {
    const c = sidekeyClient(server.socketPath);
    const r = await callGrpc(c, 'Tokenize', { values: ['boom'] }, { requestId: 'req-internal-1' });
    c.close();
    assert.equal(r.ok, false);
    assert.ok(!r.ok);
    assert.equal(r.code, status.INTERNAL);
    assert.equal(r.details, 'internal error; see the server log for this request id');
    assert.equal(r.requestId, 'req-internal-1');
    const entry = logged.find((l) => l.msg === 'internal error');
    assert.ok(entry, 'logged');
    assert.equal((entry.obj as { requestId: string }).requestId, 'req-internal-1');
    assert.match(JSON.stringify(entry.obj), /TypeError/);
  });

  it('a deadline that passes while the service works ends the call with DEADLINE_EXCEEDED; the server carries on', async () => {
    const c = sidekeyClient(server.socketPath);
    delayMs = 400;
    const done = finished;
    const late = await callGrpc(c, 'Tokenize', { values: ['a'] }, { deadlineMs: 100 });
    assert.ok(!late.ok);
    assert.equal(late.code, status.DEADLINE_EXCEEDED);
    // The late result is dropped, not written after the end of the call.
    await until('the service to finish the late call', () => finished > done);
    delayMs = 0;
    const next = await callGrpc(c, 'Tokenize', { values: ['a', 'b'] }, { deadlineMs: 2000 });
    assert.ok(next.ok);
    assert.deepEqual(next.response.tokens, ['tok_0', 'tok_1']);
    c.close();
  });

  it('a message over the limit is RESOURCE_EXHAUSTED (like PAYLOAD_TOO_LARGE over HTTP)', async () => {
    const c = sidekeyClient(server.socketPath);
    const r = await callGrpc(c, 'Tokenize', { values: ['x'.repeat(64 * 1024 + 1)] });
    c.close();
    assert.ok(!r.ok);
    assert.equal(r.code, status.RESOURCE_EXHAUSTED);
  });

  it('reflection lists the services and describes the contract', async () => {
    const c = reflectionClient(server.socketPath);
    const stream = c.ServerReflectionInfo();
    const answers: unknown[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (m: unknown) => {
        answers.push(m);
        if (answers.length === 2) stream.end();
      });
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    stream.write({ list_services: '' });
    stream.write({ file_containing_symbol: 'sidekey.v1.Sidekey' });
    await done;
    c.close();
    const [list, file] = answers as [
      { list_services_response: { service: { name: string }[] } },
      { file_descriptor_response: { file_descriptor_proto: Buffer[] } },
    ];
    const names = list.list_services_response.service.map((s) => s.name).sort();
    assert.ok(names.includes('sidekey.v1.Sidekey'), names.join(','));
    assert.ok(names.includes('grpc.health.v1.Health'), names.join(','));
    const fd = Buffer.concat(file.file_descriptor_response.file_descriptor_proto).toString('latin1');
    // proto-loader names descriptor files by package (sidekey_v1.proto), not by path.
    assert.ok(fd.includes('sidekey.v1') && fd.includes('DeleteTokens') && fd.includes('DetokenizeResult'));
  });
});

describe('health follows readiness', () => {
  it('SERVING while ready, NOT_SERVING when not, for "" and sidekey.v1.Sidekey; Watch sees each change', async () => {
    ready = { ready: true, checks: {} };
    const server = await listen('health.sock');
    const h = healthClient(server.socketPath);
    const check = (service: string) =>
      new Promise<string>((resolve, reject) =>
        h.Check({ service }, (err: Error | null, r: { status: string }) =>
          err ? reject(err) : resolve(r.status),
        ),
      );
    assert.equal(await check(''), 'SERVING');
    assert.equal(await check('sidekey.v1.Sidekey'), 'SERVING');
    await assert.rejects(check('no.such.Service'), (e: { code: number }) => e.code === status.NOT_FOUND);

    const seen: string[] = [];
    const watch = h.Watch({ service: 'sidekey.v1.Sidekey' });
    const ended = new Promise<void>((resolve) => {
      watch.on('data', (m: { status: string }) => seen.push(m.status));
      watch.on('error', () => resolve());
      watch.on('end', () => resolve());
    });
    await until('the Watch to report the current status', () => seen.length > 0, 15_000, 5);

    ready = { ready: false, checks: { store: 'connection refused' } };
    await until('NOT_SERVING', async () => (await check('')) === 'NOT_SERVING', 15_000, 25);
    assert.equal(await check('sidekey.v1.Sidekey'), 'NOT_SERVING');
    ready = { ready: true, checks: {} };
    await until('SERVING', async () => (await check('sidekey.v1.Sidekey')) === 'SERVING', 15_000, 25);

    // Shutdown: NOT_SERVING, and the open Watch is ended rather than holding up the close.
    // An open Watch is ended by the shutdown (otherwise `ended` never resolves and the test times out).
    await server.close();
    await ended;
    assert.deepEqual(dedupe(seen), ['SERVING', 'NOT_SERVING', 'SERVING', 'NOT_SERVING']);
    h.close();
  });
});

describe('shutdown', () => {
  it('lets an in-flight call finish, then removes the socket file', async () => {
    const server = await listen('shutdown.sock');
    const c = sidekeyClient(server.socketPath);
    delayMs = 300;
    const before = started;
    const inFlight = callGrpc(c, 'Tokenize', { values: ['a'] });
    await until('the call to reach the service', () => started > before, 5000, 5);
    await server.close();
    const r = await inFlight;
    delayMs = 0;
    assert.ok(r.ok, 'the in-flight call completed');
    assert.throws(() => statSync(server.socketPath), /ENOENT/);
    c.close();
  });

  it('cancels calls still running at the end of the grace period', async () => {
    const server = await listen('grace.sock', { shutdownGraceMs: 100 });
    const c = sidekeyClient(server.socketPath);
    delayMs = 2000;
    const before = started;
    const inFlight = callGrpc(c, 'Tokenize', { values: ['a'] });
    await until('the call to reach the service', () => started > before, 5000, 5);
    await server.close();
    // Not cancelled, the call would have completed its 2 s of work successfully.
    const r = await inFlight;
    delayMs = 0;
    assert.ok(!r.ok);
    assert.ok(logged.some((l) => /grace period/.test(l.msg)));
    assert.throws(() => statSync(server.socketPath), /ENOENT/);
    c.close();
  });
});

after(() => {
  assert.ok(!JSON.stringify(logged).includes(SECRET));
});

function dedupe(list: string[]): string[] {
  return list.filter((s, i) => i === 0 || list[i - 1] !== s);
}
