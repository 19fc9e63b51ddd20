import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TokenRow } from '../store/index.js';
import { cacheable } from './detokenize.js';

describe('cacheable', () => {
  it('copies a pooled envelope into memory of its own, so a cached record pins no pool slab', () => {
    // Small buffers made from strings are slices of Node's shared pool, as drivers hand out byteas.
    const pooled = Buffer.from('01aabbccdd', 'hex');
    assert.ok(pooled.buffer.byteLength > pooled.length, 'the fixture is a pool slice');
    const row: TokenRow = {
      token: 'tok_x',
      tenant: 't',
      field: 'f',
      orkId: 'o',
      tekVersion: 3,
      envelope: pooled,
    };
    const cached = cacheable(row);
    assert.equal(cached.envelope.buffer.byteLength, cached.envelope.length);
    assert.equal(cached.envelope.byteOffset, 0);
    assert.deepEqual(cached.envelope, pooled);
    assert.deepEqual({ ...cached, envelope: undefined }, { ...row, envelope: undefined });
  });
});
