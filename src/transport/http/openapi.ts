/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the one source of
 * the message shapes: the proto (proto/sidekey/v1/sidekey.proto), whose
 * canonical JSON mapping HTTP speaks. Which RPC answers on which path is
 * routes.ts; the error envelope and statuses come from the error catalogue.
 * A new field, message or RPC in the proto appears here without an edit.
 *
 * Built once when the HTTP app is made (served at GET /openapi.json) and by
 * `npm run openapi:gen` (written to docs/openapi.json); never per request.
 */
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { ERROR_CODES, type ErrorCode, httpStatusOf } from '../../errors/index.js';
import { protoRoot, SIDEKEY_PROTO, SIDEKEY_SERVICE } from '../grpc/proto.js';
import { type JsonSchema, packageSchemas } from './proto-schema.js';
import { DATA_ROUTES, type RpcName, serviceMethodOf } from './routes.js';

const ref = (name: string) => `#/components/schemas/${name}`;
const json = (schema: JsonSchema) => ({ 'application/json': { schema } });

const REQUEST_ID_HEADER = {
  description: 'The request id: the X-Request-Id sent, when it matches the pattern, or a generated one.',
  schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
};

/** The `responses` entry of a status: the error envelope, its code one of those with that status. */
function errorResponse(codes: readonly ErrorCode[]) {
  return {
    description: codes.join(', '),
    headers: { 'X-Request-Id': REQUEST_ID_HEADER },
    content: json({
      allOf: [
        { $ref: ref('ErrorResponse') },
        {
          required: ['error'],
          properties: { error: { required: ['requestId'], properties: { code: { enum: [...codes] } } } },
        },
      ],
    }),
  };
}

/** Error responses by HTTP status, for the codes given. */
function errorResponses(codes: readonly ErrorCode[]): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = httpStatusOf(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].sort(([a], [b]) => a - b).map(([status, c]) => [String(status), errorResponse(c)]),
  );
}

/** What any request can be refused with before it reaches a route: the loopback guard, a bug. */
const GUARD_ERRORS: readonly ErrorCode[] = ['PERMISSION_DENIED', 'INTERNAL'];

function ok(description: string, content: Record<string, unknown>) {
  return { description, headers: { 'X-Request-Id': REQUEST_ID_HEADER }, content };
}

/** The routes that are not RPCs: probes, metrics and this document. */
function operationalPaths() {
  const get = (operationId: string, summary: string, responses: Record<string, unknown>) => ({
    get: {
      operationId,
      summary,
      tags: ['operations'],
      responses: { ...responses, ...errorResponses(GUARD_ERRORS) },
    },
  });
  return {
    '/healthz': get('healthz', 'Liveness: the process answers.', {
      200: ok('alive', json({ $ref: ref('Health') })),
    }),
    '/readyz': get('readyz', 'Readiness: the KMS and the store answer.', {
      200: ok('ready', json({ $ref: ref('Readiness') })),
      503: ok('not ready; `checks` says which dependency failed', json({ $ref: ref('Readiness') })),
    }),
    '/metrics': get('metrics', 'Prometheus metrics (text exposition format).', {
      200: ok('the metrics', { 'text/plain': { schema: { type: 'string' } } }),
    }),
    '/openapi.json': get('openapi', 'This document.', {
      200: ok('the OpenAPI document', json({ type: 'object' })),
    }),
  };
}

const OPERATIONAL_SCHEMAS: Record<string, JsonSchema> = {
  Health: {
    type: 'object',
    properties: { status: { const: 'ok' } },
    required: ['status'],
    additionalProperties: false,
  },
  Readiness: {
    type: 'object',
    properties: {
      status: { enum: ['ready', 'not_ready'] },
      checks: { type: 'object', additionalProperties: { type: 'string' } },
    },
    required: ['status'],
    additionalProperties: false,
  },
};

/** Builds the document from a loaded proto root (pure: no file access). */
export function buildOpenApi(root: protobuf.Root): Record<string, unknown> {
  root.resolveAll();
  const service = root.lookupService(SIDEKEY_SERVICE);
  const pkg = service.parent;
  if (pkg === null) throw new Error(`${SIDEKEY_SERVICE} has no package`);
  const methods = service.methods as Record<string, protobuf.Method>;
  const requestTypes = Object.values(methods).map((m) => root.lookupType(m.requestType));
  const { schemas, nameOf } = packageSchemas(pkg, requestTypes, ref);

  const paths: Record<string, unknown> = {};
  for (const [path, rpc] of Object.entries(DATA_ROUTES) as [string, RpcName][]) {
    const method = methods[rpc];
    if (method === undefined) throw new Error(`routes.ts maps ${path} to ${rpc}, which the proto lacks`);
    paths[path] = {
      post: {
        operationId: serviceMethodOf(rpc),
        summary: `${SIDEKEY_SERVICE}/${rpc}`,
        ...(method.comment && { description: method.comment }),
        tags: ['data'],
        security: [{ orgKey: [] }, { orgKey: [], clientToken: [] }],
        parameters: [
          { name: 'X-Request-Id', in: 'header', required: false, schema: REQUEST_ID_HEADER.schema },
        ],
        requestBody: {
          required: true,
          content: json({ $ref: ref(nameOf(root.lookupType(method.requestType))) }),
        },
        responses: {
          200: ok('the answer', json({ $ref: ref(nameOf(root.lookupType(method.responseType))) })),
          ...errorResponses(ERROR_CODES),
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'sidekey',
      version: pkg.fullName.replace(/^\./, ''),
      description:
        'Tokenization and field encryption over loopback HTTP. Bodies are the proto3 JSON mapping of ' +
        `${SIDEKEY_PROTO} (service ${SIDEKEY_SERVICE}); docs/api.md is the reference.`,
    },
    servers: [{ url: 'http://127.0.0.1:7600', description: 'SIDEKEY_HTTP_HOST and SIDEKEY_HTTP_PORT' }],
    tags: [
      { name: 'data', description: 'Tokenization and encryption: the RPCs of the proto.' },
      { name: 'operations', description: 'Probes, metrics, this document.' },
    ],
    paths: { ...paths, ...operationalPaths() },
    components: {
      schemas: { ...schemas, ...OPERATIONAL_SCHEMAS },
      securitySchemes: {
        orgKey: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Sidekey-Org-Key',
          description: 'The organisation key (ORK) string of the tenant.',
        },
        clientToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'Needed in addition to the ORK when the daemon has SIDEKEY_CLIENT_TOKEN_FILE.',
        },
      },
    },
  };
}

/** Loads the proto from the package's proto/ directory and builds the document. */
export function openApiDocument(): Record<string, unknown> {
  const root = new protobuf.Root();
  root.loadSync(join(protoRoot(), SIDEKEY_PROTO), { keepCase: true, alternateCommentMode: true });
  return buildOpenApi(root);
}
