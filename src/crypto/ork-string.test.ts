import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fromBase64Url, toBase64Url } from './encoding.js';
import { decodeOrkString, encodeOrkString, ORK_STRING_MAX_CHARS, type OrkStringParts } from './ork-string.js';

/** The worked example of docs/formats.md §13. */
const EXAMPLE: OrkStringParts = {
  tenant: 'acme',
  orkId: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf',
  kekRef: 'local:bf04ac13e1efc460',
  wrapped: Buffer.from(
    '01d0d1d2d3d4d5d6d7d8d9dadbffedf4f4d272c374d96200a48c60cb559c90ee8570140cdce47bb877bb73f8443b4ac7d7e0678c896e87866928fefd85',
    'hex',
  ),
};
const EXAMPLE_STRING =
  'sk_ork_AQRhY21loKGio6SlpqeoqaqrrK2urxZsb2NhbDpiZjA0YWMxM2UxZWZjNDYwAD0B0NHS09TV1tfY2drb_-309NJyw3TZYgCkjGDLVZyQ7oVwFAzc5Hu4d7tz-EQ7SsfX4GeMiW6Hhmko_v2F';
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const payloadOf = (s: string) => fromBase64Url(s.slice('sk_ork_'.length))!;
const withPayload = (p: Buffer) => `sk_ork_${toBase64Url(p)}`;

