import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FF1 } from '@noble/ciphers/ff1.js';
import fc from 'fast-check';
import { alphabetChars, formatProblem, MAX_FPE_CHARS, minEncryptedChars, NAMED_ALPHABETS } from './fpe.js';
import { fpeTransform } from './fpe-cipher.js';

const hex = (h: string) => Buffer.from(h.replace(/\s/g, ''), 'hex');
const numerals = (s: string, alphabet: string) => Array.from(s).map((c) => alphabet.indexOf(c));
const text = (n: number[], alphabet: string) => n.map((i) => alphabet[i]).join('');
const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz';

describe('FF1 (NIST SP 800-38G sample vectors, AES-256) as sidekey calls @noble/ciphers', () => {
  const key = hex('2B7E151628AED2A6ABF7158809CF4F3C EF4359D8D580AA4F7F036D6F04FC6A94');
  const samples = [
    { name: 'sample 7', radix: 10, tweak: '', pt: '0123456789', ct: '6657667009' },
    { name: 'sample 8', radix: 10, tweak: '39383736353433323130', pt: '0123456789', ct: '1001623463' },
    {
      name: 'sample 9',
      radix: 36,
      tweak: '3737373770717273373737',
      pt: '0123456789abcdefghi',
      ct: 'xs8a0azh2avyalyzuwd',
    },
  ];
  for (const s of samples) {
    it(`${s.name}: encrypts and decrypts to the published values`, () => {
      const cipher = FF1(s.radix, key, hex(s.tweak));
      assert.equal(text(cipher.encrypt(numerals(s.pt, BASE36)), BASE36), s.ct);
      assert.equal(text(cipher.decrypt(numerals(s.ct, BASE36)), BASE36), s.pt);
    });
  }
});

const KEY = Buffer.alloc(32, 7);
const CARD = { alphabet: 'digits', keepPrefix: 6, keepSuffix: 4 };

describe('fpe tokens', () => {
  it('keep the card layout: BIN and last four in clear, separators in place, digits only', () => {
    const out = fpeTransform(KEY, 'acme', 'card', CARD, '4111 1111 1111 1111');
    assert.ok('token' in out);
    assert.match(out.token, /^4111 11\d\d \d\d\d\d 1111$/);
    assert.notEqual(out.token, '4111 1111 1111 1111');
  });

  it('typical policies: phone (digits), US SSN (digits), an alphanumeric account id', () => {
    const phone = fpeTransform(
      KEY,
      'acme',
      'phone',
      { alphabet: 'digits', keepPrefix: 2, keepSuffix: 0 },
      '+1 (415) 555-0132',
    );
    assert.ok('token' in phone);
    assert.match(phone.token, /^\+1 \(4\d\d\) \d\d\d-\d\d\d\d$/);
    const ssn = fpeTransform(
      KEY,
      'acme',
      'ssn',
      { alphabet: 'digits', keepPrefix: 0, keepSuffix: 0 },
      '078-05-1120',
    );
    assert.ok('token' in ssn);
    assert.match(ssn.token, /^\d\d\d-\d\d-\d\d\d\d$/);
    const account = fpeTransform(
      KEY,
      'acme',
      'account',
      { alphabet: 'alnum', keepPrefix: 0, keepSuffix: 0 },
      'AC-7f3K9q',
    );
    assert.ok('token' in account);
    assert.match(account.token, /^[0-9A-Za-z]{2}-[0-9A-Za-z]{6}$/);
  });

  it('refuses values without an alphabet character, too short for the domain rule, or too long', () => {
    assert.deepEqual(fpeTransform(KEY, 'a', 'f', CARD, '--- ---'), { refused: 'no-alphabet-chars' });
    // 6 + 4 kept of 15 digits leaves 5: 10^5 < 10^6.
    assert.deepEqual(fpeTransform(KEY, 'a', 'f', CARD, '411111111111111'), { refused: 'domain-too-small' });
    assert.ok('token' in fpeTransform(KEY, 'a', 'f', CARD, '4111111111111111'));
    assert.deepEqual(fpeTransform(KEY, 'a', 'f', { ...CARD, keepPrefix: 0, keepSuffix: 0 }, '12345'), {
      refused: 'domain-too-small',
    });
    assert.deepEqual(fpeTransform(KEY, 'a', 'f', CARD, '1'.repeat(MAX_FPE_CHARS + 1)), {
      refused: 'too-long',
    });
  });

  it('alphabets and formats: at least 2 distinct characters, room for the domain rule', () => {
    assert.equal(typeof alphabetChars('a'), 'string');
    assert.equal(typeof alphabetChars('abca'), 'string');
    assert.deepEqual(alphabetChars('digits'), Array.from(NAMED_ALPHABETS.digits!));
    assert.equal(minEncryptedChars(10), 6);
    assert.equal(minEncryptedChars(62), 4);
    assert.equal(minEncryptedChars(2), 20);
    assert.equal(formatProblem(CARD), undefined);
    assert.match(formatProblem({ alphabet: 'digits', keepPrefix: 200, keepSuffix: 60 }) ?? '', /too few/);
  });

  const alphabets = fc.constantFrom('digits', 'alnum', 'abcdef', 'αβγδεζηθ');
  const value = (alphabet: string) =>
    fc
      .array(
        fc.oneof(
          fc.constantFrom(...Array.from(NAMED_ALPHABETS[alphabet] ?? alphabet)),
          fc.constantFrom('-', ' ', '@', '.', '/'),
        ),
        {
          minLength: 1,
          maxLength: 40,
        },
      )
      .map((cs) => cs.join(''));

  it('properties: length, alphabet, separators and kept characters preserved; round trip; domain rule', () => {
    fc.assert(
      fc.property(
        alphabets.chain((a) => fc.tuple(fc.constant(a), value(a), fc.nat(4), fc.nat(4))),
        ([alphabet, v, keepPrefix, keepSuffix]) => {
          const format = { alphabet, keepPrefix, keepSuffix };
          const chars = alphabetChars(alphabet) as string[];
          const inAlphabet = Array.from(v).filter((c) => chars.includes(c)).length;
          const middle = inAlphabet - keepPrefix - keepSuffix;
          const out = fpeTransform(KEY, 'acme', 'f', format, v);
          const allowed =
            inAlphabet > 0 && middle > 0 && BigInt(chars.length) ** BigInt(middle) >= 1_000_000n;
          assert.equal('token' in out, allowed);
          if (!('token' in out)) return;
          const a = Array.from(v);
          const b = Array.from(out.token);
          assert.equal(b.length, a.length);
          let seen = 0;
          for (let i = 0; i < a.length; i++) {
            if (!chars.includes(a[i]!)) assert.equal(b[i], a[i], 'separator moved');
            else {
              assert.ok(chars.includes(b[i]!), 'left the alphabet');
              if (seen < keepPrefix || seen >= inAlphabet - keepSuffix)
                assert.equal(b[i], a[i], 'kept character changed');
              seen++;
            }
          }
          assert.deepEqual(fpeTransform(KEY, 'acme', 'f', format, out.token, 'decrypt'), { token: v });
          assert.deepEqual(fpeTransform(KEY, 'acme', 'f', format, v), out, 'deterministic');
        },
      ),
    );
  });

  it('the tweak binds tenant and field: the same card differs between them', () => {
    const v = '4111111111111111111';
    const t = (tenant: string, field: string) =>
      (fpeTransform(KEY, tenant, field, CARD, v) as { token: string }).token;
    assert.notEqual(t('acme', 'card'), t('other', 'card'));
    assert.notEqual(t('acme', 'card'), t('acme', 'card2'));
  });
});
