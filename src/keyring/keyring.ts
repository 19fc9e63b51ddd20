/**
 * The keyring: turns an ORK string and a tenant into field data keys, with
 * every unwrap going through the KEK ring and every plaintext key cached
 * (bounded, TTL, single flight, zeroed on eviction).
 *
 *   authenticate(orkString) → OrkIdentity    (verifies the ORK; cached by its hash)
 *   fdk(identity, field, version) → Buffer   (caller owns the copy and zeroes it)
 *
 * Failures map to the error catalogue here, so callers see only
 * UNAUTHENTICATED / FAILED_PRECONDITION / UNAVAILABLE with secret-free messages.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { LRUCache } from 'lru-cache';
import { type OrkScope, scopeOf } from '../access/index.js';
import { decodeOrkString, deriveFdk, orkFingerprint, type RandomSource, zeroize } from '../crypto/index.js';
import { failedPrecondition, SidekeyError, unauthenticated, unavailable } from '../errors/index.js';
import { type KekRing, KmsError, kmsContext } from '../kms/index.js';
import { isStoreUnavailable, SchemaError, type Store, type TenantKeyRow } from '../store/index.js';
import { deriveTokenKey, lineageSecret, sealLineage } from '../tokens/index.js';
import { KeyCache } from './key-cache.js';
import { boundedLru } from './lru.js';

export interface OrkIdentity {
  readonly tenant: string;
  readonly orkId: string;
  /** What the ORK may do (stored by its id, cached with it, dropped by `ork-changed`). */
  readonly scope: OrkScope;
  /** SHA-256 of the ORK string, hex: the cache id of this ORK. */
  readonly handle: string;
  /** Kept for the duration of one request so an evicted ORK can be reloaded. */
  readonly orkString: string;
}

export interface KeyringOptions {
  readonly tekTtlMs: number;
  readonly orkTtlMs: number;
  readonly maxKeys: number;
}

export interface KeyringDeps {
  readonly store: Pick<Store, 'getTenantKeys' | 'getOrk' | 'getTokenRootKey'>;
  readonly keks: KekRing;
  readonly options: KeyringOptions;
  readonly onCacheLookup?: (cache: 'ork' | 'tek' | 'fdk', hit: boolean) => void;
}

interface OrkMeta {
  readonly tenant: string;
  readonly orkId: string;
  /** Cached with the identity, so a scope check costs no query. */
  readonly scope: OrkScope;
}
interface TokenKeyMeta {
  readonly tenant: string;
  readonly orkId: string;
}
interface TekMeta {
  readonly tenant: string;
  readonly version: number;
}
interface FdkMeta {
  readonly tenant: string;
  readonly orkId: string;
  readonly version: number;
}

/** How long a refused ORK string is refused without asking the KMS again. */
const NEGATIVE_TTL_MS = 30_000;

export class Keyring {
  private readonly orks: KeyCache<OrkMeta>;
  private readonly teks: KeyCache<TekMeta>;
  private readonly fdks: KeyCache<FdkMeta>;
  /** K_tok per ORK (deterministic and fpe tokens), keyed like the ORK cache. */
  private readonly tokenKeys: KeyCache<TokenKeyMeta>;
  private readonly tenantKeys: LRUCache<string, TenantKeyRow[]>;
  /** Bumped by every invalidation, so reads it aborted can tell and retry. */
  private generation = 0;
  private readonly refused = boundedLru<string, SidekeyError>({ max: 10_000, ttl: NEGATIVE_TTL_MS });

