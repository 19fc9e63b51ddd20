import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyChange,
  defaultPolicy,
  MAX_TTL_SECONDS,
  PolicyError,
  parseTtl,
  sameFpeFormat,
} from './policy.js';

const base = defaultPolicy('acme', 'card');

describe('field policies', () => {
  it('a new policy starts from random, redact, no TTL; unspecified options keep their value', () => {
    assert.deepEqual(applyChange(base, {}), base);
    const det = applyChange(base, { kind: 'deterministic', ttl: '90d' });
    assert.equal(det.kind, 'deterministic');
    assert.equal(det.mask, 'redact');
    assert.equal(det.ttlSeconds, 90 * 86_400);
    const masked = applyChange(det, { mask: 'last4' });
    assert.equal(masked.kind, 'deterministic');
    assert.equal(masked.ttlSeconds, 90 * 86_400);
  });

  it('fpe gets digits by default and keeps its format options', () => {
    const fpe = applyChange(base, { kind: 'fpe', keepPrefix: '6', keepSuffix: '4' });
    assert.deepEqual([fpe.alphabet, fpe.keepPrefix, fpe.keepSuffix], ['digits', 6, 4]);
    assert.ok(sameFpeFormat(fpe, applyChange(fpe, { mask: 'first6last4' })));
    assert.ok(!sameFpeFormat(fpe, applyChange(fpe, { keepPrefix: '4' })));
  });

  it('refuses bad input with one line each', () => {
    const bad: [object, RegExp][] = [
      [{ kind: 'random-ish' }, /--kind must be one of random, deterministic, fpe/],
      [{ kind: 'fpe', alphabet: 'a' }, /at least 2 characters/],
      [{ kind: 'fpe', alphabet: 'abca' }, /must not repeat/],
      [{ kind: 'fpe', keepPrefix: '200', keepSuffix: '60' }, /too few characters to encrypt/],
      [{ kind: 'fpe', keepPrefix: '-1' }, /--keep-prefix must be a whole number/],
      [{ kind: 'fpe', keepSuffix: '1.5' }, /--keep-suffix must be a whole number/],
      [{ kind: 'deterministic', alphabet: 'digits' }, /apply to --kind fpe only/],
      [{ mask: 'stars' }, /--mask must be one of last4, first6last4, email, redact/],
      [{ ttl: '0d' }, /--ttl must be like/],
      [{ ttl: '90 days' }, /--ttl must be like/],
      [{ ttl: '3651d' }, /--ttl is at most 3650d/],
    ];
    for (const [change, message] of bad) {
      assert.throws(
        () => applyChange(base, change),
        (err: unknown) => err instanceof PolicyError && message.test(err.message),
        JSON.stringify(change),
      );
    }
  });

  it('TTLs: units, none, the ten-year maximum', () => {
    assert.equal(parseTtl('45s'), 45);
    assert.equal(parseTtl('30m'), 1800);
    assert.equal(parseTtl('12h'), 43_200);
    assert.equal(parseTtl('none'), null);
    assert.equal(parseTtl('3650d'), MAX_TTL_SECONDS);
  });
});
