/**
 * The store contract: one suite, run by every Store adapter (embedded PGlite
 * and postgres over mutual TLS). Each test works on its own fresh tenant,
 * ORK ids, tokens and audit chain, so the suite never wipes the database and
 * can share one with other tests.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import type { AuditRow, Store, TokenRow } from '../../src/store/port.js';
import { ingestKeysContract } from './store-ingest-contract.js';

export interface StoreContractSubject {
  readonly store: Store;
  close(): Promise<void>;
}

export interface StoreContractOptions {
  /** The adapter under test: also the kind the store must report. */
  readonly name: Store['kind'];
  /** A store on a database whose schema may or may not be migrated yet. */
  readonly make: () => Promise<StoreContractSubject>;
}

export const freshTenant = () => `t-${randomBytes(8).toString('hex')}`;
export const freshOrkId = () => randomBytes(16).toString('hex');
export const freshToken = () => `tok_${randomBytes(16).toString('base64url')}`;
export const freshChainId = () => `chain-${randomBytes(8).toString('hex')}`;

export function tokenRow(tenant: string, orkId: string, over: Partial<TokenRow> = {}): TokenRow {
  return {
    token: freshToken(),
    tenant,
    field: 'email',
    orkId,
    tekVersion: 1,
    envelope: randomBytes(48),
    ...over,
  };
}

export function auditRows(chainId: string, fromSeq: number, count: number): AuditRow[] {
  return Array.from({ length: count }, (_, i) => ({
    chainId,
    seq: fromSeq + i,
    prevHash: randomBytes(32),
    hash: randomBytes(32),
    event: JSON.stringify({ op: 'tokenize', n: fromSeq + i }),
  }));
}

const byToken = (a: TokenRow, b: TokenRow) => a.token.localeCompare(b.token);
const plainToken = (r: TokenRow) => ({
  ...r,
  envelope: Buffer.from(r.envelope),
  expiresAt: r.expiresAt ?? null,
  subjectKeyId: r.subjectKeyId ?? null,
});