  constructor(private readonly deps: KeyringDeps) {
    const { options } = deps;
    const lookup = (cache: 'ork' | 'tek' | 'fdk') => (hit: boolean) => deps.onCacheLookup?.(cache, hit);
    this.orks = new KeyCache({ max: options.maxKeys, ttlMs: options.orkTtlMs, onLookup: lookup('ork') });
    this.teks = new KeyCache({ max: options.maxKeys, ttlMs: options.tekTtlMs, onLookup: lookup('tek') });
    this.fdks = new KeyCache({ max: options.maxKeys, ttlMs: options.tekTtlMs, onLookup: lookup('fdk') });
    this.tokenKeys = new KeyCache({ max: options.maxKeys, ttlMs: options.tekTtlMs, onLookup: lookup('fdk') });
    this.tenantKeys = boundedLru<string, TenantKeyRow[]>({
      max: options.maxKeys,
      ttl: options.tekTtlMs,
      fetchMethod: (tenant) => deps.store.getTenantKeys(tenant),
    });
  }

  /** Verifies an ORK string; throws UNAUTHENTICATED when it is malformed, tampered, unknown or revoked. */
  async authenticate(orkString: string): Promise<OrkIdentity> {
    const handle = createHash('sha256').update(orkString).digest('hex');
    const refused = this.refused.get(handle);
    if (refused !== undefined) throw refused;
    const hit = this.orks.peek(handle);
    if (hit !== undefined) {
      this.deps.onCacheLookup?.('ork', true);
      return { tenant: hit.meta.tenant, orkId: hit.meta.orkId, scope: hit.meta.scope, handle, orkString };
    }
    const { key, meta } = await this.orkCopy(handle, orkString);
    zeroize(key);
    return { tenant: meta.tenant, orkId: meta.orkId, scope: meta.scope, handle, orkString };
  }

  /** The version new data is encrypted under. */
  async primaryVersion(tenant: string): Promise<number> {
    const rows = await this.keyRows(tenant);
    const primary = rows.find((r) => r.state === 'primary');
    if (primary === undefined) {
      throw failedPrecondition(
        rows.some((r) => r.state === 'destroyed')
          ? 'the keys of this tenant were destroyed'
          : 'the tenant has no usable key',
      );
    }
    return primary.version;
  }

  /**
   * The field data key for (ORK, tenant, field, TEK version): a copy the
   * caller owns and must zero. Throws FAILED_PRECONDITION for a destroyed or
   * retired version.
   */
  async fdk(id: OrkIdentity, field: string, version: number): Promise<Buffer> {
    const cacheId = `${id.handle}\u0000${field}\u0000${version}`;
    const { key } = await this.fdks.copy(cacheId, async () => {
      const tek = await this.tekCopy(id.tenant, version);
      let ork: { key: Buffer } | undefined;
      try {
        ork = await this.orkCopy(id.handle, id.orkString);
        const fdk = deriveFdk(tek.key, ork.key, id.tenant, field, version);
        return { key: fdk, meta: { tenant: id.tenant, orkId: id.orkId, version } };
      } finally {
        zeroize(tek.key, ork?.key);
      }
    });
    return key;
  }

  /**
   * K_tok of the caller's ORK lineage (src/tokens/token-keys.ts): a copy the
   * caller owns and must zero. FAILED_PRECONDITION when the tenant's token
   * root key was destroyed or never made.
   */
  async tokenKey(id: OrkIdentity): Promise<Buffer> {
    const { key } = await this.tokenKeys.copy(id.handle, async () => {
      const trk = await this.tokenRootKeyCopy(id.tenant);
      let secret: Buffer | undefined;
      try {
        secret = await this.lineageSecretOf(id);
        return {
          key: deriveTokenKey(trk.key, secret, id.tenant),
          meta: { tenant: id.tenant, orkId: id.orkId },
        };
      } finally {
        zeroize(trk.key, secret);
      }
    });
    return key;
  }

  /** The seal that gives `to` the lineage of `from` (`ork rotate`): deterministic and fpe tokens stay the same. */
  async lineageSealFor(from: OrkIdentity, to: OrkIdentity, random: RandomSource): Promise<Buffer> {
    let secret: Buffer | undefined;
    let ork: { key: Buffer } | undefined;
    try {
      secret = await this.lineageSecretOf(from);
      ork = await this.orkCopy(to.handle, to.orkString);
      return sealLineage(ork.key, to.tenant, to.orkId, secret, random);
    } finally {
      zeroize(secret, ork?.key);
    }
  }

