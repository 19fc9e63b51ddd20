/**
 * The checker every HTTP test goes through (test/support/http.ts) can fail:
 * it refuses responses and accepted requests that break the OpenAPI document.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { checkExchange, type Exchange } from '../support/openapi-contract.js';

const tokenize = (over: Partial<Exchange>): Exchange => ({
  method: 'POST',
  path: '/v1/tokenize',
  requestContentType: 'application/json',
  requestBody: '{"tenant":"demo","field":"email","values":["a"]}',
  status: 200,
  responseContentType: 'application/json',
  responseText: '{"tokens":["tok_AAAAAAAAAAAAAAAAAAAAAA"]}',
  ...over,
});
const envelope = (code: string) => JSON.stringify({ error: { code, message: 'm', requestId: 'r' } });

it('passes an exchange that follows the document', () => {
  checkExchange(tokenize({}));
  checkExchange(
    tokenize({ requestBody: '{"tenant":"NO"}', status: 400, responseText: envelope('INVALID_ARGUMENT') }),
  );
  checkExchange(tokenize({ method: 'GET', path: '/nope', status: 404, responseText: envelope('NOT_FOUND') }));
});

it('fails a response that does not match its schema', () => {
  assert.throws(() => checkExchange(tokenize({ responseText: '{"tokens":"tok_x"}' })), /does not match/);
  assert.throws(() => checkExchange(tokenize({ responseText: '{"tokens":[],"extra":1}' })), /does not match/);
  assert.throws(
    () => checkExchange(tokenize({ status: 400, responseText: envelope('NOT_FOUND') })),
    /does not match/,
  );
});

it('fails an undocumented status or content type', () => {
  assert.throws(() => checkExchange(tokenize({ status: 418 })), /not documented/);
  assert.throws(() => checkExchange(tokenize({ responseContentType: 'text/html' })), /content type/);
});

it('fails when the server accepted a request the document refuses', () => {
  assert.throws(
    () => checkExchange(tokenize({ requestBody: '{"tenant":"demo","values":["a"]}' })),
    /refuses/,
  );
  assert.throws(() => checkExchange(tokenize({ requestBody: 'not json' })), /malformed/);
  assert.throws(() => checkExchange(tokenize({ requestContentType: 'text/plain' })), /not JSON/);
});

it('routes a path with dot segments as the server does (the fuzzer sends them)', () => {
  // `/v1/../v1/tokenize` is the tokenize route once resolved: its 415 is documented there.
  checkExchange(
    tokenize({
      path: '/v1/../v1/tokenize',
      requestContentType: undefined,
      status: 415,
      responseText: envelope('UNSUPPORTED_MEDIA_TYPE'),
    }),
  );
  assert.throws(
    () => checkExchange(tokenize({ path: '/v1/../v1/tokenize', status: 418 })),
    /POST \/v1\/tokenize -> 418: status 418 is not documented/,
  );
});
