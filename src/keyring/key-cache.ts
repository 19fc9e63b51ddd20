/**
 * A bounded, TTL'd cache of secret key material with single flight.
 *
 * Invariants:
 * - Concurrent misses for one id share one load (one KMS call).
 * - An entry's key is zeroed when it is evicted, expires, is invalidated or
 *   the cache is closed; `live` turns false first.
 * - Callers never hold a cached buffer across an await: `copy()` returns a
 *   fresh copy taken synchronously from a live entry, which the caller owns
 *   and must zero after use. (An entry can be zeroed by an eviction that
 *   happens while another request awaits; a shared buffer could then be
 *   used after it was wiped, silently encrypting under zeros.)
 */
import type { LRUCache } from 'lru-cache';
import { zeroize } from '../crypto/index.js';
import { boundedLru } from './lru.js';

export interface KeyEntry<M> {
  readonly key: Buffer;
  readonly meta: M;
  live: boolean;
}

export interface KeyCacheOptions {
  readonly max: number;
  readonly ttlMs: number;
  /** Counts hits and misses for the metrics. */
  readonly onLookup?: (hit: boolean) => void;
}

export class KeyCache<M> {
  private readonly cache: LRUCache<string, KeyEntry<M>>;
  private readonly loading = new Map<string, Promise<KeyEntry<M>>>();

  constructor(private readonly options: KeyCacheOptions) {
    this.cache = boundedLru<string, KeyEntry<M>>({
      max: options.max,
      ttl: options.ttlMs,
      ttlAutopurge: true,
      updateAgeOnGet: false,
      dispose: (entry) => {
        entry.live = false;
        zeroize(entry.key);
      },
    });
  }

  /** A synchronous hit, or undefined. The returned entry is only safe to use before the next await. */
  peek(id: string): KeyEntry<M> | undefined {
    const entry = this.cache.get(id);
    return entry?.live ? entry : undefined;
  }

  /**
   * A caller-owned copy of the key and its metadata, loading it on a miss.
   * `load` must return a buffer the cache may own (and will zero).
   */
  async copy(id: string, load: () => Promise<{ key: Buffer; meta: M }>): Promise<{ key: Buffer; meta: M }> {
    for (let attempt = 0; ; attempt++) {
      const hit = this.peek(id);
      this.options.onLookup?.(hit !== undefined);
      if (hit !== undefined) return { key: Buffer.from(hit.key), meta: hit.meta };
      const entry = await this.load(id, load);
      // Synchronously after the await: copy only if still live.
      if (entry.live) return { key: Buffer.from(entry.key), meta: entry.meta };
      if (attempt >= 3) throw new Error('key cache entry evicted repeatedly while loading');
    }
  }

  private load(id: string, load: () => Promise<{ key: Buffer; meta: M }>): Promise<KeyEntry<M>> {
    let pending = this.loading.get(id);
    if (pending === undefined) {
      pending = (async () => {
        try {
          const { key, meta } = await load();
          const entry: KeyEntry<M> = { key, meta, live: true };
          this.cache.set(id, entry);
          return entry;
        } finally {
          this.loading.delete(id);
        }
      })();
      this.loading.set(id, pending);
    }
    return pending;
  }

  /** Puts a key the cache now owns. */
  set(id: string, key: Buffer, meta: M): void {
    this.cache.set(id, { key, meta, live: true });
  }

  delete(id: string): void {
    this.cache.delete(id);
  }

  /** Drops every entry whose metadata matches. */
  deleteWhere(match: (meta: M, id: string) => boolean): void {
    for (const [id, entry] of this.cache.entries()) if (match(entry.meta, id)) this.cache.delete(id);
  }

  get size(): number {
    return this.cache.size;
  }

  /** Zeroes and drops everything. */
  clear(): void {
    this.cache.clear();
  }
}
