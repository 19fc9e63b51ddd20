import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  isTokenSyntax,
  newOrkId,
  newToken,
  ORK_ID_PATTERN,
  orkIdFromBytes,
  orkIdToBytes,
  TOKEN_PATTERN,
} from './identifiers.js';
import { PooledRandom, type RandomSource } from './primitives.js';

const fixed = (bytes: Buffer): RandomSource => ({ bytes: (n) => bytes.subarray(0, n) });

describe('tokens', () => {
  it('are tok_ ‖ base64url(16 random bytes)', () => {
    const token = newToken(fixed(Buffer.from('b0b1b2b3b4b5b6b7b8b9babbbcbdbebf', 'hex')));
    assert.equal(token, 'tok_sLGys7S1tre4ubq7vL2-vw');
    assert.ok(isTokenSyntax(token));
  });
  it('fresh tokens are valid and distinct', () => {
    const random = new PooledRandom();
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const t = newToken(random);
      assert.match(t, TOKEN_PATTERN);
      assert.ok(isTokenSyntax(t));
      seen.add(t);
    }
    assert.equal(seen.size, 1000);
  });
  it('any 16 bytes make a valid token', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        assert.ok(isTokenSyntax(newToken(fixed(Buffer.from(b)))));
      }),
    );
  });
  it('isTokenSyntax refuses everything else', () => {
    const good = 'tok_sLGys7S1tre4ubq7vL2-vw';
    for (const bad of [
      '',
      'tok_',
      good.slice(0, -1), // 21 characters
      `${good}A`, // 23 characters
      good.replace('tok_', 'TOK_'),
      good.replace('tok_', 'tk_'),
      good.replace('tok_', 'ct_'),
      ` ${good}`,
      `${good}\n`,
      'tok_sLGys7S1tre4ubq7vL2-vx', // non-canonical last character (low bits set)
      'tok_sLGys7S1tre4ubq7vL2+vw', // standard base64 alphabet
      'tok_sLGys7S1tre4ubq7vL2-v=',
    ]) {
      assert.equal(isTokenSyntax(bad), false, JSON.stringify(bad));
    }
  });
});

describe('ORK ids', () => {
  it('are 32 lowercase hex characters of 16 random bytes', () => {
    const id = newOrkId(fixed(Buffer.from('a0a1a2a3a4a5a6a7a8a9aaabacadaeaf', 'hex')));
    assert.equal(id, 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf');
    assert.match(newOrkId(new PooledRandom()), ORK_ID_PATTERN);
  });
  it('round-trip between text and bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        const id = orkIdFromBytes(b);
        assert.match(id, ORK_ID_PATTERN);
        assert.deepEqual(orkIdToBytes(id), Buffer.from(b));
      }),
    );
  });
  it('orkIdToBytes refuses malformed ids', () => {
    for (const bad of [
      '',
      'a0',
      'A0A1A2A3A4A5A6A7A8A9AAABACADAEAF',
      'a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0',
      'g0a1a2a3a4a5a6a7a8a9aaabacadaeaf',
    ]) {
      assert.throws(() => orkIdToBytes(bad), RangeError, bad);
    }
  });
});
