/**
 * A sidecar's view of its tenants' ingest key pairs (issue 14):
 *
 *   publicKeys(tenant)         the pairs that open now, newest first; makes the
 *                              tenant's first generation on first use
 *   openingKeyFor(tenant, id)  the library key of one pair, for one request
 *
 * The key lists are cached (TTL as the TEK cache) and dropped by
 * `ingest-keys-changed` / `tenant-shredded`; unwrapped private keys live in a
 * KeyCache (bounded, TTL, zeroed on eviction, ADR-4) and every request works
 * on a copy it zeroes. A pair whose `retire_at` has passed (this sidecar's
 * clock) is treated as unknown at once, before any operator deletes it.
 */
import type { LRUCache } from 'lru-cache';
import { type RandomSource, zeroize } from '../crypto/index.js';
import { failedPrecondition, SidekeyError, unavailable } from '../errors/index.js';
import { boundedLru, KeyCache } from '../keyring/index.js';
import { type KekRing, KmsError, kmsContext } from '../kms/index.js';
import { type IngestKeyRow, isStoreUnavailable, SchemaError, type Store } from '../store/index.js';
import { newIngestKeys } from './key-pairs.js';
import { type OpeningKey, openingKey } from './suites.js';

export interface IngestKeyringDeps {
  readonly store: Pick<Store, 'listIngestKeys' | 'createFirstIngestKeys'>;
  readonly keks: KekRing;
  readonly random: RandomSource;
  readonly now: () => number;
  readonly ttlMs: number;
  readonly maxKeys: number;
}

/** A list refresh forced by an unknown key id at most this often per tenant (a client cannot turn bad ids into queries). */
const UNKNOWN_ID_REFRESH_MS = 1_000;

export class IngestKeyring {
  private readonly lists: LRUCache<string, IngestKeyRow[]>;
  private readonly privates: KeyCache<{ readonly tenant: string }>;
  private readonly refreshedAt = new Map<string, number>();

  constructor(private readonly deps: IngestKeyringDeps) {
    this.lists = boundedLru<string, IngestKeyRow[]>({ max: deps.maxKeys, ttl: deps.ttlMs });
    this.privates = new KeyCache({ max: deps.maxKeys, ttlMs: deps.ttlMs });
  }

  /**
   * The current pairs (one per suite) clients should seal to; pairs in their
   * grace period still open but are no longer handed out.
   */
  async publicKeys(tenant: string): Promise<IngestKeyRow[]> {
    let rows = await this.rows(tenant);
    if (rows.length === 0) {
      const keys = await this.kms(() => newIngestKeys(this.deps.keks.primary, this.deps.random, tenant));
      const created = await this.store(() => this.deps.store.createFirstIngestKeys(tenant, keys));
      if (!created) throw failedPrecondition('the keys of this tenant were destroyed');
      rows = await this.rows(tenant, true);
    }
    return rows.filter((r) => r.retireAt === null);
  }

  /**
   * The opening key of pair `keyId` for one request, or undefined when the
   * tenant has no such usable pair (unknown, retired past its grace, destroyed).
   */
  async openingKeyFor(tenant: string, keyId: string): Promise<OpeningKey | undefined> {
    let row = this.usable(await this.rows(tenant)).find((r) => r.keyId === keyId);
    if (row === undefined && this.mayRefresh(tenant)) {
      row = this.usable(await this.rows(tenant, true)).find((r) => r.keyId === keyId);
    }
    if (row === undefined) return undefined;
    const found = row;
    const { key } = await this.privates.copy(`${tenant}\u0000${keyId}`, async () => {
      const kek = this.deps.keks.byRef(found.kekRef);
      if (kek === undefined)
        throw unavailable('an ingest key is wrapped by a KEK this sidecar is not configured for');
      const unwrapped = await this.kms(() => kek.unwrap(found.wrapped, kmsContext.ingestKey(tenant, keyId)));
      return { key: unwrapped, meta: { tenant } };
    });
    try {
      return await openingKey(found.suite, key);
    } finally {
      zeroize(key);
    }
  }

  /** Drops what is cached about a tenant's pairs (rotation, shredding). */
  invalidateTenant(tenant: string): void {
    this.lists.delete(tenant);
    this.privates.deleteWhere((m) => m.tenant === tenant);
  }

  /** Zeroes and drops everything (shutdown, missed notifications). */
  clear(): void {
    this.lists.clear();
    this.privates.clear();
    this.refreshedAt.clear();
  }

  private usable(rows: readonly IngestKeyRow[]): IngestKeyRow[] {
    const now = this.deps.now();
    return rows.filter((r) => r.retireAt === null || r.retireAt.getTime() > now);
  }

  private mayRefresh(tenant: string): boolean {
    const now = this.deps.now();
    const last = this.refreshedAt.get(tenant);
    if (last !== undefined && now - last < UNKNOWN_ID_REFRESH_MS) return false;
    if (this.refreshedAt.size > this.deps.maxKeys) this.refreshedAt.clear();
    this.refreshedAt.set(tenant, now);
    return true;
  }

  private async rows(tenant: string, refresh = false): Promise<IngestKeyRow[]> {
    const hit = refresh ? undefined : this.lists.get(tenant);
    if (hit !== undefined) return hit;
    const rows = await this.store(() => this.deps.store.listIngestKeys(tenant));
    if (rows.length > 0) this.lists.set(tenant, rows);
    return rows;
  }

  private async store<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      if (err instanceof SidekeyError) throw err;
      if (isStoreUnavailable(err) || err instanceof SchemaError)
        throw unavailable('the key store is unavailable', err);
      throw err;
    }
  }

  private async kms<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      if (err instanceof SidekeyError) throw err;
      if (err instanceof KmsError) {
        if (err.kind === 'integrity')
          throw new SidekeyError('INTERNAL', 'an ingest key does not authenticate under its KEK', {
            cause: err,
          });
        throw unavailable('the KMS is unavailable (ingest key)', err);
      }
      throw err;
    }
  }
}
