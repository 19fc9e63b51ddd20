/**
 * The LRU caches of a sidecar (keys, ORKs, policies, records), bounded by
 * entry count and allocated as they fill (ADR-19, "Memory").
 *
 * lru-cache's `max` allocates its index arrays for `max` entries up front:
 * about 380 KB per cache of 10,000 entries with a TTL, 4 MiB across the
 * eleven caches of a sidecar that may never hold more than a few dozen keys.
 * Bounding by `maxSize` with a size of 1 per entry is the same bound, and
 * the arrays grow with the entries instead.
 */
import { LRUCache } from 'lru-cache';

export type BoundedLruOptions<K extends {}, V extends {}> = Omit<
  LRUCache.Options<K, V, unknown>,
  'max' | 'maxSize' | 'sizeCalculation' | 'maxEntrySize'
> & {
  /** At most this many entries (the least recently used goes first). */
  readonly max: number;
};

export function boundedLru<K extends {}, V extends {}>(options: BoundedLruOptions<K, V>): LRUCache<K, V> {
  const { max, ...rest } = options;
  return new LRUCache<K, V>({ ...rest, maxSize: max, sizeCalculation: one } as LRUCache.Options<
    K,
    V,
    unknown
  >);
}

const one = (): number => 1;
