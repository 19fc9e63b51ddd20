/**
 * Property tests over the real HTTP listener: any valid Unicode string
 * round-trips exactly; malformed requests of many shapes get a 4xx with a
 * documented code and store nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ERROR_CODES, httpStatusOf } from '../../src/errors/index.js';
import { mixedArray, wrongType } from '../fuzz/mutations.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { call, post } from '../support/http.js';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon({ SIDEKEY_LOG_LEVEL: 'warn' });
});
after(async () => {
  await d.destroy();
});

async function records(): Promise<number> {
  return (await d.daemon.store.keyStatus('demo')).reduce((n, r) => n + r.records, 0);
}

/** Well-formed strings: any code points (astral, controls, NUL), no lone surrogates. */
const unicode = fc.string({ unit: 'binary', maxLength: 64 });

describe('round trips', () => {
  it('tokenize → detokenize returns every value exactly', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(unicode, { minLength: 1, maxLength: 20 }), async (values) => {
        const t = await post(d.url, '/v1/tokenize', d.ork, { tenant: 'demo', field: 'f', values });
        assert.equal(t.status, 200, t.text);
        const r = await post(d.url, '/v1/detokenize', d.ork, { tenant: 'demo', tokens: t.body.tokens });
        assert.deepEqual(
          r.body.results.map((x: { value: string }) => x.value),
          values,
        );
      }),
      { numRuns: 60 },
    );
  });

  it('encrypt → decrypt returns every value exactly, with any context', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(unicode, { minLength: 1, maxLength: 10 }),
        unicode,
        async (plaintexts, context) => {
          const e = await post(d.url, '/v1/encrypt', d.ork, {
            tenant: 'demo',
            field: 'f',
            plaintexts,
            context,
          });
          assert.equal(e.status, 200, e.text);
          const r = await post(d.url, '/v1/decrypt', d.ork, {
            tenant: 'demo',
            field: 'f',
            ciphertexts: e.body.ciphertexts,
            context,
          });
          assert.deepEqual(
            r.body.results.map((x: { plaintext: string }) => x.plaintext),
            plaintexts,
          );
        },
      ),
      { numRuns: 40 },
    );
  });

  it('the edge cases: empty, emoji, NUL, controls, a leading U+FEFF, and 64 KiB', async () => {
    const values = [
      '',
      '\ufeff',
      '\ufeffstarts with a byte order mark',
      '😀👩🏽‍🚀',
      '\u0000',
      '\u0001\u001f\u007f\u0085\u2028',
      'a'.repeat(65_536),
      '💩'.repeat(16_384),
    ];
    const t = await post(d.url, '/v1/tokenize', d.ork, { tenant: 'demo', field: 'f', values });
    assert.equal(t.status, 200, t.text);
    const r = await post(d.url, '/v1/detokenize', d.ork, { tenant: 'demo', tokens: t.body.tokens });
    assert.deepEqual(
      r.body.results.map((x: { value: string }) => x.value),
      values,
    );
  });
});

describe('malformed requests', () => {
  const documented = new Map(ERROR_CODES.map((c) => [c, httpStatusOf(c)]));
  const json = fc.jsonValue({ maxDepth: 3 });
  const isString = (v: unknown) => typeof v === 'string';

  /** Each endpoint with its own fields (API.md): the list it takes and the rest of a valid body. */
  let valid: { tokens: string[]; ciphertexts: string[] };
  const endpoints = () =>
    [
      { path: '/v1/tokenize', list: 'values', good: unicode, rest: { tenant: 'demo', field: 'email' } },
      { path: '/v1/encrypt', list: 'plaintexts', good: unicode, rest: { tenant: 'demo', field: 'email' } },
      {
        path: '/v1/detokenize',
        list: 'tokens',
        good: fc.constantFrom(...valid.tokens),
        rest: { tenant: 'demo' },
      },
      {
        path: '/v1/decrypt',
        list: 'ciphertexts',
        good: fc.constantFrom(...valid.ciphertexts),
        rest: { tenant: 'demo', field: 'email' },
      },
      {
        path: '/v1/tokens/delete',
        list: 'tokens',
        good: fc.constantFrom(...valid.tokens),
        rest: { tenant: 'demo' },
      },
    ] as const;

  before(async () => {
    const t = await post(d.url, '/v1/tokenize', d.ork, {
      tenant: 'demo',
      field: 'email',
      values: ['a', 'b'],
    });
    const e = await post(d.url, '/v1/encrypt', d.ork, { tenant: 'demo', field: 'email', plaintexts: ['c'] });
    valid = { tokens: t.body.tokens, ciphertexts: e.body.ciphertexts };
  });

  it('a list mixing good items with other types anywhere is refused naming the first bad index, per endpoint', async () => {
    for (const e of endpoints()) {
      const before = await records();
      await fc.assert(
        fc.asyncProperty(mixedArray(e.good, wrongType(isString)), async (list) => {
          const r = await post(d.url, e.path, d.ork, { ...e.rest, [e.list]: list });
          const bad = list.findIndex((x) => typeof x !== 'string');
          assert.equal(r.status, 400, `${e.path} ${JSON.stringify(list)}: ${r.text}`);
          assert.equal(r.body.error.code, 'INVALID_ARGUMENT');
          assert.ok(r.body.error.message.includes(`${e.list}[${bad}]`), `${e.path}: ${r.body.error.message}`);
        }),
        { numRuns: 30 },
      );
      assert.equal(await records(), before, `${e.path} stored or deleted something`);
    }
  });

  it('bodies with one of the endpoint’s own fields broken get a 4xx with a documented code and store nothing', async () => {
    const before = await records();
    const badBody = (e: ReturnType<typeof endpoints>[number]) =>
      fc.oneof(
        json,
        fc
          .record({
            ...Object.fromEntries(
              Object.entries(e.rest).map(([k, v]) => [k, fc.oneof(fc.constant(v), json, fc.string())]),
            ),
            [e.list]: fc.oneof(
              // Anything but a list of strings (which could be a valid batch).
              json.filter((v) => !(Array.isArray(v) && v.every(isString))),
              mixedArray(e.good, wrongType(isString)),
              fc.constant([]),
              fc.constant(['ok', '\ud800']),
            ),
          })
          .map((b) => b as Record<string, unknown>),
      );
    for (const e of endpoints()) {
      await fc.assert(
        fc.asyncProperty(badBody(e), async (body) => {
          const r = await post(d.url, e.path, d.ork, body);
          assert.ok(
            r.status >= 400 && r.status < 500,
            `status ${r.status} for ${e.path} ${JSON.stringify(body)}`,
          );
          assert.equal(documented.get(r.body.error.code), r.status);
        }),
        { numRuns: 40 },
      );
    }
    assert.equal(await records(), before);
  });

  it('raw bytes that are not JSON get 400 and store nothing', async () => {
    const before = await records();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), async (bytes) => {
        const body = Buffer.from(bytes);
        let parsed = true;
        try {
          JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
        } catch {
          parsed = false;
        }
        fc.pre(!parsed);
        const r = await call(d.url, '/v1/tokenize', { body, headers: { 'x-sidekey-org-key': d.ork } });
        assert.equal(r.status, 400);
        assert.equal(r.body.error.code, 'INVALID_ARGUMENT');
      }),
      { numRuns: 100 },
    );
    assert.equal(await records(), before);
  });
});
