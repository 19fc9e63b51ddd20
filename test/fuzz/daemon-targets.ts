/**
 * Fuzz targets against a real daemon (the real composition root, embedded
 * store, local KEK, the HTTP listener and the gRPC socket): every HTTP route,
 * every gRPC method (typed messages and raw wire bytes), and envelopes read
 * back from the store.
 *
 * Properties, for every input: no crash (the daemon still answers), no 5xx
 * (gRPC: no INTERNAL or UNKNOWN), every error a documented code with its
 * status, nothing stored when a call is refused, and no value, ORK or key
 * (raw TEK/ORK/FDK bytes in any encoding) in any error — nor, checked after
 * all runs, in any log line of any level.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { IngestKey } from '../../clients/browser/sidekey-seal.js';
import { newToken, systemRandom } from '../../src/crypto/index.js';
import { ERROR_CODES, GrpcStatus, grpcStatusOf, httpStatusOf } from '../../src/errors/index.js';
import type { SidekeyClient } from '../../src/transport/grpc/generated/sidekey/v1/Sidekey.js';
import { type AnyMethod, callGrpc, callRaw, metadataOf, rawClient, sidekeyClient } from '../grpc/support.js';
import { capturedLogs, startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { call, post } from '../support/http.js';
import { sealWith } from '../support/seal.js';
import { keyMaterial, type Secret, secretsIn } from '../support/secrets.js';
import {
  type BodyContext,
  ENDPOINTS,
  type Endpoint,
  envelopes,
  orkStrings,
  requestBody,
  SECRET_MARK,
} from './generators.js';
import { mutateBytes, mutateString } from './mutations.js';
import { asyncProperty, type FuzzTarget } from './target.js';

const TENANT = 'demo';
const FIELD = 'email';
const PATH: Record<Endpoint, string> = {
  tokenize: '/v1/tokenize',
  detokenize: '/v1/detokenize',
  encrypt: '/v1/encrypt',
  decrypt: '/v1/decrypt',
  delete: '/v1/tokens/delete',
  forget: '/v1/subjects/forget',
  ingestKeys: '/v1/ingest/keys',
  tokenizeSealed: '/v1/tokenize',
  encryptSealed: '/v1/encrypt',
};
const METHOD: Record<Endpoint, AnyMethod> = {
  tokenize: 'Tokenize',
  detokenize: 'Detokenize',
  encrypt: 'Encrypt',
  decrypt: 'Decrypt',
  delete: 'DeleteTokens',
  forget: 'ForgetSubjects',
  ingestKeys: 'GetIngestKeys',
  tokenizeSealed: 'Tokenize',
  encryptSealed: 'Encrypt',
};
/** The target's name: its route, and what kind of body when two targets share one. */
const label = (endpoint: Endpoint) => (endpoint.endsWith('Sealed') ? ' (sealed items)' : '');

interface Harness {
  readonly d: TestDaemon;
  readonly grpc: SidekeyClient;
  readonly context: BodyContext;
  readonly secrets: Secret[];
  readonly logMark: number;
  /** The valid envelope of one stored record (for the store target). */
  readonly stored: { token: string; envelope: Buffer; orkId: string; tekVersion: number; value: string };
}

let harness: Promise<Harness> | undefined;

