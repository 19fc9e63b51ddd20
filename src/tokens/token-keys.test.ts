import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fpeTransform } from './fpe-cipher.js';
import {
  deriveTokenKey,
  deterministicToken,
  fieldKey,
  fpeStorageId,
  LINEAGE_SEAL_BYTES,
  lineageSecret,
  rootLineageSecret,
  sealLineage,
} from './token-keys.js';

const TRK = Buffer.alloc(32, 0x11);
const ORK = Buffer.alloc(32, 0x22);
const ROTATED_ORK = Buffer.alloc(32, 0x33);
const ROTATED_ID = '0123456789abcdef0123456789abcdef';
const fixed = (byte: number) => ({ bytes: (n: number) => Buffer.alloc(n, byte) });

describe('token keys (docs/formats.md "Token kinds": pinned vector)', () => {
  it('derives S, K_tok, a deterministic token, an fpe token and its storage id exactly as documented', () => {
    // Also computed by an independent implementation (Python hmac/hashlib)
    // from the formulas in docs/formats.md before being pinned here.
    const s = rootLineageSecret(ORK, 'acme');
    assert.equal(s.toString('hex'), '4908f413a40fb6abdfa13a29c185954f4985fed62306fa24282b03a6060d3a5d');
    const k = deriveTokenKey(TRK, s, 'acme');
    assert.equal(k.toString('hex'), '08fae1dbd2e2b24d99fff7c07e231ce5c88191dd5f17c32af06d12594f1731a4');
    assert.equal(
      deterministicToken(fieldKey(k, 'det', 'email'), 'alice@example.com'),
      'tok_5sEn7kR_6ukg_obYspUlKQ',
    );
    const fpe = fpeTransform(
      fieldKey(k, 'fpe', 'card'),
      'acme',
      'card',
      { alphabet: 'digits', keepPrefix: 6, keepSuffix: 4 },
      '4111-1111-1111-1111',
    );
    assert.deepEqual(fpe, { token: '4111-1142-1100-1111' });
    assert.equal(
      fpeStorageId(fieldKey(k, 'fpe-id', 'card'), '4111-1142-1100-1111'),
      'fpe_KvcTPPIyPO3nHrLSdLVe6Q',
    );
  });

  it('seals the lineage secret for a rotated ORK byte for byte, and only that ORK opens it', () => {
    const s = rootLineageSecret(ORK, 'acme');
    const seal = sealLineage(ROTATED_ORK, 'acme', ROTATED_ID, s, fixed(0x44));
    assert.equal(seal.length, LINEAGE_SEAL_BYTES);
    assert.equal(
      seal.toString('hex'),
      '01444444444444444444444444fec190b8bd682c417aa604295273d25c1428c3ec801141dcec190f880a10025ddcc90ba8a26c0a17b8827967eecbb640',
    );
    assert.deepEqual(lineageSecret(ROTATED_ORK, 'acme', ROTATED_ID, seal), s);
    // The rotated ORK therefore derives the same K_tok as the one it replaced.
    assert.deepEqual(
      deriveTokenKey(TRK, lineageSecret(ROTATED_ORK, 'acme', ROTATED_ID, seal)!, 'acme'),
      deriveTokenKey(TRK, s, 'acme'),
    );
    assert.equal(lineageSecret(ORK, 'acme', ROTATED_ID, seal), undefined, 'another ORK');
    assert.equal(
      lineageSecret(ROTATED_ORK, 'acme', 'ffffffffffffffffffffffffffffffff', seal),
      undefined,
      'another id',
    );
    assert.equal(lineageSecret(ROTATED_ORK, 'other', ROTATED_ID, seal), undefined, 'another tenant');
    const tampered = Buffer.from(seal);
    tampered[20]! ^= 1;
    assert.equal(lineageSecret(ROTATED_ORK, 'acme', ROTATED_ID, tampered), undefined, 'tampered');
    assert.equal(lineageSecret(ROTATED_ORK, 'acme', ROTATED_ID, seal.subarray(1)), undefined, 'truncated');
  });

  it('a root ORK without a seal is its own lineage; two organisations get different keys', () => {
    assert.deepEqual(lineageSecret(ORK, 'acme', ROTATED_ID, null), rootLineageSecret(ORK, 'acme'));
    const a = deriveTokenKey(TRK, rootLineageSecret(ORK, 'acme'), 'acme');
    const b = deriveTokenKey(TRK, rootLineageSecret(ROTATED_ORK, 'acme'), 'acme');
    assert.notDeepEqual(a, b);
  });
});

describe('deterministic tokens (properties)', () => {
  const key = (org: number) => deriveTokenKey(TRK, rootLineageSecret(Buffer.alloc(32, org), 'acme'), 'acme');

  it('same organisation and field: same token; another organisation or field: another token', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.string({ maxLength: 40 }),
        (value, other) => {
          const k1 = fieldKey(key(1), 'det', 'email');
          const t = deterministicToken(k1, value);
          assert.match(t, /^tok_[A-Za-z0-9_-]{22}$/);
          assert.equal(deterministicToken(fieldKey(key(1), 'det', 'email'), value), t);
          assert.notEqual(deterministicToken(fieldKey(key(2), 'det', 'email'), value), t);
          assert.notEqual(deterministicToken(fieldKey(key(1), 'det', 'phone'), value), t);
          if (other !== value) assert.notEqual(deterministicToken(k1, other), t);
        },
      ),
    );
  });
});
