/**
 * Known answers for the primitives sidekey composes: RFC 5869 HKDF-SHA256
 * (test cases 1–3) and AES-256-GCM (McGrew–Viega, "The Galois/Counter Mode of
 * Operation", test cases 13–16, the 256-bit-key ones), plus the pooled CSPRNG.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aesGcmOpen, aesGcmSeal, hkdfExpand32, hkdfSha256, PooledRandom } from './primitives.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const range = (from: number, to: number) =>
  Buffer.from(Array.from({ length: to - from + 1 }, (_, i) => from + i));

describe('HKDF-SHA256 (RFC 5869 appendix A)', () => {
  const cases = [
    {
      name: 'test case 1',
      ikm: Buffer.alloc(22, 0x0b),
      salt: range(0x00, 0x0c),
      info: range(0xf0, 0xf9),
      length: 42,
      prk: '077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5',
      okm: '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    },
    {
      name: 'test case 2 (longer inputs and output)',
      ikm: range(0x00, 0x4f),
      salt: range(0x60, 0xaf),
      info: range(0xb0, 0xff),
      length: 82,
      prk: '06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244',
      okm:
        'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c' +
        '59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71' +
        'cc30c58179ec3e87c14c01d5c1f3434f1d87',
    },
    {
      name: 'test case 3 (empty salt and info)',
      ikm: Buffer.alloc(22, 0x0b),
      salt: Buffer.alloc(0),
      info: Buffer.alloc(0),
      length: 42,
      prk: '19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04',
      okm: '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(hkdfSha256(c.ikm, c.salt, c.info, c.length).toString('hex'), c.okm);
    });
    it(`${c.name}: hkdfExpand32(PRK, info) is the first 32 bytes of OKM`, () => {
      assert.equal(hkdfExpand32(hex(c.prk), c.info).toString('hex'), c.okm.slice(0, 64));
    });
  }
});

describe('AES-256-GCM (McGrew–Viega test cases 13–16)', () => {
  const K15 = 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308';
  const P15 =
    'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
    '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255';
  const C15 =
    '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa' +
    '8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad';
  const vectors = [
    {
      tc: 13,
      key: '00'.repeat(32),
      iv: '00'.repeat(12),
      p: '',
      a: '',
      c: '',
      t: '530f8afbc74536b9a963b4f1c4cb738b',
    },
    {
      tc: 14,
      key: '00'.repeat(32),
      iv: '00'.repeat(12),
      p: '00'.repeat(16),
      a: '',
      c: 'cea7403d4d606b6e074ec5d3baf39d18',
      t: 'd0d1c8a799996bf0265b98b5d48ab919',
    },
    {
      tc: 15,
      key: K15,
      iv: 'cafebabefacedbaddecaf888',
      p: P15,
      a: '',
      c: C15,
      t: 'b094dac5d93471bdec1a502270e3cc6c',
    },
    {
      tc: 16,
      key: K15,
      iv: 'cafebabefacedbaddecaf888',
      p: P15.slice(0, 120),
      a: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
      c: C15.slice(0, 120),
      t: '76fc6ece0f4e1768cddf8853bb2d551b',
    },
  ];
  for (const v of vectors) {
    it(`test case ${v.tc}: seal`, () => {
      const { ciphertext, tag } = aesGcmSeal(hex(v.key), hex(v.iv), hex(v.p), hex(v.a));
      assert.equal(ciphertext.toString('hex'), v.c);
      assert.equal(tag.toString('hex'), v.t);
    });
    it(`test case ${v.tc}: open, and any flipped bit fails`, () => {
      const [key, iv, c, t, a] = [hex(v.key), hex(v.iv), hex(v.c), hex(v.t), hex(v.a)];
      assert.equal(aesGcmOpen(key, iv, c, t, a)?.toString('hex'), v.p);
      const flip = (buf: Buffer, bit: number) => {
        const out = Buffer.from(buf);
        out[bit >> 3]! ^= 1 << (bit & 7);
        return out;
      };
      for (let bit = 0; bit < c.length * 8; bit += 7) {
        assert.equal(aesGcmOpen(key, iv, flip(c, bit), t, a), undefined, `ciphertext bit ${bit}`);
      }
      for (let bit = 0; bit < t.length * 8; bit++) {
        assert.equal(aesGcmOpen(key, iv, c, flip(t, bit), a), undefined, `tag bit ${bit}`);
      }
      for (let bit = 0; bit < a.length * 8; bit++) {
        assert.equal(aesGcmOpen(key, iv, c, t, flip(a, bit)), undefined, `aad bit ${bit}`);
      }
      // An added AAD byte, a wrong nonce and a truncated tag fail too.
      assert.equal(aesGcmOpen(key, iv, c, t, Buffer.concat([a, Buffer.from([0])])), undefined);
      const iv2 = Buffer.from(iv);
      iv2[11]! ^= 1;
      assert.equal(aesGcmOpen(key, iv2, c, t, a), undefined);
      assert.equal(aesGcmOpen(key, iv, c, t.subarray(0, 12), a), undefined);
    });
  }
});

describe('PooledRandom', () => {
  it('never hands out overlapping bytes, across refills', () => {
    const random = new PooledRandom(64);
    const slices: Buffer[] = [];
    const sizes = [12, 16, 16, 12, 5, 1, 31, 64, 0, 16, 12, 63, 2, 40, 65, 100, 7];
    for (let round = 0; round < 20; round++) for (const n of sizes) slices.push(random.bytes(n));
    for (const [i, s] of slices.entries()) assert.equal(s.length, sizes[i % sizes.length]);
    // No two slices share memory: writing each one's index into it leaves every other intact.
    slices.forEach((s, i) => {
      s.fill(i & 0xff);
    });
    slices.forEach((s, i) => {
      for (const byte of s) assert.equal(byte, i & 0xff, `slice ${i} was overwritten`);
    });
    // Memory ranges inside a shared ArrayBuffer are pairwise disjoint.
    for (let i = 0; i < slices.length; i++) {
      for (let j = i + 1; j < slices.length; j++) {
        const a = slices[i]!;
        const b = slices[j]!;
        if (a.buffer !== b.buffer || a.length === 0 || b.length === 0) continue;
        const disjoint = a.byteOffset + a.length <= b.byteOffset || b.byteOffset + b.length <= a.byteOffset;
        assert.ok(disjoint, `slices ${i} and ${j} overlap`);
      }
    }
  });

  it('a refill does not change bytes handed out earlier', () => {
    const random = new PooledRandom(32);
    const first = random.bytes(30);
    const copy = Buffer.from(first);
    for (let i = 0; i < 50; i++) random.bytes(16);
    assert.deepEqual(first, copy);
  });

  it('looks random: distinct 16-byte draws, all byte values seen', () => {
    const random = new PooledRandom();
    const seen = new Set<string>();
    const values = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const b = random.bytes(16);
      seen.add(b.toString('hex'));
      for (const x of b) values.add(x);
    }
    assert.equal(seen.size, 2000);
    assert.equal(values.size, 256);
  });
});