/** One daemon for every daemon target of the process, started on first use. */
export function daemonHarness(): Promise<Harness> {
  harness ??= (async () => {
    const logMark = capturedLogs.length;
    const d = await startTestDaemon();
    const grpc = sidekeyClient(d.daemon.grpcSocket);
    const value = `${SECRET_MARK}stored`;
    const t = await post(d.url, '/v1/tokenize', d.ork, {
      tenant: TENANT,
      field: FIELD,
      values: [value, `${SECRET_MARK}2`],
    });
    const e = await post(d.url, '/v1/encrypt', d.ork, {
      tenant: TENANT,
      field: FIELD,
      plaintexts: [`${SECRET_MARK}ct`],
    });
    assert.equal(t.status, 200, t.text);
    assert.equal(e.status, 200, e.text);
    // Sealed strings of marked values, one per suite (issue 14), and a subject's record (issue 13).
    const ingest = await post(d.url, '/v1/ingest/keys', d.ork, { tenant: TENANT });
    assert.equal(ingest.status, 200, ingest.text);
    const sealed: string[] = [];
    for (const key of ingest.body.keys as IngestKey[])
      sealed.push(...(await sealWith(key, TENANT, FIELD, [`${SECRET_MARK}sealed`, `${SECRET_MARK}s2`])));
    const s = await post(d.url, '/v1/tokenize', d.ork, {
      tenant: TENANT,
      field: FIELD,
      values: [`${SECRET_MARK}subject`],
      subject: 'user-42',
    });
    assert.equal(s.status, 200, s.text);
    const [row] = await d.daemon.store.getTokens([t.body.tokens[0]]);
    assert.ok(row !== undefined);
    const keys = await keyMaterial(d.dataDir, d.daemon.store, d.ork, FIELD);
    return {
      d,
      grpc,
      logMark,
      context: {
        tenant: TENANT,
        field: FIELD,
        tokens: [...t.body.tokens, ...s.body.tokens],
        ciphertexts: e.body.ciphertexts,
        sealed,
      },
      secrets: keys.secrets,
      stored: {
        token: row.token,
        envelope: row.envelope,
        orkId: row.orkId,
        tekVersion: row.tekVersion,
        value,
      },
    };
  })();
  return harness;
}

export async function stopDaemonHarness(): Promise<void> {
  if (harness === undefined) return;
  const h = await harness;
  harness = undefined;
  h.grpc.close();
  await h.d.destroy();
}

async function records(h: Harness): Promise<number> {
  return (await h.d.daemon.store.keyStatus(TENANT)).reduce((n, r) => n + r.records, 0);
}

/** No marked value and no key material (any encoding) in `text`. */
function assertNoSecret(h: Harness, text: string, where: string): void {
  assert.ok(!text.includes(SECRET_MARK), `a value in ${where}: ${text.slice(0, 300)}`);
  assert.deepEqual(secretsIn(text, h.secrets), [], `key material in ${where}`);
}

/** What an HTTP client can put in a header value at all (Node's client refuses the rest). */
const headerValue = (v: string) => /^[\t\x20-\x7e\x80-\xff]*$/.test(v);

const documented = new Map(ERROR_CODES.map((c) => [c, httpStatusOf(c)]));

