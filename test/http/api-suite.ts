/**
 * Every route and every error code of API.md over the real HTTP listener of
 * a real daemon, written once and run against each store adapter
 * (api-embedded.test.ts, api-postgres.test.ts): the setup provisions tenants
 * `demo` and `acme` and their ORKs, and starts the daemon.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { capturedLogs } from '../support/daemon.js';
import { call, post } from '../support/http.js';
import { checked } from '../support/openapi-contract.js';
import { type Secret, secretsIn } from '../support/secrets.js';

/**
 * Field policies every target sets on tenant `demo` before its daemon starts
 * (issue 11): a deterministic field and two fpe fields.
 */
export const DEMO_POLICIES: readonly string[][] = [
  ['--field', 'det_email', '--kind', 'deterministic'],
  ['--field', 'card', '--kind', 'fpe', '--alphabet', 'digits', '--keep-prefix', '6', '--keep-suffix', '4'],
  ['--field', 'account', '--kind', 'fpe', '--alphabet', 'alnum'],
];

/** A serving daemon with tenants `demo` (two ORKs, DEMO_POLICIES) and `acme` (one ORK). */
export interface ApiTarget {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The first ORK of tenant `demo`. */
  readonly ork: string;
  /** A second ORK of tenant `demo`. */
  readonly demoOrk2: string;
  /** The ORK of tenant `acme`. */
  readonly acmeOrk: string;
  /** Token records in the store, all tenants. */
  rowCount(): Promise<number>;
  /** The raw keys behind the three ORKs (TEK, ORK, FDK of `email`), for the log scan. */
  keys(): Promise<Secret[]>;
  /** Stops the daemon (its logs are in `capturedLogs`) and removes what setup made. */
  teardown(): Promise<void>;
}

export interface ApiSuiteOptions {
  readonly name: string;
  readonly setup: () => Promise<ApiTarget>;
}

