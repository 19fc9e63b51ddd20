import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalContext, fromBase64Url, lengthPrefixed, toBase64Url, u32be } from './encoding.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('lengthPrefixed', () => {
  it('is u16be(byte length) ‖ bytes, strings as UTF-8', () => {
    assert.equal(hex(lengthPrefixed('')), '0000');
    assert.equal(hex(lengthPrefixed('abc')), '0003616263');
    assert.equal(hex(lengthPrefixed('é')), '0002c3a9');
    assert.equal(hex(lengthPrefixed('😀')), '0004f09f9880');
    assert.equal(hex(lengthPrefixed(Buffer.from([0, 1, 2]))), '0003000102');
  });
  it('takes exactly 65535 bytes and refuses 65536', () => {
    const max = lengthPrefixed(Buffer.alloc(0xffff, 7));
    assert.equal(max.length, 0xffff + 2);
    assert.equal(hex(max.subarray(0, 2)), 'ffff');
    assert.throws(() => lengthPrefixed(Buffer.alloc(0x10000)), RangeError);
    assert.throws(() => lengthPrefixed('x'.repeat(0x10000)), RangeError);
  });
  it('respects the view of a subarray', () => {
    const big = Buffer.from([9, 9, 1, 2, 9]);
    assert.equal(hex(lengthPrefixed(big.subarray(2, 4))), '00020102');
  });
});

describe('u32be', () => {
  it('encodes big-endian and refuses anything not a u32', () => {
    assert.equal(hex(u32be(0)), '00000000');
    assert.equal(hex(u32be(1)), '00000001');
    assert.equal(hex(u32be(0x01020304)), '01020304');
    assert.equal(hex(u32be(0xffffffff)), 'ffffffff');
    for (const bad of [-1, 0x100000000, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => u32be(bad), RangeError, String(bad));
    }
  });
});

describe('canonicalContext', () => {
  it('is u16 count ‖ (lp(key) ‖ lp(value)) in ascending key order', () => {
    const expected =
      '0003' +
      '0007707572706f7365' +
      '000374656b' +
      '000674656e616e74' +
      '000461636d65' +
      '000776657273696f6e' +
      '000131';
    assert.equal(hex(canonicalContext({ purpose: 'tek', tenant: 'acme', version: '1' })), expected);
    // Insertion order does not matter.
    assert.equal(hex(canonicalContext({ version: '1', tenant: 'acme', purpose: 'tek' })), expected);
  });
  it('orders keys by code unit, upper case before lower case', () => {
    assert.equal(
      hex(canonicalContext({ b: '', B: '', a: '' })),
      '0003' + '00014200' + '00' + '0001610000' + '0001620000',
    );
  });
  it('empty context is 0000', () => {
    assert.equal(hex(canonicalContext({})), '0000');
  });
  it('is injective: a value cannot spill into the next key', () => {
    assert.notDeepEqual(canonicalContext({ a: 'bc', d: '' }), canonicalContext({ a: 'b', cd: '' }));
  });
});

describe('base64url', () => {
  it('encodes without padding and respects subarray views', () => {
    assert.equal(toBase64Url(Buffer.from([0xfb, 0xff])), '-_8');
    assert.equal(toBase64Url(Buffer.from([1, 2, 3, 0xfb, 0xff]).subarray(3)), '-_8');
    assert.equal(toBase64Url(new Uint8Array(0)), '');
  });
  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        assert.deepEqual(fromBase64Url(toBase64Url(bytes)), Buffer.from(bytes));
      }),
    );
  });
  it('rejects padding, other alphabets, bad lengths and non-canonical text', () => {
    for (const bad of [
      'AQ==', // padded
      'AQ=',
      'A+8', // standard-base64 characters
      'A/8',
      'AQ A', // whitespace
      'AQ\n',
      'A', // length ≡ 1 mod 4
      'AAAAA',
      'AR', // non-canonical: stray low bits in the last character
      'AAB',
      'AQJ', // 'AQI' is the canonical text of 01 02
      'é',
    ]) {
      assert.equal(fromBase64Url(bad), undefined, JSON.stringify(bad));
    }
    assert.deepEqual(fromBase64Url('AQI'), Buffer.from([1, 2]));
    assert.deepEqual(fromBase64Url('AQ'), Buffer.from([1]));
    assert.deepEqual(fromBase64Url(''), Buffer.alloc(0));
  });
  it('accepts only the one text each byte string encodes to', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom(
            ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/'.split(''),
          ),
          maxLength: 24,
        }),
        (text) => {
          const bytes = fromBase64Url(text);
          if (bytes !== undefined) assert.equal(toBase64Url(bytes), text);
        },
      ),
    );
  });
});
