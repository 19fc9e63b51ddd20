import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectiveTtl, expiresAtOf, isExpired, isValidTtl } from './expiry.js';
import { MAX_TTL_SECONDS } from './policy.js';

describe('token expiry rules', () => {
  it('the request TTL wins only when shorter than the policy TTL', () => {
    assert.equal(effectiveTtl(null, undefined), null);
    assert.equal(effectiveTtl(3600, undefined), 3600);
    assert.equal(effectiveTtl(null, 60), 60);
    assert.equal(effectiveTtl(3600, 60), 60);
    assert.equal(effectiveTtl(60, 3600), 60);
  });

  it('readable before expiresAt, expired at it and after (the boundary is expired)', () => {
    const now = Date.UTC(2030, 0, 1);
    const at = expiresAtOf(90, now);
    assert.equal(at?.getTime(), now + 90_000);
    assert.equal(isExpired(at, now + 89_999), false);
    assert.equal(isExpired(at, now + 90_000), true);
    assert.equal(isExpired(at, now + 90_001), true);
    assert.equal(expiresAtOf(null, now), null);
    assert.equal(isExpired(null, Number.MAX_SAFE_INTEGER), false);
    assert.equal(isExpired(undefined, Number.MAX_SAFE_INTEGER), false);
  });

  it('a request TTL is a whole number of seconds from 1 to ten years', () => {
    for (const ok of [1, 60, MAX_TTL_SECONDS]) assert.ok(isValidTtl(ok), String(ok));
    for (const bad of [
      0,
      -1,
      1.5,
      MAX_TTL_SECONDS + 1,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      '60',
      true,
      null,
    ])
      assert.ok(!isValidTtl(bad), String(bad));
  });
});