describe('ORK string', () => {
  it('pinned: encodes the fixed parts byte for byte (docs/formats.md §13)', () => {
    assert.equal(encodeOrkString(EXAMPLE), EXAMPLE_STRING);
    assert.equal(
      payloadOf(EXAMPLE_STRING).toString('hex'),
      '01' +
        '04' +
        '61636d65' +
        'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf' +
        '16' +
        Buffer.from('local:bf04ac13e1efc460').toString('hex') +
        '003d' +
        EXAMPLE.wrapped.toString('hex'),
    );
    assert.deepEqual(decodeOrkString(EXAMPLE_STRING), EXAMPLE);
  });

  it('round-trips arbitrary parts', () => {
    const parts = fc.record({
      tenant: fc
        .string({ minLength: 1, maxLength: 60 })
        .filter((s) => Buffer.byteLength(s) <= 255 && s.isWellFormed()),
      orkId: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex')),
      kekRef: fc
        .string({ minLength: 1, maxLength: 80 })
        .filter((s) => Buffer.byteLength(s) <= 255 && s.isWellFormed()),
      wrapped: fc.uint8Array({ minLength: 1, maxLength: 1500 }).map((b) => Buffer.from(b)),
    });
    fc.assert(
      fc.property(parts, (p) => {
        assert.deepEqual(decodeOrkString(encodeOrkString(p)), { ...p });
      }),
    );
  });

  it('refuses fields too long to encode', () => {
    assert.throws(() => encodeOrkString({ ...EXAMPLE, tenant: 'x'.repeat(256) }), RangeError);
    assert.throws(() => encodeOrkString({ ...EXAMPLE, kekRef: 'x'.repeat(256) }), RangeError);
    assert.throws(() => encodeOrkString({ ...EXAMPLE, wrapped: Buffer.alloc(0x10000) }), RangeError);
    assert.throws(
      () => encodeOrkString({ ...EXAMPLE, orkId: 'A0A1A2A3A4A5A6A7A8A9AAABACADAEAF' }),
      RangeError,
    );
  });

  it('rejects every truncation of the text', () => {
    for (let k = 0; k < EXAMPLE_STRING.length; k++) {
      assert.equal(decodeOrkString(EXAMPLE_STRING.slice(0, k)), undefined, `first ${k} characters`);
    }
  });

  it('rejects every truncation and extension of the payload', () => {
    const payload = payloadOf(EXAMPLE_STRING);
    for (let k = 0; k < payload.length; k++) {
      assert.equal(decodeOrkString(withPayload(payload.subarray(0, k))), undefined, `first ${k} bytes`);
    }
    for (let extra = 1; extra <= 8; extra++) {
      for (const fill of [0x00, 0x01, 0xff]) {
        const longer = Buffer.concat([payload, Buffer.alloc(extra, fill)]);
        assert.equal(decodeOrkString(withPayload(longer)), undefined, `${extra} extra bytes ${fill}`);
      }
    }
  });

  it('rejects every one- to four-character extension of the text', () => {
    for (const c of `${ALPHABET}=. \n`) {
      for (let n = 1; n <= 4; n++) {
        assert.equal(decodeOrkString(EXAMPLE_STRING + c.repeat(n)), undefined, JSON.stringify(c.repeat(n)));
      }
    }
  });

  it('rejects any corruption of the prefix', () => {
    const body = EXAMPLE_STRING.slice('sk_ork_'.length);
    assert.equal(decodeOrkString(body), undefined);
    assert.equal(decodeOrkString(`sk_ork_sk_ork_${body}`), undefined);
    assert.equal(decodeOrkString(` ${EXAMPLE_STRING}`), undefined);
    for (let i = 0; i < 'sk_ork_'.length; i++) {
      for (const c of ['', 'S', 'K', 'x', '-', '_', 'O', 'R']) {
        const prefix = 'sk_ork_';
        if (c === prefix[i]) continue;
        const text = prefix.slice(0, i) + c + prefix.slice(i + 1) + body;
        assert.equal(decodeOrkString(text), undefined, JSON.stringify(text.slice(0, 8)));
      }
    }
  });

  it('rejects another format byte, an empty wrapped key, and non-canonical text', () => {
    const payload = payloadOf(EXAMPLE_STRING);
    for (const version of [0x00, 0x02, 0xff]) {
      const p = Buffer.from(payload);
      p[0] = version;
      assert.equal(decodeOrkString(withPayload(p)), undefined, `format ${version}`);
    }
    const empty = Buffer.concat([
      payload.subarray(0, payload.length - EXAMPLE.wrapped.length - 2),
      Buffer.from([0, 0]),
    ]);
    assert.equal(decodeOrkString(withPayload(empty)), undefined);
    // A 107-byte payload (107 mod 3 = 2): its last character carries 2 unused bits, which must be zero.
    const odd = encodeOrkString({ ...EXAMPLE, wrapped: EXAMPLE.wrapped.subarray(0, 60) });
    assert.notEqual(decodeOrkString(odd), undefined);
    const last = odd.at(-1)!;
    const sibling = ALPHABET[ALPHABET.indexOf(last) + 1]!;
    assert.equal(decodeOrkString(odd.slice(0, -1) + sibling), undefined);
    assert.equal(decodeOrkString(`${EXAMPLE_STRING}==`), undefined);
  });

  it('takes tenant and KEK reference as strict UTF-8: invalid bytes refused, a leading U+FEFF kept', () => {
    const withBom = encodeOrkString({ ...EXAMPLE, tenant: '\ufeffacme', kekRef: '\ufefflocal:x' });
    assert.equal(decodeOrkString(withBom)?.tenant, '\ufeffacme', 'not the tenant acme');
    assert.equal(decodeOrkString(withBom)?.kekRef, '\ufefflocal:x');
    const payload = payloadOf(EXAMPLE_STRING);
    for (const bad of [0x80, 0xc0, 0xff]) {
      const p = Buffer.from(payload);
      p[2] = bad; // the first byte of the tenant
      assert.equal(decodeOrkString(withPayload(p)), undefined, `tenant byte ${bad}`);
      const q = Buffer.from(payload);
      q[1 + 1 + 4 + 16 + 1] = bad; // the first byte of the KEK reference
      assert.equal(decodeOrkString(withPayload(q)), undefined, `kekRef byte ${bad}`);
    }
  });

  it('rejects length fields that point past the end', () => {
    const payload = payloadOf(EXAMPLE_STRING);
    for (const at of [1, 1 + 1 + 4 + 16]) {
      for (const len of [0xff, 0xfe, payload.length]) {
        const p = Buffer.from(payload);
        p[at] = len & 0xff;
        assert.equal(decodeOrkString(withPayload(p)), undefined, `byte ${at} = ${len}`);
      }
    }
    const p = Buffer.from(payload);
    p.writeUInt16BE(0xffff, payload.length - EXAMPLE.wrapped.length - 2);
    assert.equal(decodeOrkString(withPayload(p)), undefined);
  });

  it('refuses text longer than the limit without parsing it', () => {
    const long = encodeOrkString({ ...EXAMPLE, wrapped: Buffer.alloc(3100, 1) });
    assert.ok(long.length > ORK_STRING_MAX_CHARS);
    assert.equal(decodeOrkString(long), undefined);
  });
});
