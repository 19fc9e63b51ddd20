import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundedLru } from './lru.js';

describe('boundedLru', () => {
  it('holds at most max entries, evicting the least recently used (and disposing of it)', () => {
    const disposed: string[] = [];
    const cache = boundedLru<string, string>({ max: 3, dispose: (_v, k) => disposed.push(k) });
    for (const k of ['a', 'b', 'c']) cache.set(k, k.toUpperCase());
    assert.equal(cache.get('a'), 'A'); // a is now the most recently used
    cache.set('d', 'D');
    assert.equal(cache.size, 3);
    assert.deepEqual([...cache.keys()].sort(), ['a', 'c', 'd']);
    assert.deepEqual(disposed, ['b']);
    for (let i = 0; i < 1000; i++) cache.set(`k${i}`, 'v');
    assert.equal(cache.size, 3, 'the bound holds however many entries pass through');
  });

  it('is bounded by maxSize (one per entry), not by the preallocating max', () => {
    const cache = boundedLru<string, string>({ max: 10_000, ttl: 60_000 });
    assert.equal(cache.max, 0, 'no preallocating max');
    assert.equal(cache.maxSize, 10_000);
    cache.set('k', 'v');
    assert.equal(cache.get('k'), 'v');
    assert.equal(cache.calculatedSize, 1);
  });
});
