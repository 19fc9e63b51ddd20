/**
 * Data subjects' keys (issue 13, docs/formats.md §18), cached like the other
 * keys: bounded, TTL'd, single flight, zeroed on eviction, copied out to the
 * caller (ADR-4).
 *
 *   forSubject(tenant, subject) → { key, keyId }   creates the key on first use
 *   byId(tenant, keyId)         → key | undefined   undefined: forgotten
 *
 * Invariants:
 * - A new key is 32 bytes from the CSPRNG, wrapped by the primary KEK with
 *   context { purpose: "subject", tenant, key_id } before it is stored;
 *   concurrent first uses (two sidecars) end with the one row the store kept,
 *   and a loser uses that row's key, never its own.
 * - Nothing is cached about a forgotten key (a miss reads the store again),
 *   and `subjects-forgotten` drops every cached key of the tenant.
 */
import { generateKey, newSubjectKeyId, type RandomSource, zeroize } from '../crypto/index.js';
import { failedPrecondition, unavailable } from '../errors/index.js';
import { type KekRing, kmsContext } from '../kms/index.js';
import { type Store, SubjectKeyGoneError, type SubjectKeyRow } from '../store/index.js';
import { KeyCache } from './key-cache.js';
import { asUnavailable, fromKmsError } from './keyring.js';

export interface SubjectKeysDeps {
  readonly store: Pick<Store, 'getSubjectKey' | 'getSubjectKeyById' | 'ensureSubjectKey'>;
  readonly keks: KekRing;
  readonly random: RandomSource;
  readonly options: { readonly ttlMs: number; readonly maxKeys: number };
  readonly onCacheLookup?: (hit: boolean) => void;
}

/** A caller-owned copy of a subject's key and its id. */
export interface SubjectKey {
  readonly key: Buffer;
  readonly keyId: string;
}

interface SubjectMeta {
  readonly tenant: string;
  readonly keyId: string;
}

class ForgottenKey extends Error {}

export class SubjectKeys {
  /** Entries by subject (`s`) and by key id (`k`); both carry the key id. */
  private readonly cache: KeyCache<SubjectMeta>;

  constructor(private readonly deps: SubjectKeysDeps) {
    this.cache = new KeyCache({
      max: deps.options.maxKeys,
      ttlMs: deps.options.ttlMs,
      ...(deps.onCacheLookup && { onLookup: deps.onCacheLookup }),
    });
  }

  /** The subject's key, created on first use. FAILED_PRECONDITION for an unknown or shredded tenant. */
  async forSubject(tenant: string, subject: string): Promise<SubjectKey> {
    const { key, meta } = await this.cache.copy(`s\u0000${tenant}\u0000${subject}`, async () => {
      const loaded = await this.loadOrCreate(tenant, subject);
      // Reads of the values just written find the key by id without a lookup.
      this.cache.set(`k\u0000${tenant}\u0000${loaded.meta.keyId}`, Buffer.from(loaded.key), loaded.meta);
      return loaded;
    });
    return { key, keyId: meta.keyId };
  }

  /** The key of a record or ciphertext; undefined when it was forgotten (or never existed). */
  async byId(tenant: string, keyId: string): Promise<Buffer | undefined> {
    try {
      const { key } = await this.cache.copy(`k\u0000${tenant}\u0000${keyId}`, async () => {
        let row: SubjectKeyRow | undefined;
        try {
          row = await this.deps.store.getSubjectKeyById(tenant, keyId);
        } catch (err) {
          throw asUnavailable(err, 'the key store is unavailable');
        }
        if (row === undefined) throw new ForgottenKey();
        return { key: await this.unwrap(row), meta: { tenant, keyId } };
      });
      return key;
    } catch (err) {
      if (err instanceof ForgottenKey) return undefined;
      throw err;
    }
  }

  /** Drops a key this sidecar found gone (a write refused under it). */
  forgetKey(tenant: string, keyId: string): void {
    this.cache.deleteWhere((m) => m.tenant === tenant && m.keyId === keyId);
  }

  /** `subjects-forgotten`, `tenant-shredded`, a rewrap: drop every cached subject key of the tenant. */
  invalidateTenant(tenant: string): void {
    this.cache.deleteWhere((m) => m.tenant === tenant);
  }

  clear(): void {
    this.cache.clear();
  }

  get size(): number {
    return this.cache.size;
  }

  private async loadOrCreate(tenant: string, subject: string): Promise<{ key: Buffer; meta: SubjectMeta }> {
    let row: SubjectKeyRow | undefined;
    try {
      row = await this.deps.store.getSubjectKey(tenant, subject);
    } catch (err) {
      throw asUnavailable(err, 'the key store is unavailable');
    }
    if (row !== undefined) return { key: await this.unwrap(row), meta: { tenant, keyId: row.keyId } };
    const fresh = generateKey();
    const keyId = newSubjectKeyId(this.deps.random);
    try {
      const kek = this.deps.keks.primary;
      let wrapped: Buffer;
      try {
        wrapped = await kek.wrap(fresh, kmsContext.subject(tenant, keyId));
      } catch (err) {
        throw fromKmsError(err, 'subject key');
      }
      try {
        row = await this.deps.store.ensureSubjectKey(tenant, subject, keyId, { kekRef: kek.kekRef, wrapped });
      } catch (err) {
        if (err instanceof SubjectKeyGoneError)
          throw failedPrecondition('the tenant does not exist or was shredded');
        throw asUnavailable(err, 'the key store is unavailable');
      }
      // Another sidecar's first use won the race: use its key, not ours.
      if (row.keyId !== keyId) return { key: await this.unwrap(row), meta: { tenant, keyId: row.keyId } };
      return { key: Buffer.from(fresh), meta: { tenant, keyId } };
    } finally {
      zeroize(fresh);
    }
  }

  private async unwrap(row: SubjectKeyRow): Promise<Buffer> {
    const kek = this.deps.keks.byRef(row.kekRef);
    if (kek === undefined)
      throw unavailable('the subject key is wrapped by a KEK this sidecar is not configured for');
    try {
      return await kek.unwrap(row.wrapped, kmsContext.subject(row.tenant, row.keyId));
    } catch (err) {
      throw fromKmsError(err, 'subject key');
    }
  }
}