  private async lineageSecretOf(id: OrkIdentity): Promise<Buffer> {
    let row: Awaited<ReturnType<Store['getOrk']>>;
    try {
      row = await this.deps.store.getOrk(id.tenant, id.orkId);
    } catch (err) {
      throw asUnavailable(err, 'the key store is unavailable');
    }
    if (row === undefined || row.state !== 'active')
      throw unauthenticated('the organisation key has been revoked');
    const ork = await this.orkCopy(id.handle, id.orkString);
    try {
      const secret = lineageSecret(ork.key, id.tenant, id.orkId, row.lineageSeal);
      if (secret === undefined)
        throw new SidekeyError('INTERNAL', 'the lineage seal of this organisation key does not open');
      return secret;
    } finally {
      zeroize(ork.key);
    }
  }

  private async tokenRootKeyCopy(tenant: string): Promise<{ key: Buffer }> {
    return this.teks.copy(`${tenant}\u0000token-root`, async () => {
      let row: Awaited<ReturnType<Store['getTokenRootKey']>>;
      try {
        row = await this.deps.store.getTokenRootKey(tenant);
      } catch (err) {
        throw asUnavailable(err, 'the key store is unavailable');
      }
      if (row === undefined)
        throw failedPrecondition('the tenant has no token root key: set a deterministic or fpe policy first');
      if (row.wrapped === null) throw failedPrecondition('the keys of this tenant were destroyed');
      const kek = this.deps.keks.byRef(row.kekRef);
      if (kek === undefined) {
        throw unavailable('the token root key is wrapped by a KEK this sidecar is not configured for');
      }
      try {
        const key = await kek.unwrap(row.wrapped, kmsContext.tokenRootKey(tenant));
        return { key, meta: { tenant, version: 0 } };
      } catch (err) {
        throw fromKmsError(err, 'token root key');
      }
    });
  }

  /** Drops everything cached about one ORK (revocation, a scope change). */
  invalidateOrk(tenant: string, orkId: string): void {
    const match = (m: { tenant: string; orkId: string }) => m.tenant === tenant && m.orkId === orkId;
    this.orks.deleteWhere(match);
    this.fdks.deleteWhere(match);
    this.tokenKeys.deleteWhere(match);
  }

  /** Drops everything cached about a tenant's keys (rotation, shredding). */
  invalidateTenant(tenant: string): void {
    this.generation++;
    this.tenantKeys.delete(tenant);
    this.teks.deleteWhere((m) => m.tenant === tenant);
    this.fdks.deleteWhere((m) => m.tenant === tenant);
    this.orks.deleteWhere((m) => m.tenant === tenant);
    this.tokenKeys.deleteWhere((m) => m.tenant === tenant);
  }

  /** Zeroes and drops every cached key (shutdown, or after missed notifications). */
  clear(): void {
    this.generation++;
    this.orks.clear();
    this.teks.clear();
    this.fdks.clear();
    this.tokenKeys.clear();
    this.tenantKeys.clear();
    this.refused.clear();
  }

  cacheSizes(): { ork: number; tek: number; fdk: number } {
    return { ork: this.orks.size, tek: this.teks.size, fdk: this.fdks.size + this.tokenKeys.size };
  }

  private async keyRows(tenant: string, refresh = false): Promise<TenantKeyRow[]> {
    for (let attempt = 0; ; attempt++) {
      const generation = this.generation;
      try {
        const rows = await this.tenantKeys.fetch(tenant, { forceRefresh: refresh });
        return rows ?? [];
      } catch (err) {
        // clear()/invalidateTenant() abort reads in flight (their result may
        // predate the change): read again rather than fail the request.
        if (this.generation !== generation && attempt < 2) continue;
        throw asUnavailable(err, 'the key store is unavailable');
      }
    }
  }

