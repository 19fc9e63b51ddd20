import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { encodeOrkString, orkFingerprint } from '../crypto/index.js';
import { type EncryptionContext, type KekPort, kekRing, kmsContext, LocalKek } from '../kms/index.js';
import type {
  AuditChainRow,
  IngestKeyRow,
  OrkRow,
  SubjectKeyRow,
  TenantKeyRow,
  TokenRootKeyRow,
  WrappedKey,
} from '../store/index.js';
import { rotateKek } from './kek-rotation.js';
import { reissueOrk } from './ork-reissue.js';

const random = { bytes: (n: number) => randomBytes(n) };
const local = () => new LocalKek(randomBytes(32), random);

/** The list and optimistic re-wrap of keys stored by (tenant, key id), over an array (subject and ingest keys). */
function byId<R extends { tenant: string; keyId: string; kekRef: string; wrapped: Buffer }>(rows: R[]) {
  const key = (r: { tenant: string; keyId: string }) => `${r.tenant}\u0000${r.keyId}`;
  return {
    async list(ref: string, after: { tenant: string; keyId: string } | undefined, limit: number) {
      return rows
        .filter((r) => r.kekRef !== ref && (after === undefined || key(r) > key(after)))
        .sort((a, b) => (key(a) < key(b) ? -1 : 1))
        .slice(0, limit);
    },
    async rewrap(tenant: string, keyId: string, from: WrappedKey, to: WrappedKey) {
      const i = rows.findIndex(
        (r) =>
          r.tenant === tenant &&
          r.keyId === keyId &&
          r.kekRef === from.kekRef &&
          r.wrapped.equals(from.wrapped),
      );
      if (i < 0) return false;
      rows[i] = { ...rows[i]!, kekRef: to.kekRef, wrapped: to.wrapped };
      return true;
    },
  };
}

/** The four store methods KEK rotation uses, over arrays. */
function memoryStore(
  keys: TenantKeyRow[],
  chains: AuditChainRow[],
  roots: TokenRootKeyRow[] = [],
  subjects: SubjectKeyRow[] = [],
  ingest: IngestKeyRow[] = [],
) {
  return {
    keys,
    chains,
    ingest,
    listIngestKeysNotUnder: byId(ingest).list,
    rewrapIngestKey: byId(ingest).rewrap,
    roots,
    subjects,
    listSubjectKeysNotUnder: byId(subjects).list,
    rewrapSubjectKey: byId(subjects).rewrap,
    async listTokenRootKeysNotUnder(ref: string, afterTenant: string, limit: number) {
      return roots
        .filter((r) => r.kekRef !== ref && r.wrapped !== null && r.tenant > afterTenant)
        .sort((a, b) => (a.tenant < b.tenant ? -1 : 1))
        .slice(0, limit);
    },
    async rewrapTokenRootKey(tenant: string, from: WrappedKey, to: WrappedKey) {
      const i = roots.findIndex(
        (r) => r.tenant === tenant && r.kekRef === from.kekRef && r.wrapped?.equals(from.wrapped),
      );
      if (i < 0) return false;
      roots[i] = { ...roots[i]!, kekRef: to.kekRef, wrapped: to.wrapped };
      return true;
    },
    async listTenantKeysNotUnder(
      ref: string,
      after: { tenant: string; version: number } | undefined,
      limit: number,
    ) {
      return keys
        .filter((k) => k.kekRef !== ref && k.wrapped !== null)
        .filter(
          (k) =>
            after === undefined ||
            k.tenant > after.tenant ||
            (k.tenant === after.tenant && k.version > after.version),
        )
        .sort((a, b) => (a.tenant === b.tenant ? a.version - b.version : a.tenant < b.tenant ? -1 : 1))
        .slice(0, limit);
    },
    async rewrapTenantKey(tenant: string, version: number, from: WrappedKey, to: WrappedKey) {
      const i = keys.findIndex(
        (k) =>
          k.tenant === tenant &&
          k.version === version &&
          k.kekRef === from.kekRef &&
          k.wrapped?.equals(from.wrapped),
      );
      if (i < 0) return false;
      keys[i] = { ...keys[i]!, kekRef: to.kekRef, wrapped: to.wrapped };
      return true;
    },
    async listAuditChains() {
      return chains;
    },
    async rewrapAuditChain(chainId: string, from: WrappedKey, to: WrappedKey) {
      const i = chains.findIndex(
        (c) => c.chainId === chainId && c.kekRef === from.kekRef && c.wrappedKey.equals(from.wrapped),
      );
      if (i < 0) return false;
      chains[i] = { ...chains[i]!, kekRef: to.kekRef, wrappedKey: to.wrapped };
      return true;
    },
  };
}