export function runStoreContract(opts: StoreContractOptions): void {
  describe(`store contract: ${opts.name}`, () => {
    let subject: StoreContractSubject;
    let store: Store;

    before(async () => {
      subject = await opts.make();
      store = subject.store;
      await store.migrate();
    });
    after(async () => {
      await subject?.close();
    });

    const newTenant = async () => {
      const tenant = freshTenant();
      assert.equal(await store.createTenant(tenant, { kekRef: 'local:1', wrapped: randomBytes(60) }), true);
      return tenant;
    };
    const newChain = async () => {
      const chainId = freshChainId();
      await store.insertAuditChain({
        chainId,
        kekRef: 'local:1',
        wrappedKey: randomBytes(60),
        host: 'test-host',
      });
      return chainId;
    };

    it('migrate is idempotent and ping accepts the current schema', async () => {
      assert.deepEqual(await store.migrate(), []);
      assert.deepEqual(await store.migrate(), []);
      await store.ping();
      assert.ok(SCHEMA_VERSION >= 1);
    });

    it('createTenant stores the first key as primary version 1; a duplicate returns false', async () => {
      const tenant = freshTenant();
      const wrapped = randomBytes(60);
      assert.equal(await store.createTenant(tenant, { kekRef: 'local:1', wrapped }), true);
      assert.equal(await store.createTenant(tenant, { kekRef: 'local:2', wrapped: randomBytes(60) }), false);
      const keys = await store.getTenantKeys(tenant);
      assert.equal(keys.length, 1);
      const [k] = keys;
      assert.equal(k?.tenant, tenant);
      assert.equal(k?.version, 1);
      assert.equal(k?.state, 'primary');
      assert.equal(k?.kekRef, 'local:1');
      assert.deepEqual(k?.wrapped, wrapped);
      assert.ok(k?.createdAt instanceof Date);
      const listed = (await store.listTenants()).find((t) => t.tenant === tenant);
      assert.deepEqual(
        { state: listed?.state, primaryVersion: listed?.primaryVersion },
        { state: 'active', primaryVersion: 1 },
      );
      assert.ok(listed?.createdAt instanceof Date);
    });

    it('getTenantKeys of an unknown tenant is empty', async () => {
      assert.deepEqual(await store.getTenantKeys(freshTenant()), []);
    });

    it('bytea survives every byte value', async () => {
      const tenant = freshTenant();
      const wrapped = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      await store.createTenant(tenant, { kekRef: 'local:1', wrapped });
      assert.deepEqual((await store.getTenantKeys(tenant))[0]?.wrapped, wrapped);
    });

    it('ORK records: insert, get, list, revoke once', async () => {
      const tenant = await newTenant();
      const a = freshOrkId();
      const b = freshOrkId();
      await store.insertOrk({ tenant, orkId: a, label: 'payments', fingerprint: 'fp-a' });
      await store.insertOrk({ tenant, orkId: b, label: '', fingerprint: 'fp-b' });
      await assert.rejects(store.insertOrk({ tenant, orkId: a, label: 'again', fingerprint: 'fp-a' }));

      const got = await store.getOrk(tenant, a);
      assert.equal(got?.tenant, tenant);
      assert.equal(got?.orkId, a);
      assert.equal(got?.label, 'payments');
      assert.equal(got?.fingerprint, 'fp-a');
      assert.equal(got?.state, 'active');
      assert.equal(got?.revokedAt, null);
      assert.ok(got?.createdAt instanceof Date);
      assert.equal(await store.getOrk(tenant, freshOrkId()), undefined);
      assert.equal(await store.getOrk(freshTenant(), a), undefined);

      const listed = await store.listOrks(tenant);
      assert.deepEqual(listed.map((o) => o.orkId).sort(), [a, b].sort());
      assert.deepEqual(await store.listOrks(freshTenant()), []);

      assert.equal(await store.revokeOrk(tenant, a), true);
      assert.equal(await store.revokeOrk(tenant, a), false);
      assert.equal(await store.revokeOrk(tenant, freshOrkId()), false);
      const revoked = await store.getOrk(tenant, a);
      assert.equal(revoked?.state, 'revoked');
      assert.ok(revoked?.revokedAt instanceof Date);
      assert.equal((await store.getOrk(tenant, b))?.state, 'active');
    });

    it('an ORK needs an existing tenant', async () => {
      await assert.rejects(
        store.insertOrk({ tenant: freshTenant(), orkId: freshOrkId(), label: '', fingerprint: 'x' }),
      );
    });

    it('write stores tokens and audit events together; the same batch again changes nothing', async () => {
      const tenant = await newTenant();
      const ork = freshOrkId();
      const chainId = await newChain();
      const tokens = Array.from({ length: 25 }, () => tokenRow(tenant, ork));
      const audit = auditRows(chainId, 1, 3);
      await store.write({ tokens, audit });
      await store.write({ tokens, audit }); // an idempotent retry

      const got = await store.getTokens(tokens.map((t) => t.token));
      assert.deepEqual(got.map(plainToken).sort(byToken), tokens.map(plainToken).sort(byToken));
      const events = await store.readAuditEvents(chainId, 0, 100);
      assert.deepEqual(
        events.map((e) => ({ ...e, prevHash: Buffer.from(e.prevHash), hash: Buffer.from(e.hash) })),
        audit,
      );
      const [status] = await store.keyStatus(tenant);
      assert.equal(status?.records, 25);
    });

    it('write is atomic: a batch with one bad row stores nothing', async () => {
      const tenant = await newTenant();
      const ork = freshOrkId();
      const tokens = [tokenRow(tenant, ork), tokenRow(tenant, ork)];
      // The audit event names a chain that does not exist: the foreign key fails.
      await assert.rejects(store.write({ tokens, audit: auditRows(freshChainId(), 1, 1) }));
      assert.deepEqual(await store.getTokens(tokens.map((t) => t.token)), []);
    });

    it('write accepts an empty batch and a large one', async () => {
      await store.write({ tokens: [], audit: [] });
      const tenant = await newTenant();
      const ork = freshOrkId();
      const tokens = Array.from({ length: 3000 }, () => tokenRow(tenant, ork, { envelope: randomBytes(80) }));
      await store.write({ tokens, audit: [] });
      assert.equal((await store.getTokens(tokens.map((t) => t.token))).length, 3000);
    });

    it('write of an existing token keeps the first record', async () => {
      const tenant = await newTenant();
      const ork = freshOrkId();
      const first = tokenRow(tenant, ork);
      await store.write({ tokens: [first], audit: [] });
      await store.write({ tokens: [{ ...first, envelope: randomBytes(48), field: 'other' }], audit: [] });
      const [got] = await store.getTokens([first.token]);
      assert.deepEqual(got && plainToken(got), plainToken(first));
    });

    it('expiry: expires_at is written and read back; purge deletes only expired rows, in batches', async () => {
      const tenant = await newTenant();
      const other = await newTenant();
      const ork = freshOrkId();
      const now = Date.now();
      const past = new Date(now - 60_000);
      const future = new Date(now + 3600_000);
      const expired = Array.from({ length: 5 }, () => tokenRow(tenant, ork, { expiresAt: past }));
      const live = [tokenRow(tenant, ork, { expiresAt: future }), tokenRow(tenant, ork)];
      const elsewhere = tokenRow(other, ork, { expiresAt: past });
      await store.write({ tokens: [...expired, ...live, elsewhere], audit: [] });
      const [one] = await store.getTokens([expired[0]!.token]);
      assert.equal(one?.expiresAt?.getTime(), past.getTime());
      assert.equal((await store.getTokens([live[1]!.token]))[0]?.expiresAt, null);

      const cut = new Date(now);
      assert.equal(await store.countExpiredTokens(tenant, cut), 5);
      assert.equal(await store.purgeExpiredTokens(tenant, cut, 2), 2);
      assert.equal(await store.purgeExpiredTokens(tenant, cut, 10), 3);
      assert.equal(await store.purgeExpiredTokens(tenant, cut, 10), 0);
      assert.equal((await store.getTokens(live.map((t) => t.token))).length, 2);
      assert.equal(
        (await store.countExpiredTokens(undefined, cut)) >= 1,
        true,
        'the other tenant is untouched',
      );
      assert.equal((await store.getTokens([elsewhere.token])).length, 1);
      assert.equal((await store.purgeExpiredTokens(undefined, cut, 1000)) >= 1, true);
      assert.equal((await store.getTokens([elsewhere.token])).length, 0);
    });

    it('write replaces an expired deterministic or fpe record of the same key, and keeps a live one', async () => {
      const tenant = await newTenant();
      const ork = freshOrkId();
      const gone = tokenRow(tenant, ork, { kind: 'deterministic', expiresAt: new Date(Date.now() - 1000) });
      const alive = tokenRow(tenant, ork, { kind: 'fpe', expiresAt: new Date(Date.now() + 3600_000) });
      const randomGone = tokenRow(tenant, ork, { expiresAt: new Date(Date.now() - 1000) });
      await store.write({ tokens: [gone, alive, randomGone], audit: [] });
      const again = [gone, alive, randomGone].map((r) => ({
        ...r,
        envelope: randomBytes(48),
        expiresAt: null,
      }));
      await store.write({ tokens: again, audit: [] });
      const got = new Map((await store.getTokens(again.map((r) => r.token))).map((r) => [r.token, r]));
      assert.deepEqual(Buffer.from(got.get(gone.token)!.envelope), again[0]!.envelope, 'replaced');
      assert.equal(got.get(gone.token)?.expiresAt, null);
      assert.deepEqual(Buffer.from(got.get(alive.token)!.envelope), alive.envelope, 'kept');
      // A random token is never minted twice: its rows are not looked at.
      assert.deepEqual(Buffer.from(got.get(randomGone.token)!.envelope), randomGone.envelope);
    });

    it('ORK scopes: every operation and full by default; set on insert; changed only for an active ORK', async () => {
      const tenant = await newTenant();
      const a = freshOrkId();
      const b = freshOrkId();
      await store.insertOrk({ tenant, orkId: a, label: '', fingerprint: 'fp' });
      await store.insertOrk({
        tenant,
        orkId: b,
        label: '',
        fingerprint: 'fp',
        allow: ['tokenize'],
        reveal: 'none',
      });
      const all = ['tokenize', 'detokenize', 'encrypt', 'decrypt', 'delete', 'forget'];
      assert.deepEqual(
        [(await store.getOrk(tenant, a))?.allow, (await store.getOrk(tenant, a))?.reveal],
        [all, 'full'],
      );
      assert.deepEqual(
        [(await store.getOrk(tenant, b))?.allow, (await store.getOrk(tenant, b))?.reveal],
        [['tokenize'], 'none'],
      );
      assert.equal(
        await store.setOrkScope(tenant, a, { allow: ['detokenize', 'decrypt'], reveal: 'masked' }),
        true,
      );
      const changed = await store.getOrk(tenant, a);
      assert.deepEqual([changed?.allow, changed?.reveal], [['detokenize', 'decrypt'], 'masked']);
      assert.equal(await store.setOrkScope(tenant, freshOrkId(), { allow: [], reveal: 'none' }), false);
      await store.revokeOrk(tenant, b);
      assert.equal(await store.setOrkScope(tenant, b, { allow: all, reveal: 'full' }), false);
      // The schema refuses what no release knows.
      await assert.rejects(store.setOrkScope(tenant, a, { allow: ['everything'], reveal: 'full' }));
      await assert.rejects(store.setOrkScope(tenant, a, { allow: all, reveal: 'some' }));
    });

    it('getTokens returns the known tokens of a batch and skips unknown ones', async () => {
      const tenant = await newTenant();
      const ork = freshOrkId();
      const tokens = [tokenRow(tenant, ork, { tekVersion: 1 }), tokenRow(tenant, ork, { field: 'ssn' })];
      await store.write({ tokens, audit: [] });
      const got = await store.getTokens([freshToken(), tokens[1]!.token, freshToken(), tokens[0]!.token]);
      assert.deepEqual(got.map(plainToken).sort(byToken), tokens.map(plainToken).sort(byToken));
      assert.deepEqual(await store.getTokens([]), []);
      assert.deepEqual(await store.getTokens([freshToken()]), []);
    });

    it('deleteTokens deletes only the tokens of the given tenant and ORK', async () => {
      const tenant = await newTenant();
      const other = await newTenant();
      const ork1 = freshOrkId();
      const ork2 = freshOrkId();
      const mine = [tokenRow(tenant, ork1), tokenRow(tenant, ork1)];
      const otherOrk = tokenRow(tenant, ork2);
      const otherTenant = tokenRow(other, ork1);
      const all = [...mine, otherOrk, otherTenant];
      await store.write({ tokens: all, audit: [] });
      const tokens = all.map((t) => t.token);

      assert.equal(await store.deleteTokens(other, ork2, tokens), 0);
      assert.equal(await store.deleteTokens(tenant, ork1, [...tokens, freshToken()]), 2);
      assert.equal(await store.deleteTokens(tenant, ork1, tokens), 0);
      assert.equal(await store.deleteTokens(tenant, ork1, []), 0);
      const left = (await store.getTokens(tokens)).map((t) => t.token).sort();
      assert.deepEqual(left, [otherOrk.token, otherTenant.token].sort());
    });

    it('audit chains are listed and their events paged in sequence order', async () => {
      const chainId = freshChainId();
      const wrappedKey = randomBytes(60);
      await store.insertAuditChain({ chainId, kekRef: 'local:1', wrappedKey, host: 'pod-a' });
      // Idempotent (a retry after an unknown commit outcome), and never overwrites.
      await store.insertAuditChain({ chainId, kekRef: 'local:1', wrappedKey, host: 'pod-b' });
      const chain = (await store.listAuditChains()).find((c) => c.chainId === chainId);
      assert.equal(chain?.kekRef, 'local:1');
      assert.equal(chain?.host, 'pod-a');
      assert.deepEqual(chain && Buffer.from(chain.wrappedKey), wrappedKey);
      assert.ok(chain?.startedAt instanceof Date);

      // Written out of order across two batches.
      const events = auditRows(chainId, 1, 5);
      await store.write({ tokens: [], audit: [events[3]!, events[4]!] });
      await store.write({ tokens: [], audit: [events[0]!, events[1]!, events[2]!] });
      const seqs = async (afterSeq: number, limit: number) =>
        (await store.readAuditEvents(chainId, afterSeq, limit)).map((e) => e.seq);
      assert.deepEqual(await seqs(0, 2), [1, 2]);
      assert.deepEqual(await seqs(2, 2), [3, 4]);
      assert.deepEqual(await seqs(4, 10), [5]);
      assert.deepEqual(await seqs(5, 10), []);
      assert.deepEqual(await store.readAuditEvents(freshChainId(), 0, 10), []);
      const [first] = await store.readAuditEvents(chainId, 0, 1);
      assert.equal(first?.event, events[0]?.event);
      assert.deepEqual(first && Buffer.from(first.hash), events[0]?.hash);
      assert.deepEqual(first && Buffer.from(first.prevHash), events[0]?.prevHash);
    });

    it('keyStatus counts records per tenant key version', async () => {
      const tenant = await newTenant();
      const ork = freshOrkId();
      await store.write({
        tokens: [tokenRow(tenant, ork), tokenRow(tenant, ork), tokenRow(tenant, ork, { tekVersion: 2 })],
        audit: [],
      });
      const status = await store.keyStatus(tenant);
      assert.equal(status.length, 1); // only version 1 exists as a key
      assert.equal(status[0]?.tenant, tenant);
      assert.equal(status[0]?.version, 1);
      assert.equal(status[0]?.state, 'primary');
      assert.equal(status[0]?.kekRef, 'local:1');
      assert.equal(status[0]?.records, 2);
      assert.ok(status[0]?.createdAt instanceof Date);
      const everything = await store.keyStatus();
      assert.ok(everything.some((s) => s.tenant === tenant && s.records === 2));
      assert.deepEqual(await store.keyStatus(freshTenant()), []);
    });

    it('KEK rotation: lists keys not under a KEK after a cursor, re-wraps only unchanged rows', async () => {
      const tenant = await newTenant();
      const target = `aws:alias/${freshTenant()}`;
      const [row] = await store.getTenantKeys(tenant);
      assert.ok(row?.wrapped);
      const listed = await store.listTenantKeysNotUnder(target, { tenant, version: 0 }, 1000);
      assert.ok(listed.some((k) => k.tenant === tenant && k.version === 1));
      assert.ok(
        (await store.listTenantKeysNotUnder(target, { tenant, version: 1 }, 1000)).every(
          (k) => k.tenant > tenant,
        ),
        'the cursor is exclusive',
      );
      const from = { kekRef: row.kekRef, wrapped: row.wrapped };
      const to = { kekRef: target, wrapped: randomBytes(64) };
      // A stale read (other bytes) changes nothing.
      assert.equal(await store.rewrapTenantKey(tenant, 1, { ...from, wrapped: randomBytes(60) }, to), false);
      assert.equal(await store.rewrapTenantKey(tenant, 1, from, to), true);
      const [after] = await store.getTenantKeys(tenant);
      assert.equal(after?.kekRef, target);
      assert.deepEqual(after?.wrapped && Buffer.from(after.wrapped), to.wrapped);
      assert.equal(after?.state, 'primary');
      assert.equal(await store.rewrapTenantKey(tenant, 1, from, to), false, 'not twice');
      assert.ok(
        !(await store.listTenantKeysNotUnder(target, undefined, 100_000)).some((k) => k.tenant === tenant),
      );

      const chainId = await newChain();
      const chain = (await store.listAuditChains()).find((c) => c.chainId === chainId);
      assert.ok(chain);
      const chainFrom = { kekRef: chain.kekRef, wrapped: chain.wrappedKey };
      assert.equal(await store.rewrapAuditChain(chainId, chainFrom, to), true);
      assert.equal(await store.rewrapAuditChain(chainId, chainFrom, to), false);
      const moved = (await store.listAuditChains()).find((c) => c.chainId === chainId);
      assert.equal(moved?.kekRef, target);
    });

    it('data subjects: concurrent first uses end with one key; a subject’s records carry its key id', async () => {
      const tenant = await newTenant();
      const [a, b] = await Promise.all(
        [freshOrkId(), freshOrkId()].map((keyId) =>
          store.ensureSubjectKey(tenant, 'user-1', keyId, { kekRef: 'local:1', wrapped: randomBytes(61) }),
        ),
      );
      assert.deepEqual(a, b, 'both first uses read back the one row kept');
      assert.deepEqual(await store.getSubjectKeyById(tenant, a!.keyId), a);
      assert.deepEqual(await store.getSubjectKey(tenant, 'user-1'), a);
      const rows = [tokenRow(tenant, freshOrkId()), tokenRow(tenant, freshOrkId())].map((r) => ({
        ...r,
        subjectKeyId: a!.keyId,
      }));
      assert.deepEqual(await store.writeSubjectTokens(rows), [{ tenant, keyId: a!.keyId }]);
      const read = await store.getTokens(rows.map((r) => r.token));
      assert.deepEqual(
        read.sort(byToken).map((r) => r.subjectKeyId),
        [a!.keyId, a!.keyId],
      );
      assert.deepEqual(await store.subjectCounts(tenant), [{ tenant, subjects: 1, records: 2 }]);
    });

    it('data subjects: forget destroys the key, refuses later writes under it, is idempotent', async () => {
      const tenant = await newTenant();
      const key = await store.ensureSubjectKey(tenant, 'gone', freshOrkId(), {
        kekRef: 'local:1',
        wrapped: randomBytes(61),
      });
      const kept = await store.ensureSubjectKey(tenant, 'kept', freshOrkId(), {
        kekRef: 'local:1',
        wrapped: randomBytes(61),
      });
      assert.equal(await store.forgetSubjects(tenant, ['gone', 'never-seen']), 1);
      assert.equal(await store.getSubjectKey(tenant, 'gone'), undefined);
      assert.equal(await store.getSubjectKeyById(tenant, key.keyId), undefined);
      // One statement for two subjects: only the one whose key remains is written.
      const late = tokenRow(tenant, freshOrkId(), { subjectKeyId: key.keyId });
      const live = tokenRow(tenant, freshOrkId(), { subjectKeyId: kept.keyId });
      assert.deepEqual(await store.writeSubjectTokens([late, live]), [{ tenant, keyId: kept.keyId }]);
      assert.deepEqual(
        (await store.getTokens([late.token, live.token])).map((r) => r.token),
        [live.token],
        'no write under a forgotten key',
      );
      assert.equal(await store.forgetSubjects(tenant, ['gone']), 0, 'idempotent');
      assert.deepEqual(await store.getSubjectKey(tenant, 'kept'), kept);
      // Used again: a new key (another id).
      const again = await store.ensureSubjectKey(tenant, 'gone', freshOrkId(), {
        kekRef: 'local:1',
        wrapped: randomBytes(61),
      });
      assert.notEqual(again.keyId, key.keyId);
      // Shredding the tenant deletes every subject key.
      await store.shredTenant(tenant);
      assert.equal(await store.getSubjectKey(tenant, 'kept'), undefined);
      assert.equal(await store.getSubjectKey(tenant, 'gone'), undefined);
    });

    it('data subjects: KEK rotation lists subject keys not under a KEK and re-wraps only unchanged rows', async () => {
      const tenant = await newTenant();
      const from = { kekRef: 'local:old', wrapped: randomBytes(61) };
      const key = await store.ensureSubjectKey(tenant, 's', freshOrkId(), from);
      const listed = await store.listSubjectKeysNotUnder('local:new', undefined, 100_000);
      assert.ok(listed.some((r) => r.tenant === tenant && r.keyId === key.keyId));
      const to = { kekRef: 'local:new', wrapped: randomBytes(61) };
      assert.equal(await store.rewrapSubjectKey(tenant, key.keyId, from, to), true);
      assert.equal(await store.rewrapSubjectKey(tenant, key.keyId, from, to), false, 'not twice');
      assert.deepEqual((await store.getSubjectKey(tenant, 's'))?.wrapped, to.wrapped);
      const after = await store.listSubjectKeysNotUnder('local:new', { tenant, keyId: '' }, 100_000);
      assert.ok(!after.some((r) => r.tenant === tenant));
    });

    it('reports its kind', () => {
      assert.equal(store.kind, opts.name);
    });

    ingestKeysContract(() => store, newTenant);
  });
}