/** Every check of one HTTP answer; `refused` when the call was not a success. */
function checkHttp(h: Harness, r: { status: number; text: string; body: unknown }, what: string): boolean {
  assert.ok(r.status < 500, `${what}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  if (r.status === 200) {
    // Per-item errors of an answer: documented codes, no secret in their messages.
    // (/metrics answers text: no body to look into.)
    const results =
      (r.body as { results?: { error?: { code: string; message: string } }[] } | undefined)?.results ?? [];
    for (const item of results) {
      if (item.error === undefined) continue;
      assert.ok(documented.has(item.error.code as never), `undocumented item code ${item.error.code}`);
      assertNoSecret(h, item.error.message, `${what}: an item error`);
    }
    return false;
  }
  const error = (r.body as { error?: { code?: string } } | undefined)?.error;
  assert.ok(error !== undefined, `${what}: HTTP ${r.status} without an error body: ${r.text.slice(0, 200)}`);
  assert.equal(
    documented.get(error.code as never),
    r.status,
    `${what}: ${error.code} is not HTTP ${r.status}`,
  );
  assertNoSecret(h, r.text, `${what}: the error`);
  return true;
}

function afterAllLogs(h: Harness): void {
  const logs = capturedLogs.slice(h.logMark).join('');
  assert.ok(logs.length > 0, 'logs were captured');
  assert.ok(!logs.includes(SECRET_MARK), 'a value in a log line');
  assert.deepEqual(secretsIn(logs, h.secrets), [], 'key material in a log line');
}

function httpEndpoint(endpoint: Endpoint): FuzzTarget {
  return {
    name: `HTTP ${PATH[endpoint]}${label(endpoint)}`,
    budget: 60,
    async prepare() {
      const h = await daemonHarness();
      const ork = fc.oneof(
        { weight: 8, arbitrary: fc.constant(h.d.ork) },
        { weight: 1, arbitrary: orkStrings(h.d.ork).filter(headerValue) },
      );
      return {
        property: asyncProperty(
          fc.tuple(requestBody(endpoint, h.context), ork),
          async ([body, orkString]) => {
            const before = await records(h);
            const r = await post(h.d.url, PATH[endpoint], orkString, body);
            const refused = checkHttp(h, r, `${PATH[endpoint]} ${JSON.stringify(body).slice(0, 200)}`);
            if (refused) assert.equal(await records(h), before, 'a refused call changed the stored records');
          },
        ),
        afterAll: () => afterAllLogs(h),
      };
    },
  };
}

const NEAR_PATHS = [
  ...Object.values(PATH),
  '/healthz',
  '/readyz',
  '/metrics',
  '/',
  '/v1/',
  '/v1/tokenize/',
  '/v1//tokenize',
  '/V1/tokenize',
  '/v1/tokenize?values=x',
  '/v1/tokenize%00',
  '/v1/../v1/tokenize',
  '/v1/tokens/delete/..',
  '/v2/tokenize',
  `/${'a'.repeat(2000)}`,
];

/** Every route, any method, near-valid paths and the headers the loopback guard reads. */
const httpRoutes: FuzzTarget = {
  name: 'HTTP routes, methods and headers',
  budget: 150,
  async prepare() {
    const h = await daemonHarness();
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
      path: fc
        .oneof(fc.constantFrom(...NEAR_PATHS), fc.constantFrom(...NEAR_PATHS).chain(mutateString))
        .filter((p) => p.startsWith('/') && /^[\x21-\x7e]*$/.test(p)),
      host: fc.option(
        fc.constantFrom(
          'localhost',
          '127.0.0.1',
          '[::1]',
          'localhost.',
          'evil.example',
          '127.0.0.1.nip.io',
          '0.0.0.0',
          '127.0.0.2:1',
        ),
      ),
      origin: fc.option(fc.constantFrom('null', 'https://evil.example', 'http://127.0.0.1')),
      fetchSite: fc.option(fc.constantFrom('cross-site', 'same-origin', 'none')),
      contentType: fc.option(
        fc.constantFrom(
          'application/json',
          'application/json; charset=utf-8',
          'text/plain',
          'application/jsonx',
          'multipart/form-data',
        ),
      ),
      ork: fc.option(orkStrings(h.d.ork).filter(headerValue)),
      body: fc.option(
        fc.oneof(
          requestBody('tokenize', h.context).map((b) => JSON.stringify(b)),
          fc.string({ maxLength: 40 }),
        ),
      ),
    });
    return {
      property: asyncProperty(request, async (q) => {
        const before = await records(h);
        const headers: Record<string, string> = {};
        if (q.host !== null) headers.host = q.host;
        if (q.origin !== null) headers.origin = q.origin;
        if (q.fetchSite !== null) headers['sec-fetch-site'] = q.fetchSite;
        if (q.contentType !== null) headers['content-type'] = q.contentType;
        if (q.ork !== null) headers['x-sidekey-org-key'] = q.ork;
        const hasBody = q.body !== null && q.method !== 'GET' && q.method !== 'HEAD';
        // Node's client frames DELETE/OPTIONS bodies only with an explicit length.
        if (hasBody) headers['content-length'] = String(Buffer.byteLength(q.body as string));
        const r = await call(h.d.url, q.path, {
          method: q.method,
          headers,
          ...(hasBody && { body: q.body as string }),
        });
        // Metric labels never carry a value or a key (the metrics text after all these calls).
        if (q.path === '/metrics' && r.status === 200) assertNoSecret(h, r.text, 'the metrics');
        if (q.method === 'HEAD') {
          assert.ok(r.status < 500, `HEAD ${q.path}: ${r.status}`);
        } else {
          const refused = checkHttp(h, r, `${q.method} ${q.path}`);
          if (refused) assert.equal(await records(h), before);
        }
        const badHost = q.host !== null && !/^(localhost|127\.0\.0\.1|\[::1\])$/.test(q.host);
        if (badHost || q.origin !== null || q.fetchSite === 'cross-site') {
          assert.equal(r.status, 403, `${JSON.stringify(q)} passed the loopback guard`);
        }
      }),
      afterAll: () => afterAllLogs(h),
    };
  },
};

const NEVER_GRPC = new Set<number>([GrpcStatus.INTERNAL, 2 /* UNKNOWN */]);
const documentedGrpc = new Set<number>(ERROR_CODES.map((c) => grpcStatusOf(c)));

/** Only the proto's types (strings, arrays of strings): what a typed client can send. */
function protoTyped(body: unknown, endpoint: Endpoint): Record<string, unknown> {
  const o =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : {};
  const out: Record<string, unknown> = {};
  const arrays = {
    tokenize: 'values',
    detokenize: 'tokens',
    encrypt: 'plaintexts',
    decrypt: 'ciphertexts',
    delete: 'tokens',
    forget: 'subjects',
    ingestKeys: undefined,
    tokenizeSealed: 'sealedValues',
    encryptSealed: 'sealedPlaintexts',
  };
  for (const [k, v] of Object.entries(o)) {
    if (k === arrays[endpoint] && Array.isArray(v)) out[k] = v.filter((x) => typeof x === 'string');
    else if (['tenant', 'field', 'purpose', 'context', 'subject'].includes(k) && typeof v === 'string')
      out[k] = v;
  }
  return out;
}

function checkGrpc(h: Harness, r: Awaited<ReturnType<typeof callGrpc>>, what: string): boolean {
  if (r.ok) {
    for (const item of (r.response.results ?? []) as { error?: { code: string; message: string } }[]) {
      if (item.error) assertNoSecret(h, item.error.message, `${what}: an item error`);
    }
    return false;
  }
  assert.ok(!NEVER_GRPC.has(r.code), `${what}: status ${r.code} ${r.details}`);
  assert.ok(documentedGrpc.has(r.code), `${what}: undocumented status ${r.code} ${r.details}`);
  assertNoSecret(h, r.details, `${what}: the status details`);
  return true;
}

function grpcMethod(endpoint: Endpoint): FuzzTarget {
  return {
    name: `gRPC ${METHOD[endpoint]}${label(endpoint)}`,
    budget: 50,
    async prepare() {
      const h = await daemonHarness();
      const ork = fc.oneof(
        { weight: 8, arbitrary: fc.constant(h.d.ork) },
        { weight: 1, arbitrary: orkStrings(h.d.ork) },
      );
      return {
        property: asyncProperty(
          fc.tuple(requestBody(endpoint, h.context), ork),
          async ([body, orkString]) => {
            const before = await records(h);
            const message = protoTyped(body, endpoint);
            // Metadata values must be printable ASCII (grpc-js refuses others client-side).
            const creds = /^[\x20-\x7e]*$/.test(orkString) ? { ork: orkString } : {};
            const r = await callGrpc(h.grpc, METHOD[endpoint], message, creds);
            const refused = checkGrpc(h, r, `${METHOD[endpoint]} ${JSON.stringify(message).slice(0, 200)}`);
            if (refused) assert.equal(await records(h), before, 'a refused call changed the stored records');
          },
        ),
        afterAll: () => afterAllLogs(h),
      };
    },
  };
}

/** Raw request bytes: valid messages serialized by the contract, then mutated byte by byte. */
const grpcWire: FuzzTarget = {
  name: 'gRPC wire bytes (every method)',
  budget: 150,
  async prepare() {
    const h = await daemonHarness();
    // biome-ignore lint/suspicious/noExplicitAny: the generated client class carries its service definition
    const service = (h.grpc.constructor as any).service as Record<
      AnyMethod,
      { requestSerialize(o: object): Buffer }
    >;
    const raw = rawClient(h.d.daemon.grpcSocket, [...new Set(Object.values(METHOD))]);
    const valid = (endpoint: Endpoint) =>
      service[METHOD[endpoint]].requestSerialize(
        protoTyped(
          {
            tenant: TENANT,
            field: FIELD,
            // Unmarked: a mutated tag can turn a value into the field or the purpose,
            // which the audit records by design (the typed targets check values).
            values: ['wire-a', 'wire-bc'],
            plaintexts: ['wire-p'],
            tokens: h.context.tokens,
            ciphertexts: h.context.ciphertexts,
            subjects: ['user-43'],
            sealedValues: h.context.sealed,
            sealedPlaintexts: h.context.sealed,
            purpose: 'p',
            context: 'c',
          },
          endpoint,
        ),
      );
    const input = fc
      .constantFrom(...ENDPOINTS)
      .chain((e) =>
        fc.tuple(fc.constant(e), fc.oneof(mutateBytes(valid(e)), mutateBytes(valid(e)).chain(mutateBytes))),
      );
    return {
      property: asyncProperty(input, async ([endpoint, bytes]) => {
        const before = await records(h);
        const r = await callRaw(raw, METHOD[endpoint], bytes, metadataOf({ ork: h.d.ork }));
        if (r.ok) return;
        assert.ok(
          !NEVER_GRPC.has(r.code),
          `${METHOD[endpoint]} ${bytes.toString('hex')}: ${r.code} ${r.details}`,
        );
        assertNoSecret(h, r.details, 'the status details');
        assert.equal(await records(h), before);
      }),
      afterAll: () => afterAllLogs(h),
      teardown: async () => raw.close(),
    };
  },
};

/** A stored record whose envelope was altered (a database administrator, a bad disk): read back by both transports. */
const storedEnvelopes: FuzzTarget = {
  name: 'envelopes read from the store (detokenize)',
  budget: 50,
  async prepare() {
    const h = await daemonHarness();
    const s = h.stored;
    return {
      property: asyncProperty(envelopes(s.envelope), async (envelope) => {
        const token = newToken(systemRandom);
        await h.d.daemon.store.write({
          tokens: [
            { token, tenant: TENANT, field: FIELD, orkId: s.orkId, tekVersion: s.tekVersion, envelope },
          ],
          audit: [],
        });
        const httpAnswer = await post(h.d.url, '/v1/detokenize', h.d.ork, {
          tenant: TENANT,
          tokens: [token],
        });
        checkHttp(h, httpAnswer, 'detokenize of an altered envelope');
        assert.equal(httpAnswer.status, 200);
        const grpcAnswer = await callGrpc(
          h.grpc,
          'Detokenize',
          { tenant: TENANT, tokens: [token] },
          { ork: h.d.ork },
        );
        checkGrpc(h, grpcAnswer, 'Detokenize of an altered envelope');
        assert.ok(grpcAnswer.ok);
        // The envelope is bound to its token: under another token even the original never opens.
        const item = httpAnswer.body.results[0];
        assert.equal(item.value, undefined, 'an envelope opened under another token');
        assert.equal(
          item.error.code,
          'INTERNAL',
          'an altered record is reported as failing its integrity check',
        );
      }),
      afterAll: () => afterAllLogs(h),
    };
  },
};

export const DAEMON_TARGETS: readonly FuzzTarget[] = [
  ...ENDPOINTS.map(httpEndpoint),
  httpRoutes,
  ...ENDPOINTS.map(grpcMethod),
  grpcWire,
  storedEnvelopes,
];