async function tek(kek: KekPort, tenant: string, version: number, key: Buffer): Promise<TenantKeyRow> {
  const wrapped = await kek.wrap(key, kmsContext.tek(tenant, version));
  return { tenant, version, state: 'primary', kekRef: kek.kekRef, wrapped, createdAt: new Date() };
}

describe('rotateKek', () => {
  it('re-wraps ingest private keys (issue 14) under the target, same key and context', async () => {
    const [old, target] = [local(), local()];
    const seeds = [randomBytes(32), randomBytes(32)];
    const ingest: IngestKeyRow[] = [];
    for (const [i, keyId] of ['xwing_AAAAAAAAAAAAAAAAAAAAAA', 'x25519_AAAAAAAAAAAAAAAAAAAAAA'].entries()) {
      ingest.push({
        tenant: 'a',
        keyId,
        generation: 1,
        suite: i === 0 ? 'xwing' : 'x25519',
        publicKey: Buffer.alloc(32),
        kekRef: old.kekRef,
        wrapped: await old.wrap(seeds[i]!, kmsContext.ingestKey('a', keyId)),
        createdAt: new Date(),
        retireAt: null,
      });
    }
    const store = memoryStore([], [], [], [], ingest);
    const report = await rotateKek({ store, keks: kekRing(old), target });
    assert.equal(report.ingestKeys, 2);
    for (const [i, row] of store.ingest.entries()) {
      assert.equal(row.kekRef, target.kekRef);
      assert.deepEqual(await target.unwrap(row.wrapped, kmsContext.ingestKey('a', row.keyId)), seeds[i]);
    }
    assert.equal((await rotateKek({ store, keks: kekRing(old), target })).ingestKeys, 0);
  });

  it('re-wraps every TEK and audit chain key under the target, same key and context; a re-run does nothing', async () => {
    const [old, target] = [local(), local()];
    const plain = new Map<string, Buffer>();
    const keys: TenantKeyRow[] = [];
    for (const tenant of ['a', 'b']) {
      for (const version of [1, 2]) {
        const key = randomBytes(32);
        plain.set(`${tenant}/${version}`, key);
        keys.push(await tek(old, tenant, version, key));
      }
    }
    keys.push({
      tenant: 'c',
      version: 1,
      state: 'destroyed',
      kekRef: old.kekRef,
      wrapped: null,
      createdAt: new Date(),
    });
    const chainKey = randomBytes(32);
    const chains: AuditChainRow[] = [
      {
        chainId: 'c1',
        kekRef: old.kekRef,
        wrappedKey: await old.wrap(chainKey, kmsContext.auditChain('c1')),
        host: 'h',
        startedAt: new Date(),
      },
    ];
    const rootKey = randomBytes(32);
    const roots: TokenRootKeyRow[] = [
      {
        tenant: 'a',
        state: 'active',
        kekRef: old.kekRef,
        wrapped: await old.wrap(rootKey, kmsContext.tokenRootKey('a')),
      },
      { tenant: 'c', state: 'destroyed', kekRef: old.kekRef, wrapped: null },
    ];
    const subjectKey = randomBytes(32);
    const keyId = 'ab'.repeat(16);
    const subjects: SubjectKeyRow[] = [
      {
        tenant: 'a',
        subject: 'user-1',
        keyId,
        kekRef: old.kekRef,
        wrapped: await old.wrap(subjectKey, kmsContext.subject('a', keyId)),
      },
    ];
    const store = memoryStore(keys, chains, roots, subjects);
    const progress: string[] = [];
    const report = await rotateKek(
      { store, keks: kekRing(old), target },
      { batchSize: 3, onProgress: (p) => progress.push(p.item) },
    );
    assert.deepEqual(
      { ...report, failures: [...report.failures] },
      {
        target: target.kekRef,
        tenantKeys: 4,
        tokenRootKeys: 1,
        subjectKeys: 1,
        ingestKeys: 0,
        auditChains: 1,
        changed: 0,
        failures: [],
        stopped: false,
      },
    );
    assert.deepEqual(progress, ['a/1', 'a/2', 'b/1', 'b/2', 'a/token-root', `a/subject-key ${keyId}`, 'c1']);
    assert.equal(store.subjects[0]!.kekRef, target.kekRef);
    assert.deepEqual(
      await target.unwrap(store.subjects[0]!.wrapped, kmsContext.subject('a', keyId)),
      subjectKey,
    );
    assert.deepEqual(await target.unwrap(store.roots[0]!.wrapped!, kmsContext.tokenRootKey('a')), rootKey);
    assert.equal(store.roots[1]!.wrapped, null, 'a destroyed token root key stays destroyed');
    for (const row of store.keys.filter((k) => k.wrapped !== null)) {
      assert.equal(row.kekRef, target.kekRef);
      const key = await target.unwrap(row.wrapped!, kmsContext.tek(row.tenant, row.version));
      assert.deepEqual(key, plain.get(`${row.tenant}/${row.version}`));
    }
    assert.equal(store.keys.find((k) => k.tenant === 'c')!.wrapped, null, 'a destroyed key stays destroyed');
    assert.deepEqual(await target.unwrap(store.chains[0]!.wrappedKey, kmsContext.auditChain('c1')), chainKey);
    const again = await rotateKek({ store, keks: kekRing(old), target });
    assert.equal(again.tenantKeys + again.tokenRootKeys + again.subjectKeys + again.auditChains, 0);
  });

  it('reports keys of an unconfigured KEK and leaves them; stops cleanly when asked', async () => {
    const [old, unknown, target] = [local(), local(), local()];
    const keys = [await tek(old, 'a', 1, randomBytes(32)), await tek(unknown, 'b', 1, randomBytes(32))];
    const store = memoryStore(keys, []);
    const report = await rotateKek({ store, keks: kekRing(old), target });
    assert.equal(report.tenantKeys, 1);
    assert.deepEqual(report.failures, [
      { item: 'b/1', kekRef: unknown.kekRef, reason: 'its KEK is not configured (SIDEKEY_KMS_PREVIOUS)' },
    ]);
    assert.equal(store.keys[1]!.kekRef, unknown.kekRef);

    const more = memoryStore([await tek(old, 'x', 1, randomBytes(32))], []);
    const stopped = await rotateKek({ store: more, keks: kekRing(old), target }, { shouldStop: () => true });
    assert.equal(stopped.stopped, true);
    assert.equal(more.keys[0]!.kekRef, old.kekRef);
  });

  it('never stores a wrapping the target cannot unwrap back', async () => {
    const old = local();
    const real = local();
    // A target that encrypts but does not give the key back (a half-written IAM policy).
    const broken: KekPort = {
      provider: 'local',
      kekRef: 'local:broken',
      wrap: (p: Uint8Array, c: EncryptionContext) => real.wrap(p, c),
      unwrap: async () => randomBytes(32),
      health: async () => ({ ok: true }),
      close: async () => {},
    };
    const store = memoryStore([await tek(old, 'a', 1, randomBytes(32))], []);
    await assert.rejects(
      rotateKek({ store, keks: kekRing(old), target: broken }),
      /did not give back the key/,
    );
    assert.equal(store.keys[0]!.kekRef, old.kekRef);
  });
});

