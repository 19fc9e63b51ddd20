/**
 * Every HTTP exchange of the tests, checked against the OpenAPI document the
 * daemon serves (src/transport/http/openapi.ts) with a standard JSON Schema
 * validator (Ajv, draft 2020-12, the dialect of OpenAPI 3.1):
 * - the response: its status is documented for the operation and its body
 *   matches that status's schema (an unknown route must answer the 404 error
 *   envelope);
 * - the request: when its body does not match the document, the server must
 *   have refused it (a 4xx): the document never rejects what the server takes.
 * Requests the tests send on purpose malformed are fine: they are refused.
 */
import assert from 'node:assert/strict';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { openApiDocument } from '../../src/transport/http/openapi.js';

const DOC_ID = 'sidekey-openapi.json';
type Operation = {
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, unknown> }>;
};
const doc = openApiDocument() as { paths: Record<string, Record<string, Operation>> };
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema(doc, DOC_ID);

const compiled = new Map<string, ValidateFunction>();
const pointerToken = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1');
function validatorAt(pointer: string[]): ValidateFunction {
  const ref = `${DOC_ID}#/${pointer.map(pointerToken).join('/')}`;
  let v = compiled.get(ref);
  if (v === undefined) {
    v = ajv.compile({ $ref: ref });
    compiled.set(ref, v);
  }
  return v;
}

export interface Exchange {
  readonly method: string;
  /** The path, query string included. */
  readonly path: string;
  readonly requestContentType: string | undefined;
  readonly requestBody: string | Buffer | undefined;
  readonly status: number;
  readonly responseContentType: string | undefined;
  readonly responseText: string;
}

const mediaType = (contentType: string | undefined) => contentType?.split(';')[0]?.trim().toLowerCase();

function parsed(text: string | Buffer | undefined): { ok: true; value: unknown } | { ok: false } {
  if (text === undefined) return { ok: false };
  try {
    const s = typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: true }).decode(text);
    return { ok: true, value: JSON.parse(s) };
  } catch {
    return { ok: false };
  }
}

const describeErrors = (v: ValidateFunction) => ajv.errorsText(v.errors, { separator: '; ' });

/** Throws an AssertionError when the exchange breaks the document. */
export function checkExchange(x: Exchange): void {
  checked.exchanges++;
  // The server resolves dot segments (RFC 3986 §5.2.4) before routing, as
  // WHATWG URL does: `/v1/../v1/tokenize` is the tokenize route.
  const path = new URL(`http://127.0.0.1${x.path}`).pathname;
  const method = x.method.toLowerCase();
  // HEAD is answered by the GET route (without a body).
  const operation = doc.paths[path]?.[method] ?? (method === 'head' ? doc.paths[path]?.get : undefined);
  const where = `${x.method} ${path} -> ${x.status}`;
  if (operation === undefined) {
    // The loopback guards (Host, Origin, Sec-Fetch-Site: 403; client token:
    // 401) run before routing, so they refuse an unknown route first.
    assert.ok(
      [404, 403, 401].includes(x.status),
      `${where}: a route the document does not have must answer 404 (or a guard's 401/403)`,
    );
    if (method === 'head') return; // a HEAD answer has no body
    const envelope = validatorAt(['components', 'schemas', 'ErrorResponse']);
    const body = parsed(x.responseText);
    assert.ok(body.ok && envelope(body.value), `${where}: the ${x.status} is not the error envelope`);
    return;
  }

  const response = operation.responses[String(x.status)];
  assert.ok(response !== undefined, `${where}: status ${x.status} is not documented for this operation`);
  if (method === 'head') return; // the GET's status, no body to check
  const type = mediaType(x.responseContentType);
  if (response.content !== undefined) {
    assert.ok(type !== undefined && type in response.content, `${where}: undocumented content type ${type}`);
    if (type === 'application/json') {
      const body = parsed(x.responseText);
      assert.ok(body.ok, `${where}: the response is not JSON`);
      const v = validatorAt([
        'paths',
        path,
        method,
        'responses',
        String(x.status),
        'content',
        type,
        'schema',
      ]);
      assert.ok(v(body.value), `${where}: the response does not match the document: ${describeErrors(v)}`);
    }
  }

  if (operation.requestBody !== undefined && x.status < 400) {
    const requestType = mediaType(x.requestContentType);
    assert.equal(requestType, 'application/json', `${where}: accepted a body that is not JSON`);
    const body = parsed(x.requestBody);
    assert.ok(body.ok, `${where}: accepted a body the document calls malformed`);
    const v = validatorAt(['paths', path, method, 'requestBody', 'content', 'application/json', 'schema']);
    assert.ok(v(body.value), `${where}: accepted a request the document refuses: ${describeErrors(v)}`);
  }
}

/** Counts of what was checked, for a test to prove the checker ran. */
export const checked = { exchanges: 0 };
