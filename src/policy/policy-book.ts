/**
 * The sidecar's view of field policies: read from the store on first use,
 * cached for a TTL, dropped when the fleet announces a change
 * (`policy-changed`) and entirely after the listener reconnects. A field
 * without a policy is cached too (as the v1 default), so the hot path asks
 * the store once per field and TTL.
 */
import type { LRUCache } from 'lru-cache';
import { boundedLru } from '../keyring/index.js';
import type { Store } from '../store/index.js';
import { defaultPolicy, type FieldPolicy } from './policy.js';

export interface PolicyBookOptions {
  readonly ttlMs: number;
  readonly max: number;
}

export class PolicyBook {
  private readonly cache: LRUCache<string, FieldPolicy>;
  /** Bumped by every invalidation, so reads it aborted can tell and retry. */
  private generation = 0;

  constructor(store: Pick<Store, 'getPolicy'>, options: PolicyBookOptions) {
    this.cache = boundedLru<string, FieldPolicy>({
      max: options.max,
      ttl: options.ttlMs,
      fetchMethod: async (key) => {
        const [tenant, field] = key.split('\u0000') as [string, string];
        return (await store.getPolicy(tenant, field)) ?? defaultPolicy(tenant, field);
      },
    });
  }

  async policyFor(tenant: string, field: string): Promise<FieldPolicy> {
    const key = `${tenant}\u0000${field}`;
    for (let attempt = 0; ; attempt++) {
      const generation = this.generation;
      try {
        const p = await this.cache.fetch(key);
        if (p !== undefined) return p;
      } catch (err) {
        // An invalidation aborted this read (its result may predate the
        // change): read again rather than fail the request.
        if (this.generation === generation || attempt >= 2) throw err;
        continue;
      }
      if (attempt >= 2) return defaultPolicy(tenant, field);
    }
  }

  invalidate(tenant: string, field: string): void {
    this.generation++;
    this.cache.delete(`${tenant}\u0000${field}`);
  }

  clear(): void {
    this.generation++;
    this.cache.clear();
  }
}