  private async tekCopy(tenant: string, version: number): Promise<{ key: Buffer }> {
    return this.teks.copy(`${tenant}\u0000${version}`, async () => {
      let row = (await this.keyRows(tenant)).find((r) => r.version === version);
      // A version created after our metadata was cached (rotation): look again once.
      if (row === undefined) row = (await this.keyRows(tenant, true)).find((r) => r.version === version);
      if (row === undefined) throw failedPrecondition('the key version of this data is unknown');
      if (row.state === 'destroyed' || row.wrapped === null)
        throw failedPrecondition('the key of this data was destroyed');
      if (row.state === 'retired') throw failedPrecondition('the key version of this data is retired');
      const kek = this.deps.keks.byRef(row.kekRef);
      if (kek === undefined) {
        throw unavailable('the tenant key is wrapped by a KEK this sidecar is not configured for');
      }
      try {
        const key = await kek.unwrap(row.wrapped, kmsContext.tek(tenant, version));
        return { key, meta: { tenant, version } };
      } catch (err) {
        throw fromKmsError(err, 'tenant key');
      }
    });
  }

  private async orkCopy(handle: string, orkString: string): Promise<{ key: Buffer; meta: OrkMeta }> {
    try {
      return await this.orks.copy(handle, () => this.loadOrk(orkString));
    } catch (err) {
      if (err instanceof SidekeyError && err.code === 'UNAUTHENTICATED') this.refused.set(handle, err);
      throw err;
    }
  }

  private async loadOrk(orkString: string): Promise<{ key: Buffer; meta: OrkMeta }> {
    const parts = decodeOrkString(orkString);
    if (parts === undefined) throw unauthenticated('the organisation key is malformed');
    let record: Awaited<ReturnType<Store['getOrk']>>;
    try {
      record = await this.deps.store.getOrk(parts.tenant, parts.orkId);
    } catch (err) {
      throw asUnavailable(err, 'the key store is unavailable');
    }
    if (record === undefined) throw unauthenticated('the organisation key is not known');
    if (record.state !== 'active') throw unauthenticated('the organisation key has been revoked');
    const kek = this.deps.keks.byRef(parts.kekRef);
    if (kek === undefined)
      throw unauthenticated('the organisation key was issued under a KEK this sidecar does not use');
    let key: Buffer;
    try {
      key = await kek.unwrap(parts.wrapped, kmsContext.ork(parts.tenant, parts.orkId));
    } catch (err) {
      if (err instanceof KmsError && err.kind === 'integrity') {
        throw unauthenticated('the organisation key does not verify');
      }
      throw fromKmsError(err, 'organisation key');
    }
    const expected = Buffer.from(record.fingerprint, 'hex');
    const actual = Buffer.from(orkFingerprint(key), 'hex');
    if (key.length !== 32 || expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      zeroize(key);
      throw unauthenticated('the organisation key does not verify');
    }
    return {
      key,
      meta: { tenant: parts.tenant, orkId: parts.orkId, scope: scopeOf(record.allow, record.reveal) },
    };
  }
}

export function fromKmsError(err: unknown, what: string): SidekeyError {
  if (err instanceof SidekeyError) return err;
  if (err instanceof KmsError) {
    switch (err.kind) {
      case 'unavailable':
        return unavailable(`the KMS is unavailable (${what})`, err);
      case 'denied':
        return unavailable(`the KMS refused access (${what})`, err);
      case 'integrity':
        return new SidekeyError('INTERNAL', `the ${what} does not authenticate under its KEK`, {
          cause: err,
        });
    }
  }
  return unavailable('the KMS is unavailable', err);
}

/** Store outages become retryable UNAVAILABLE; anything else is a bug and propagates (INTERNAL). */
export function asUnavailable(err: unknown, message: string): unknown {
  if (err instanceof SidekeyError) return err;
  if (isStoreUnavailable(err) || err instanceof SchemaError) return unavailable(message, err);
  return err;
}
