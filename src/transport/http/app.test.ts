/**
 * The HTTP adapter's error mapping with a service that fails in ways a real
 * one only does when there is a bug: a thrown non-catalogue error must become
 * INTERNAL with a generic message, the detail going only to the server log.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SidekeyError } from '../../errors/index.js';
import { createHttpApp } from './app.js';

function app(fail: () => never) {
  const logged: unknown[] = [];
  const service = {
    tokenize: async () => fail(),
    detokenize: async () => fail(),
    encrypt: async () => fail(),
    decrypt: async () => fail(),
    deleteTokens: async () => fail(),
    forgetSubjects: async () => fail(),
    ingestKeys: async () => fail(),
  };
  const http = createHttpApp({
    service,
    readiness: async () => ({ ready: false, checks: { store: 'connection refused' } }),
    metrics: async () => ({ contentType: 'text/plain', body: '' }),
    bindHost: '127.0.0.1',
    maxBodyBytes: 1024,
    clientToken: undefined,
    onInternalError: (err) => logged.push(err),
  });
  return { http, logged };
}

const request = (path: string) =>
  new Request(`http://127.0.0.1${path}`, {
    method: 'POST',
    headers: { host: '127.0.0.1', 'content-type': 'application/json', 'x-request-id': 'r-1' },
    body: '{}',
  });

describe('HTTP error mapping', () => {
  it('maps an unexpected error to INTERNAL without leaking its detail', async () => {
    const { http, logged } = app(() => {
      throw new Error('pg: relation "secret_table" does not exist');
    });
    const res = await http.fetch(request('/v1/tokenize'));
    assert.equal(res.status, 500);
    const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
    assert.equal(body.error.code, 'INTERNAL');
    assert.equal(body.error.requestId, 'r-1');
    assert.doesNotMatch(body.error.message, /secret_table/);
    assert.equal(logged.length, 1, 'the detail goes to the server log');
  });

  it('maps every catalogue error to its status', async () => {
    for (const [code, status] of [
      ['UNAVAILABLE', 503],
      ['FAILED_PRECONDITION', 409],
      ['RESOURCE_EXHAUSTED', 429],
    ] as const) {
      const { http } = app(() => {
        throw new SidekeyError(code, 'x');
      });
      const res = await http.fetch(request('/v1/detokenize'));
      assert.equal(res.status, status);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, code);
    }
  });

  it('/readyz answers 503 naming what is down', async () => {
    const { http } = app(() => assert.fail('not called'));
    const res = await http.fetch(new Request('http://127.0.0.1/readyz', { headers: { host: '127.0.0.1' } }));
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { status: 'not_ready', checks: { store: 'connection refused' } });
  });
});
