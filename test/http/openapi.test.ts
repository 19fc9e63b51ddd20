/**
 * The OpenAPI document: valid OpenAPI 3.1 (checked by a standard validator),
 * docs/openapi.json up to date, every route of the HTTP app in it and
 * nothing else, what the daemon serves byte for byte the same, and a proto
 * change flowing into it without an edit of the generator.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import protobuf from 'protobufjs';
import { renderOpenApi } from '../../scripts/openapi-gen.js';
import { protoRoot, SIDEKEY_PROTO } from '../../src/transport/grpc/proto.js';
import { buildOpenApi, openApiDocument } from '../../src/transport/http/openapi.js';
import { DATA_ROUTES } from '../../src/transport/http/routes.js';
import { stubHttpApp } from '../support/stub-http-app.js';

type Doc = {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
};

const doc = openApiDocument() as Doc;
const docsFile = new URL('../../docs/openapi.json', import.meta.url);

const app = stubHttpApp;

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    assert.deepEqual(result.errors ?? [], []);
    assert.equal(result.valid, true);
    assert.equal(validator.version, '3.1');
  });

  it('docs/openapi.json is up to date (run `npm run openapi:gen`)', () => {
    assert.ok(readFileSync(docsFile, 'utf8') === renderOpenApi(), 'docs/openapi.json is stale');
  });

  it('describes every route of the HTTP app, with its method, and no other', () => {
    const routes = app()
      .routes.filter((r) => r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    const described = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    assert.deepEqual(described, routes);
  });

  it('puts every RPC of the proto on an HTTP path', () => {
    const root = new protobuf.Root().loadSync(join(protoRoot(), SIDEKEY_PROTO), { keepCase: true });
    const rpcs = Object.keys(root.lookupService('sidekey.v1.Sidekey').methods).sort();
    assert.deepEqual([...Object.values(DATA_ROUTES)].sort(), rpcs);
  });

  it('is what the daemon serves at GET /openapi.json, behind the loopback guard', async () => {
    const served = await app().fetch(
      new Request('http://127.0.0.1/openapi.json', { headers: { host: '127.0.0.1' } }),
    );
    assert.equal(served.status, 200);
    assert.match(served.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await served.json(), doc);
    const rebound = await app().fetch(
      new Request('http://127.0.0.1/openapi.json', { headers: { host: 'evil.example' } }),
    );
    assert.equal(rebound.status, 403);
  });

  it('takes new proto fields and messages as they come (camelCase JSON names)', () => {
    const text = readFileSync(join(protoRoot(), SIDEKEY_PROTO), 'utf8')
      .replace(
        'repeated string values = 3;',
        'repeated string values = 3;\n  uint32 retention_days = 90;\n  Mask mask = 91;',
      )
      .replace(
        'message TokenizeResponse {',
        'message Mask { string pattern = 1; }\n\nmessage TokenizeResponse {',
      );
    const root = protobuf.parse(text, new protobuf.Root(), { keepCase: true }).root;
    const changed = buildOpenApi(root) as Doc;
    const request = changed.components.schemas.TokenizeRequest!;
    // Optional request fields may be null (proto3 JSON: null is the default).
    assert.deepEqual(request.properties?.retentionDays, {
      anyOf: [{ type: 'integer', minimum: 0, maximum: 4294967295 }, { type: 'null' }],
    });
    assert.deepEqual(request.properties?.mask, {
      anyOf: [{ $ref: '#/components/schemas/Mask' }, { type: 'null' }],
    });
    assert.ok(changed.components.schemas.Mask, 'the new message has a schema');
    assert.ok(!request.required?.includes('retentionDays'), 'a new request field is optional');
  });

  it('gives every data operation the error envelope for every status of the catalogue', () => {
    const tokenize = doc.paths['/v1/tokenize']!.post as { responses: Record<string, unknown> };
    assert.deepEqual(Object.keys(tokenize.responses).sort(), [
      '200',
      '400',
      '401',
      '403',
      '404',
      '409',
      '413',
      '415',
      '429',
      '500',
      '503',
    ]);
  });
});