describe('reissueOrk', () => {
  it('re-wraps the same ORK under the target after checking its fingerprint', async () => {
    const [old, target] = [local(), local()];
    const ork = randomBytes(32);
    const orkId = 'ab'.repeat(16);
    const oldString = encodeOrkString({
      tenant: 'acme',
      orkId,
      kekRef: old.kekRef,
      wrapped: await old.wrap(ork, kmsContext.ork('acme', orkId)),
    });
    const record: OrkRow = {
      tenant: 'acme',
      orkId,
      label: '',
      fingerprint: orkFingerprint(ork),
      state: 'active',
      createdAt: new Date(),
      revokedAt: null,
    };
    const store = {
      getOrk: async (t: string, id: string) => (t === 'acme' && id === orkId ? record : undefined),
    };
    const r = await reissueOrk({ store, keks: kekRing(old), target }, 'acme', oldString);
    assert.equal(r.orkId, orkId);
    assert.equal(r.toKekRef, target.kekRef);
    assert.notEqual(r.orkString, oldString);

    await assert.rejects(
      reissueOrk({ store, keks: kekRing(target), target }, 'acme', oldString),
      /not configured/,
    );
    await assert.rejects(
      reissueOrk({ store, keks: kekRing(old), target }, 'other', oldString),
      /another tenant/,
    );
    const wrongFingerprint = {
      getOrk: async () => ({ ...record, fingerprint: orkFingerprint(randomBytes(32)) }),
    };
    await assert.rejects(
      reissueOrk({ store: wrongFingerprint, keks: kekRing(old), target }, 'acme', oldString),
      /does not verify/,
    );
    const revoked = { getOrk: async () => ({ ...record, state: 'revoked' as const }) };
    await assert.rejects(
      reissueOrk({ store: revoked, keks: kekRing(old), target }, 'acme', oldString),
      /revoked/,
    );
  });
});
