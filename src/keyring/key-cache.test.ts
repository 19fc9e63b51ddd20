import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyCache } from './key-cache.js';

describe('KeyCache', () => {
  it('shares one load between concurrent misses', async () => {
    const cache = new KeyCache<string>({ max: 10, ttlMs: 60_000 });
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((r) => setTimeout(r, 5));
      return { key: Buffer.alloc(32, 7), meta: 'm' };
    };
    const copies = await Promise.all(Array.from({ length: 20 }, () => cache.copy('k', load)));
    assert.equal(loads, 1);
    for (const c of copies) assert.deepEqual(c.key, Buffer.alloc(32, 7));
  });

  it('hands out copies: zeroing one does not touch the cached key', async () => {
    const cache = new KeyCache<string>({ max: 10, ttlMs: 60_000 });
    const a = await cache.copy('k', async () => ({ key: Buffer.alloc(32, 1), meta: 'm' }));
    a.key.fill(0);
    const b = await cache.copy('k', async () => assert.fail('must be cached'));
    assert.deepEqual(b.key, Buffer.alloc(32, 1));
  });

  it('zeroes keys on eviction, deletion and clear', async () => {
    const cache = new KeyCache<string>({ max: 1, ttlMs: 60_000 });
    const first = Buffer.alloc(32, 1);
    cache.set('a', first, 'a');
    const second = Buffer.alloc(32, 2);
    cache.set('b', second, 'b');
    assert.deepEqual(first, Buffer.alloc(32), 'evicted key zeroed');
    cache.delete('b');
    assert.deepEqual(second, Buffer.alloc(32), 'deleted key zeroed');
    const third = Buffer.alloc(32, 3);
    cache.set('c', third, 'c');
    cache.clear();
    assert.deepEqual(third, Buffer.alloc(32), 'cleared key zeroed');
    assert.equal(cache.size, 0);
  });

  it('does not cache a failed load', async () => {
    const cache = new KeyCache<string>({ max: 10, ttlMs: 60_000 });
    await assert.rejects(
      cache.copy('k', async () => Promise.reject(new Error('kms down'))),
      /kms down/,
    );
    const ok = await cache.copy('k', async () => ({ key: Buffer.alloc(32, 4), meta: 'm' }));
    assert.equal(ok.key[0], 4);
  });

  it('expires entries after their TTL and zeroes them', async () => {
    const cache = new KeyCache<string>({ max: 10, ttlMs: 20 });
    const key = Buffer.alloc(32, 9);
    cache.set('k', key, 'm');
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(cache.peek('k'), undefined);
    assert.deepEqual(key, Buffer.alloc(32));
  });

  it('deleteWhere drops matching entries only', () => {
    const cache = new KeyCache<{ tenant: string }>({ max: 10, ttlMs: 60_000 });
    cache.set('1', Buffer.alloc(32, 1), { tenant: 'a' });
    cache.set('2', Buffer.alloc(32, 2), { tenant: 'b' });
    cache.deleteWhere((m) => m.tenant === 'a');
    assert.equal(cache.peek('1'), undefined);
    assert.ok(cache.peek('2'));
  });
});