export function runApiSuite({ name, setup }: ApiSuiteOptions): void {
  describe(`HTTP API (${name} store)`, () => {
    // Assigned by `before`, which every test runs after.
    let s: ApiTarget;
    let ready = false;
    const plaintextsUsed = new Set<string>();

    function remember<T extends string>(v: T): T {
      plaintextsUsed.add(v);
      return v;
    }

    async function tokenize(values: string[], ork = s.ork, field = 'email', tenant = 'demo') {
      for (const v of values) if (v.length >= 6) remember(v);
      return post(s.url, '/v1/tokenize', ork, { tenant, field, values });
    }

    before(async () => {
      s = await setup();
      ready = true;
    });

    after(async () => {
      if (!ready) return;
      const keys = await s.keys();
      await s.teardown();
      // Secrets stay secret: no value, ORK or unwrapped key used in this suite reached any
      // log line of any level, as text or hex/base64 of its bytes.
      const logs = capturedLogs.join('');
      assert.ok(logs.length > 0, 'logs were captured');
      const secrets: Secret[] = [
        ...keys,
        ...[s.ork, s.acmeOrk, s.demoOrk2].map((o) => ({
          name: 'an ORK string',
          bytes: Buffer.from(o),
          text: o,
        })),
        ...[...plaintextsUsed].map((v) => ({
          name: `value ${v.slice(0, 8)}…`,
          bytes: Buffer.from(v),
          text: v,
        })),
      ];
      assert.deepEqual(secretsIn(logs, secrets), [], 'secrets reached the logs');
      // Every exchange above was checked against the OpenAPI document (support/http.ts).
      assert.ok(checked.exchanges > 0, 'the OpenAPI checker ran');
    });

    describe('tokenize and detokenize', () => {
      it('round-trips values in order, including duplicates', async () => {
        const values = [remember('amelia@example.org'), remember('bob@example.com'), 'amelia@example.org'];
        const t = await tokenize(values);
        assert.equal(t.status, 200);
        assert.equal(t.body.tokens.length, 3);
        assert.notEqual(t.body.tokens[0], t.body.tokens[2], 'tokens are random, not derived from the value');
        const r = await post(s.url, '/v1/detokenize', s.ork, {
          tenant: 'demo',
          tokens: [...t.body.tokens].reverse(),
        });
        assert.equal(r.status, 200);
        assert.deepEqual(
          r.body.results.map((x: { value: string }) => x.value),
          [...values].reverse(),
        );
      });

      it('answers per item: unknown, foreign-tenant and other-ORK tokens are the same NOT_FOUND', async () => {
        const mine = (await tokenize([remember('carol@example.com')])).body.tokens[0];
        const otherOrk = (await tokenize([remember('dave@example.com')], s.demoOrk2)).body.tokens[0];
        const otherTenant = (await tokenize([remember('erin@acme.example')], s.acmeOrk, 'email', 'acme')).body
          .tokens[0];
        const r = await post(s.url, '/v1/detokenize', s.ork, {
          tenant: 'demo',
          tokens: [mine, otherOrk, otherTenant, 'tok_AAAAAAAAAAAAAAAAAAAAAA'],
          purpose: 'support ticket 42',
        });
        assert.equal(r.status, 200);
        assert.deepEqual(r.body.results[0], { value: 'carol@example.com' });
        const notFound = { error: { code: 'NOT_FOUND', message: 'token not found' } };
        assert.deepEqual(r.body.results.slice(1), [notFound, notFound, notFound]);
        // The other ORK of the same tenant reads its own token.
        const own = await post(s.url, '/v1/detokenize', s.demoOrk2, { tenant: 'demo', tokens: [otherOrk] });
        assert.deepEqual(own.body.results, [{ value: 'dave@example.com' }]);
      });

      it('refuses a whole tokenize call for one bad item, naming its index, and stores nothing', async () => {
        const before = await s.rowCount();
        const r = await tokenize(['ok-value-1', '\ud800broken', 'ok-value-2']);
        assert.equal(r.status, 400);
        assert.equal(r.body.error.code, 'INVALID_ARGUMENT');
        assert.match(r.body.error.message, /values\[1\]/);
        assert.equal(await s.rowCount(), before);
      });
    });

    describe('token kinds (field policies)', () => {
      it('deterministic: the same value gives the same token, stored once; another ORK lineage and field differ', async () => {
        const v = remember('kinds-ada@example.org');
        const before = await s.rowCount();
        const t = await tokenize([v, remember('kinds-bob@example.org'), v], s.ork, 'det_email');
        assert.equal(t.status, 200, JSON.stringify(t.body));
        assert.equal(t.body.tokens[0], t.body.tokens[2]);
        assert.match(t.body.tokens[0], /^tok_[A-Za-z0-9_-]{22}$/);
        const again = await tokenize([v], s.ork, 'det_email');
        assert.equal(again.body.tokens[0], t.body.tokens[0]);
        assert.equal(await s.rowCount(), before + 2, 'a repeated value stores no second record');
        const otherOrg = await tokenize([v], s.demoOrk2, 'det_email');
        assert.notEqual(otherOrg.body.tokens[0], t.body.tokens[0]);
        const r = await post(s.url, '/v1/detokenize', s.ork, { tenant: 'demo', tokens: [t.body.tokens[0]] });
        assert.deepEqual(r.body.results, [{ value: v }]);
      });

      it('fpe: the token keeps the shape; detokenize and delete take it with its field', async () => {
        const cards = [remember('4111-1111-1111-1111'), remember('4000 0566 5566 5556')];
        const t = await tokenize(cards, s.ork, 'card');
        assert.equal(t.status, 200, JSON.stringify(t.body));
        assert.match(t.body.tokens[0], /^4111-11\d\d-\d{4}-1111$/);
        assert.match(t.body.tokens[1], /^4000 05\d\d \d{4} 5556$/);
        const acct = await tokenize([remember('AC-7f3K9q')], s.ork, 'account');
        assert.match(acct.body.tokens[0], /^[0-9A-Za-z]{2}-[0-9A-Za-z]{6}$/);
        const r = await post(s.url, '/v1/detokenize', s.ork, {
          tenant: 'demo',
          field: 'card',
          tokens: [...t.body.tokens, '4111-1100-0000-1111'],
        });
        assert.equal(r.status, 200);
        assert.deepEqual(r.body.results, [
          { value: cards[0] },
          { value: cards[1] },
          { error: { code: 'NOT_FOUND', message: 'token not found' } },
        ]);
        // Without the field an fpe token is not a token (v1 rule: the whole call fails).
        const bare = await post(s.url, '/v1/detokenize', s.ork, {
          tenant: 'demo',
          tokens: [t.body.tokens[0]],
        });
        assert.equal(bare.status, 400);
        assert.equal(bare.body.error.code, 'INVALID_ARGUMENT');
        // The wrong field does not find it; another ORK does not either.
        const wrong = await post(s.url, '/v1/detokenize', s.ork, {
          tenant: 'demo',
          field: 'account',
          tokens: [t.body.tokens[0]],
        });
        assert.equal(wrong.body.results[0].error.code, 'NOT_FOUND');
        const other = await post(s.url, '/v1/detokenize', s.demoOrk2, {
          tenant: 'demo',
          field: 'card',
          tokens: [t.body.tokens[0]],
        });
        assert.equal(other.body.results[0].error.code, 'NOT_FOUND');
        const del = await post(s.url, '/v1/tokens/delete', s.ork, {
          tenant: 'demo',
          field: 'card',
          tokens: [t.body.tokens[0]],
        });
        assert.deepEqual(del.body, { deleted: 1 });
        const gone = await post(s.url, '/v1/detokenize', s.ork, {
          tenant: 'demo',
          field: 'card',
          tokens: [t.body.tokens[0]],
        });
        assert.equal(gone.body.results[0].error.code, 'NOT_FOUND');
      });

      it('fpe: a value too short for the domain rule or without an alphabet character fails the call, naming its index, and stores nothing', async () => {
        const before = await s.rowCount();
        for (const [values, index, message] of [
          [['4111-1111-1111-1111', '4111-1111-1111'], 1, /values\[1\] has too few characters to encrypt/],
          [['----'], 0, /values\[0\] has no character of the field's fpe alphabet/],
        ] as const) {
          const r = await tokenize([...values], s.ork, 'card');
          assert.equal(r.status, 400);
          assert.equal(r.body.error.code, 'INVALID_ARGUMENT');
          assert.match(r.body.error.message, message);
          assert.ok(!JSON.stringify(r.body).includes(values[index]!), 'the value is not in the error');
        }
        assert.equal(await s.rowCount(), before);
      });

      it('a field given to detokenize or delete must be a field name', async () => {
        for (const path of ['/v1/detokenize', '/v1/tokens/delete']) {
          const r = await post(s.url, path, s.ork, { tenant: 'demo', field: 'bad field!', tokens: ['x'] });
          assert.equal(r.status, 400);
          assert.match(r.body.error.message, /field must be a string matching/);
          const typed = await post(s.url, path, s.ork, { tenant: 'demo', field: 7, tokens: ['x'] });
          assert.equal(typed.status, 400);
        }
      });
    });

    describe('encrypt and decrypt', () => {
      it('round-trips with the same context and fails per item with another', async () => {
        const e = await post(s.url, '/v1/encrypt', s.ork, {
          tenant: 'demo',
          field: 'ssn',
          plaintexts: [remember('078-05-1120'), ''],
          context: 'user:17',
        });
        assert.equal(e.status, 200);
        assert.equal(e.body.ciphertexts.length, 2);
        const ok = await post(s.url, '/v1/decrypt', s.ork, {
          tenant: 'demo',
          field: 'ssn',
          ciphertexts: e.body.ciphertexts,
          context: 'user:17',
        });
        assert.deepEqual(ok.body.results, [{ plaintext: '078-05-1120' }, { plaintext: '' }]);
        const wrongContext = await post(s.url, '/v1/decrypt', s.ork, {
          tenant: 'demo',
          field: 'ssn',
          ciphertexts: e.body.ciphertexts,
          context: 'user:18',
        });
        assert.equal(wrongContext.status, 200);
        for (const item of wrongContext.body.results) assert.equal(item.error.code, 'INVALID_ARGUMENT');
        const wrongField = await post(s.url, '/v1/decrypt', s.ork, {
          tenant: 'demo',
          field: 'email',
          ciphertexts: e.body.ciphertexts,
          context: 'user:17',
        });
        for (const item of wrongField.body.results) assert.ok(item.error, 'another field does not decrypt');
        const otherOrk = await post(s.url, '/v1/decrypt', s.demoOrk2, {
          tenant: 'demo',
          field: 'ssn',
          ciphertexts: e.body.ciphertexts,
          context: 'user:17',
        });
        for (const item of otherOrk.body.results) assert.ok(item.error, 'another ORK does not decrypt');
      });

      it('treats an absent context like an empty one and stores nothing', async () => {
        const before = await s.rowCount();
        const e = await post(s.url, '/v1/encrypt', s.ork, {
          tenant: 'demo',
          field: 'note',
          plaintexts: ['x'],
        });
        const r = await post(s.url, '/v1/decrypt', s.ork, {
          tenant: 'demo',
          field: 'note',
          ciphertexts: e.body.ciphertexts,
          context: '',
        });
        assert.deepEqual(r.body.results, [{ plaintext: 'x' }]);
        assert.equal(await s.rowCount(), before);
      });

      it('refuses a malformed ciphertext for the whole call', async () => {
        const r = await post(s.url, '/v1/decrypt', s.ork, {
          tenant: 'demo',
          field: 'ssn',
          ciphertexts: ['ct_!!'],
        });
        assert.equal(r.status, 400);
        assert.equal(r.body.error.code, 'INVALID_ARGUMENT');
      });
    });

    describe('delete', () => {
      it('deletes only the caller’s tokens; deleted tokens are NOT_FOUND', async () => {
        const mine = (await tokenize([remember('frank@example.com'), remember('grace@example.com')])).body
          .tokens;
        const notMine = (await tokenize([remember('heidi@example.com')], s.demoOrk2)).body.tokens;
        const r = await post(s.url, '/v1/tokens/delete', s.ork, {
          tenant: 'demo',
          tokens: [...mine, ...notMine],
        });
        assert.equal(r.status, 200);
        assert.deepEqual(r.body, { deleted: 2 });
        const gone = await post(s.url, '/v1/detokenize', s.ork, { tenant: 'demo', tokens: mine });
        for (const item of gone.body.results) assert.equal(item.error.code, 'NOT_FOUND');
        const kept = await post(s.url, '/v1/detokenize', s.demoOrk2, { tenant: 'demo', tokens: notMine });
        assert.deepEqual(kept.body.results, [{ value: 'heidi@example.com' }]);
      });
    });

    describe('credentials', () => {
      const body = { tenant: 'demo', field: 'email', values: ['v'] };

      it('UNAUTHENTICATED without an ORK, with a malformed one and with a tampered one', async () => {
        const missing = await post(s.url, '/v1/tokenize', undefined, body);
        assert.equal(missing.status, 401);
        assert.equal(missing.body.error.code, 'UNAUTHENTICATED');
        const malformed = await post(s.url, '/v1/tokenize', 'not-an-ork', body);
        assert.equal(malformed.status, 401);
        // Flip one character inside the wrapped key part of the string.
        const i = s.ork.length - 10;
        const flipped = s.ork.slice(0, i) + (s.ork[i] === 'A' ? 'B' : 'A') + s.ork.slice(i + 1);
        const tampered = await post(s.url, '/v1/tokenize', flipped, body);
        assert.equal(tampered.status, 401);
        assert.equal(tampered.body.error.code, 'UNAUTHENTICATED');
        for (const r of [missing, malformed, tampered]) assert.ok(!r.text.includes(s.ork.slice(8, 40)));
      });

      it('PERMISSION_DENIED for an ORK of another tenant', async () => {
        const r = await post(s.url, '/v1/tokenize', s.acmeOrk, body);
        assert.equal(r.status, 403);
        assert.equal(r.body.error.code, 'PERMISSION_DENIED');
      });

      it('PERMISSION_DENIED for a non-loopback Host, an Origin header and cross-site fetches', async () => {
        for (const headers of <Record<string, string>[]>[
          { host: 'evil.example' },
          { host: 'localhost.evil.example:80' },
          { host: '10.0.0.1' },
          { origin: 'https://evil.example' },
          { origin: 'null' },
          { 'sec-fetch-site': 'cross-site' },
        ]) {
          const r = await post(s.url, '/v1/tokenize', s.ork, body, headers);
          assert.equal(r.status, 403, JSON.stringify(headers));
          assert.equal(r.body.error.code, 'PERMISSION_DENIED');
          assert.equal(r.headers['access-control-allow-origin'], undefined);
        }
        for (const host of ['127.0.0.1', 'localhost', `localhost:${s.port}`, '[::1]', '[::1]:7600']) {
          const r = await post(s.url, '/v1/tokenize', s.ork, body, { host });
          assert.equal(r.status, 200, host);
        }
      });
    });

    describe('request validation', () => {
      const cases: [string, unknown, string, number][] = [
        ['array body', [], 'INVALID_ARGUMENT', 400],
        ['null body', null, 'INVALID_ARGUMENT', 400],
        ['missing tenant', { field: 'email', values: ['a'] }, 'INVALID_ARGUMENT', 400],
        ['bad tenant', { tenant: 'Demo!', field: 'email', values: ['a'] }, 'INVALID_ARGUMENT', 400],
        ['bad field', { tenant: 'demo', field: '-x', values: ['a'] }, 'INVALID_ARGUMENT', 400],
        ['values not an array', { tenant: 'demo', field: 'email', values: 'a' }, 'INVALID_ARGUMENT', 400],
        ['value not a string', { tenant: 'demo', field: 'email', values: [1] }, 'INVALID_ARGUMENT', 400],
        ['empty batch', { tenant: 'demo', field: 'email', values: [] }, 'INVALID_ARGUMENT', 400],
        [
          'batch too large',
          { tenant: 'demo', field: 'email', values: new Array(1001).fill('a') },
          'INVALID_ARGUMENT',
          400,
        ],
        [
          'value too large',
          { tenant: 'demo', field: 'email', values: ['x'.repeat(65_537)] },
          'PAYLOAD_TOO_LARGE',
          413,
        ],
      ];
      for (const [name, body, code, status] of cases) {
        it(`tokenize: ${name} → ${code}, nothing stored`, async () => {
          const before = await s.rowCount();
          const r = await post(s.url, '/v1/tokenize', s.ork, body);
          assert.equal(r.status, status);
          assert.equal(r.body.error.code, code);
          assert.equal(typeof r.body.error.requestId, 'string');
          assert.equal(await s.rowCount(), before);
        });
      }

      it('accepts a value of exactly the limit (64 KiB of UTF-8)', async () => {
        const r = await tokenize(['é'.repeat(32 * 1024)]);
        assert.equal(r.status, 200);
      });

      it('malformed JSON and invalid UTF-8 → INVALID_ARGUMENT', async () => {
        const bad = await call(s.url, '/v1/tokenize', {
          body: '{"tenant":',
          headers: { 'x-sidekey-org-key': s.ork },
        });
        assert.equal(bad.status, 400);
        assert.equal(bad.body.error.code, 'INVALID_ARGUMENT');
        const bytes = Buffer.concat([
          Buffer.from('{"tenant":"demo","field":"f","values":["'),
          Buffer.from([0xff, 0xfe]),
          Buffer.from('"]}'),
        ]);
        const notUtf8 = await call(s.url, '/v1/tokenize', {
          body: bytes,
          headers: { 'x-sidekey-org-key': s.ork },
        });
        assert.equal(notUtf8.status, 400);
      });

      it('lone surrogate escapes → INVALID_ARGUMENT', async () => {
        const r = await call(s.url, '/v1/tokenize', {
          body: '{"tenant":"demo","field":"email","values":["\\udc00"]}',
          headers: { 'x-sidekey-org-key': s.ork },
        });
        assert.equal(r.status, 400);
        assert.match(r.body.error.message, /values\[0\]/);
      });

      it('not JSON → UNSUPPORTED_MEDIA_TYPE', async () => {
        const r = await call(s.url, '/v1/tokenize', {
          body: 'tenant=demo',
          headers: { 'content-type': 'text/plain', 'x-sidekey-org-key': s.ork },
        });
        assert.equal(r.status, 415);
        assert.equal(r.body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
      });

      it('body over the limit → PAYLOAD_TOO_LARGE', async () => {
        const big = JSON.stringify({
          tenant: 'demo',
          field: 'email',
          values: new Array(200).fill('y'.repeat(50_000)),
        });
        const r = await call(s.url, '/v1/tokenize', { body: big, headers: { 'x-sidekey-org-key': s.ork } });
        assert.equal(r.status, 413);
        assert.equal(r.body.error.code, 'PAYLOAD_TOO_LARGE');
      });

      it('malformed tokens in detokenize and delete → INVALID_ARGUMENT naming the index', async () => {
        for (const path of ['/v1/detokenize', '/v1/tokens/delete']) {
          const r = await post(s.url, path, s.ork, {
            tenant: 'demo',
            tokens: ['tok_AAAAAAAAAAAAAAAAAAAAAA', 'nope'],
          });
          assert.equal(r.status, 400);
          assert.match(r.body.error.message, /tokens\[1\]/);
        }
      });

      it('unknown route → NOT_FOUND', async () => {
        const r = await post(s.url, '/v1/nope', s.ork, {});
        assert.equal(r.status, 404);
        assert.equal(r.body.error.code, 'NOT_FOUND');
        const get = await call(s.url, '/v1/tokenize');
        assert.equal(get.status, 404);
      });
    });

    describe('request ids and health', () => {
      it('echoes a given request id and generates one otherwise', async () => {
        const given = await post(s.url, '/v1/tokenize', undefined, {}, { 'x-request-id': 'req-123' });
        assert.equal(given.headers['x-request-id'], 'req-123');
        assert.equal(given.body.error.requestId, 'req-123');
        const generated = await call(s.url, '/healthz');
        assert.match(String(generated.headers['x-request-id']), /^[0-9a-f-]{36}$/);
        const invalid = await call(s.url, '/healthz', { headers: { 'x-request-id': 'bad id with spaces' } });
        assert.match(String(invalid.headers['x-request-id']), /^[0-9a-f-]{36}$/);
      });

      it('/healthz, /readyz and /metrics', async () => {
        assert.deepEqual((await call(s.url, '/healthz')).body, { status: 'ok' });
        assert.deepEqual((await call(s.url, '/readyz')).body, { status: 'ready' });
        const m = await call(s.url, '/metrics');
        assert.equal(m.status, 200);
        assert.match(m.text, /sidekey_requests_total\{operation="tokenize",outcome="ok"\} \d+/);
        assert.match(m.text, /sidekey_kms_calls_total|sidekey_key_cache_lookups_total/);
      });
    });
  });
}
