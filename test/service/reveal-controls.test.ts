/**
 * Reveal controls in the service (issue 12) with a clock the test controls:
 * the real TokenService, Keyring and PolicyBook over a real embedded store
 * and the local KEK; only time is the test's. Expiry at its boundary (no
 * sleeping), the TTL rules, bad input that stores nothing, a deterministic
 * value tokenized again after its token expired, masked reveals by field
 * policy, ORK scopes and what the audit event says.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '../../src/audit/index.js';
import { generateKey, PooledRandom } from '../../src/crypto/index.js';
import { SidekeyError } from '../../src/errors/index.js';
import { Keyring, SubjectKeys } from '../../src/keyring/index.js';
import { kekRing, LocalKek } from '../../src/kms/index.js';
import { MAX_TTL_SECONDS, PolicyBook } from '../../src/policy/index.js';
import { type CallContext, TokenService } from '../../src/service/index.js';
import { openEmbeddedStore, type Store } from '../../src/store/index.js';
import { createTenant, issueOrk } from '../../src/tenants/index.js';
import { freshDataDir } from '../support/daemon.js';

const TENANT = 'reveal';
const random = new PooledRandom();
const keks = kekRing(new LocalKek(generateKey(), random));
let store: Store;
let clock = Date.now();
const events: AuditEvent[] = [];

function service(): { svc: TokenService; keyring: Keyring } {
  const keyring = new Keyring({ store, keks, options: { tekTtlMs: 60_000, orkTtlMs: 60_000, maxKeys: 100 } });
  const svc = new TokenService({
    keyring,
    subjects: new SubjectKeys({ store, keks, random, options: { ttlMs: 60_000, maxKeys: 100 } }),
    policies: new PolicyBook(store, { ttlMs: 60_000, max: 100 }),
    store,
    writer: { writeTokens: (tokens) => store.write({ tokens, audit: [] }) },
    subjectWriter: {
      writeSubjectTokens: async (tenant, keyId, rows) =>
        (await store.writeSubjectTokens(rows)).some((k) => k.tenant === tenant && k.keyId === keyId),
    },
    auditor: {
      record: async (e) => {
        events.push(e);
      },
      recordInBackground: (e) => events.push(e),
    },
    random,
    limits: { maxBatch: 100, maxValueBytes: 65_536 },
    tenants: [],
    durableReveal: true,
    recordCache: { max: 100, ttlMs: 60_000 },
    now: () => clock,
  });
  return { svc, keyring };
}

const ctx = (orkString: string): CallContext => ({ orkString, requestId: 'test', caller: 'http' });
let ork: string;
let a: ReturnType<typeof service>;

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof SidekeyError, String(e));
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    return true;
  });
}

async function policy(
  field: string,
  p: { kind?: 'random' | 'deterministic'; mask?: string; ttl?: number | null },
) {
  await store.putPolicy({
    tenant: TENANT,
    field,
    kind: p.kind ?? 'random',
    alphabet: null,
    keepPrefix: 0,
    keepSuffix: 0,
    mask: (p.mask ?? 'redact') as 'redact',
    ttlSeconds: p.ttl ?? null,
  });
}

const rowsOf = async () => (await store.keyStatus(TENANT)).reduce((n, r) => n + r.records, 0);

before(async () => {
  store = await openEmbeddedStore(await freshDataDir());
  await store.migrate();
  await createTenant({ store, keks, random }, TENANT);
  ork = (await issueOrk({ store, keks, random }, TENANT, 'full')).orkString;
  await policy('card', { mask: 'last4', ttl: 3600 });
  await policy('email', { mask: 'email', kind: 'deterministic' });
  a = service();
});
after(async () => {
  await store?.close();
});

describe('expiry with a controlled clock', () => {
  it('readable until the last millisecond; NOT_FOUND at expiresAt, from the record cache and from the store', async () => {
    clock = Date.now();
    const { tokens } = await a.svc.tokenize(
      { tenant: TENANT, field: 'note', values: ['v1'], ttlSeconds: 60 },
      ctx(ork),
    );
    const [row] = await store.getTokens(tokens);
    assert.equal(row?.expiresAt?.getTime(), clock + 60_000);
    const start = clock;
    clock = start + 59_999;
    assert.deepEqual((await a.svc.detokenize({ tenant: TENANT, tokens }, ctx(ork))).results, [
      { value: 'v1' },
    ]);
    clock = start + 60_000; // the record is in the cache now
    const gone = { error: { code: 'NOT_FOUND', message: 'token not found' } };
    assert.deepEqual((await a.svc.detokenize({ tenant: TENANT, tokens }, ctx(ork))).results, [gone]);
    const fresh = service(); // no cached record: read from the store
    assert.deepEqual((await fresh.svc.detokenize({ tenant: TENANT, tokens }, ctx(ork))).results, [gone]);
    clock = start; // and a clock before it reads it again: the record was not touched
    assert.deepEqual((await fresh.svc.detokenize({ tenant: TENANT, tokens }, ctx(ork))).results, [
      { value: 'v1' },
    ]);
  });

  it('the request TTL wins when shorter than the policy TTL; the policy TTL otherwise; none without either', async () => {
    clock = Date.now();
    const ttlOf = async (field: string, ttlSeconds?: number) => {
      const { tokens } = await a.svc.tokenize(
        { tenant: TENANT, field, values: ['4111-1111-1111-1111'], ...(ttlSeconds && { ttlSeconds }) },
        ctx(ork),
      );
      const at = (await store.getTokens(tokens))[0]?.expiresAt;
      return at === null || at === undefined ? null : (at.getTime() - clock) / 1000;
    };
    assert.equal(await ttlOf('card'), 3600);
    assert.equal(await ttlOf('card', 60), 60);
    assert.equal(await ttlOf('card', 7200), 3600);
    assert.equal(await ttlOf('note'), null);
    assert.equal(await ttlOf('note', MAX_TTL_SECONDS), MAX_TTL_SECONDS);
    const tokenize = events.filter((e) => e.operation === 'tokenize').at(-2);
    assert.equal(tokenize?.detail?.ttlSeconds, undefined, 'no TTL: nothing in the audit event');
    assert.equal(events.filter((e) => e.operation === 'tokenize').at(-3)?.detail?.ttlSeconds, 3600);
  });

  it('ttlSeconds negative, non-integer, above ten years or not a number: INVALID_ARGUMENT, nothing stored (0 is absent, as in proto3)', async () => {
    const before = await rowsOf();
    for (const ttlSeconds of [-1, 1.5, MAX_TTL_SECONDS + 1, '60', true, [60], Number.NaN]) {
      await rejectsWith(
        a.svc.tokenize({ tenant: TENANT, field: 'note', values: ['secret-ttl'], ttlSeconds }, ctx(ork)),
        'INVALID_ARGUMENT',
        /^ttlSeconds must be a whole number of seconds from 1 to 315360000/,
      );
    }
    assert.equal(await rowsOf(), before);
  });

  it('a deterministic value tokenized again after its token expired gets a readable token (the same one)', async () => {
    // Made two hours ago with a one-minute TTL: expired for the store's clock too.
    clock = Date.now() - 2 * 3600_000;
    const first = await a.svc.tokenize(
      { tenant: TENANT, field: 'email', values: ['ada@example.com'], ttlSeconds: 60 },
      ctx(ork),
    );
    clock = Date.now();
    const read = (tokens: string[]) => a.svc.detokenize({ tenant: TENANT, tokens }, ctx(ork));
    assert.equal(
      ((await read(first.tokens)).results[0] as { error: { code: string } }).error.code,
      'NOT_FOUND',
    );
    const again = await a.svc.tokenize(
      { tenant: TENANT, field: 'email', values: ['ada@example.com'] },
      ctx(ork),
    );
    assert.deepEqual(again.tokens, first.tokens, 'deterministic: the same token');
    assert.deepEqual((await read(again.tokens)).results, [{ value: 'ada@example.com' }]);
    const [row] = await store.getTokens(again.tokens);
    assert.equal(row?.expiresAt, null, 'the new record has the new (no) TTL');
    // A repeated tokenize of a live record keeps it (and its expiry).
    await a.svc.tokenize(
      { tenant: TENANT, field: 'email', values: ['ada@example.com'], ttlSeconds: 5 },
      ctx(ork),
    );
    assert.equal((await store.getTokens(again.tokens))[0]?.expiresAt, null);
  });
});

describe('masked reveal', () => {
  it('mask: true masks every value by its field policy (redact without one); the audit event says masked', async () => {
    clock = Date.now();
    const t = async (field: string, values: string[]) =>
      (await a.svc.tokenize({ tenant: TENANT, field, values }, ctx(ork))).tokens;
    const tokens = [
      ...(await t('card', ['4111-1111-1111-1111'])),
      ...(await t('email', ['bob@example.com'])),
      ...(await t('note', ['free text'])),
    ];
    const r = await a.svc.detokenize({ tenant: TENANT, tokens, mask: true }, ctx(ork));
    assert.deepEqual(r.results, [
      { value: '****-****-****-1111', masked: true },
      { value: 'b***@example.com', masked: true },
      { value: '***', masked: true },
    ]);
    assert.deepEqual(events.at(-1)?.detail, { masked: true });
    const plain = await a.svc.detokenize({ tenant: TENANT, tokens, mask: false }, ctx(ork));
    assert.deepEqual(
      plain.results.map((x) => ('value' in x ? x.value : x)),
      ['4111-1111-1111-1111', 'bob@example.com', 'free text'],
    );
    assert.equal(events.at(-1)?.detail, undefined);
  });

  it('decrypt with mask: the policy of the request field', async () => {
    const { ciphertexts } = await a.svc.encrypt(
      { tenant: TENANT, field: 'card', plaintexts: ['5500 0000 0000 0004'] },
      ctx(ork),
    );
    const r = await a.svc.decrypt({ tenant: TENANT, field: 'card', ciphertexts, mask: true }, ctx(ork));
    assert.deepEqual(r.results, [{ plaintext: '**** **** **** 0004', masked: true }]);
  });

  it('mask of a wrong type: INVALID_ARGUMENT', async () => {
    for (const mask of ['yes', 1, 0, {}, []]) {
      await rejectsWith(
        a.svc.detokenize({ tenant: TENANT, tokens: ['tok_AAAAAAAAAAAAAAAAAAAAAA'], mask }, ctx(ork)),
        'INVALID_ARGUMENT',
        /^mask must be true or false$/,
      );
    }
  });
});

describe('ORK scopes in the service', () => {
  it('an operation outside the scope is PERMISSION_DENIED for the whole call, audited with the ORK id and why', async () => {
    const ingest = await issueOrk({ store, keks, random }, TENANT, 'ingest', {
      allow: ['tokenize'],
      reveal: 'none',
    });
    const { tokens } = await a.svc.tokenize(
      { tenant: TENANT, field: 'note', values: ['n'] },
      ctx(ingest.orkString),
    );
    await rejectsWith(
      a.svc.detokenize({ tenant: TENANT, tokens }, ctx(ingest.orkString)),
      'PERMISSION_DENIED',
      /does not allow detokenize/,
    );
    const e = events.at(-1);
    assert.equal(e?.operation, 'detokenize');
    assert.equal(e?.outcome, 'PERMISSION_DENIED');
    assert.equal(e?.orkId, ingest.orkId);
    assert.deepEqual(e?.detail, { denied: 'allow' });
  });

  it('--reveal masked masks without asking (detokenize and decrypt); a scope change applies once the cached identity is dropped', async () => {
    const support = await issueOrk({ store, keks, random }, TENANT, 'support', {
      allow: ['tokenize', 'detokenize', 'encrypt', 'decrypt'],
      reveal: 'masked',
    });
    const c = ctx(support.orkString);
    const { tokens } = await a.svc.tokenize(
      { tenant: TENANT, field: 'card', values: ['4111111111111111'] },
      c,
    );
    for (const mask of [undefined, false, true]) {
      const r = await a.svc.detokenize({ tenant: TENANT, tokens, ...(mask !== undefined && { mask }) }, c);
      assert.deepEqual(r.results, [{ value: '************1111', masked: true }]);
    }
    const { ciphertexts } = await a.svc.encrypt(
      { tenant: TENANT, field: 'card', plaintexts: ['4111111111111111'] },
      c,
    );
    assert.deepEqual((await a.svc.decrypt({ tenant: TENANT, field: 'card', ciphertexts }, c)).results, [
      { plaintext: '************1111', masked: true },
    ]);
    await rejectsWith(a.svc.deleteTokens({ tenant: TENANT, tokens }, c), 'PERMISSION_DENIED');

    assert.ok(await store.setOrkScope(TENANT, support.orkId, { allow: ['detokenize'], reveal: 'none' }));
    a.keyring.invalidateOrk(TENANT, support.orkId); // what the `ork-changed` event does on a sidecar
    await rejectsWith(a.svc.detokenize({ tenant: TENANT, tokens }, c), 'PERMISSION_DENIED', /--reveal none/);
    assert.deepEqual(events.at(-1)?.detail, { denied: 'reveal' });
    await rejectsWith(
      a.svc.tokenize({ tenant: TENANT, field: 'card', values: ['1'] }, c),
      'PERMISSION_DENIED',
      /does not allow tokenize/,
    );
  });
});
