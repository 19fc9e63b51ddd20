/**
 * Data subjects' formats pinned (docs/formats.md §18.4): FDK_s, a subject's
 * record envelope and standalone ciphertext (format 0x03), K_det_s and a
 * subject's deterministic token, and the local-KEK wrap of a subject key.
 * The vector was computed first by an independent implementation (Python
 * hmac/hashlib and `cryptography`'s AES-GCM) from the formats document.
 * Then the bindings: another key id, subject key, version, ORK id or
 * context, and any flipped byte, make opening fail.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kmsContext, LocalKek } from '../kms/index.js';
import { deriveTokenKey, MINTERS, rootLineageSecret } from '../tokens/index.js';
import { toBase64Url } from './encoding.js';
import { openRecord, type RecordBinding, sealRecord } from './envelope.js';
import { deriveFdk } from './keys.js';
import type { RandomSource } from './primitives.js';
import {
  newSubjectKeyId,
  openSubjectCiphertext,
  readSubjectCiphertextHeader,
  SUBJECT_PATTERN,
  type SubjectCiphertextBinding,
  sealSubjectCiphertext,
  subjectFdk,
} from './subject.js';

function counterRandom(start = 0): RandomSource {
  let next = start;
  return {
    bytes(n) {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i++) out[i] = (next + i) & 0xff;
      next += n;
      return out;
    },
  };
}
const seq = (start: number, n: number) => counterRandom(start).bytes(n);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// docs/formats.md §13 and §18.4.
const KEK = seq(0x40, 32);
const FDK = deriveFdk(seq(0x00, 32), seq(0x20, 32), 'acme', 'email', 1);
const SUBJECT_KEY = Buffer.alloc(32, 0x55);
const KEY_ID = '5a'.repeat(16);
const ORK_ID = 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf';
const VALUE = Buffer.from('alice@example.com', 'utf8');
const RECORD: RecordBinding = {
  token: 'tok_sLGys7S1tre4ubq7vL2-vw',
  tenant: 'acme',
  field: 'email',
  tekVersion: 1,
  orkId: ORK_ID,
};
const CT: SubjectCiphertextBinding = {
  tenant: 'acme',
  field: 'email',
  tekVersion: 1,
  orkId: ORK_ID,
  context: 'order:42',
  subjectKeyId: KEY_ID,
};

describe('data subject formats (pinned)', () => {
  const fdkS = subjectFdk(FDK, SUBJECT_KEY, 'acme', KEY_ID);

  it('FDK_s', () => {
    assert.equal(hex(fdkS), 'ac5f1a002ce958469720d0de93c452f8045f600a5007c97ee393b97cd07e579e');
  });

  it('a subject’s record envelope is §8 under FDK_s', () => {
    const env = sealRecord(fdkS, RECORD, VALUE, counterRandom(0));
    assert.equal(
      hex(env),
      '01000102030405060708090a0b0c0d0e0f101112131415161718191a1b385f1f1c3797872983d1b6f4eba6b34bdf806a4947c0ecbf2e50d3547147fb6266',
    );
    assert.deepEqual(openRecord(fdkS, RECORD, env), VALUE);
    assert.equal(openRecord(FDK, RECORD, env), undefined, 'the FDK alone does not open it');
    const other = subjectFdk(FDK, Buffer.alloc(32, 0x56), 'acme', KEY_ID);
    assert.equal(openRecord(other, RECORD, env), undefined);
  });

  it('a subject’s standalone ciphertext: format 0x03 with the key id in its header', () => {
    const bytes = sealSubjectCiphertext(fdkS, CT, VALUE, counterRandom(0));
    assert.equal(bytes.length, 98);
    assert.equal(
      `ct_${toBase64Url(bytes)}`,
      'ct_AwAAAAGgoaKjpKWmp6ipqqusra6vWlpaWlpaWlpaWlpaWlpaWgABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhs4Xx8cN5eHKYPRtvTrprNL3yvZ_9axBNBHhRi9UsblTMI',
    );
    assert.deepEqual(readSubjectCiphertextHeader(bytes), {
      tekVersion: 1,
      orkIdBytes: Buffer.from(ORK_ID, 'hex'),
      subjectKeyId: KEY_ID,
    });
    assert.deepEqual(openSubjectCiphertext(fdkS, CT, bytes), VALUE);
    for (const changed of [
      { ...CT, context: 'order:43' },
      { ...CT, subjectKeyId: '5b'.repeat(16) },
      { ...CT, tekVersion: 2 },
      { ...CT, orkId: 'b0'.repeat(16) },
      { ...CT, field: 'phone' },
    ])
      assert.equal(openSubjectCiphertext(fdkS, changed, bytes), undefined, JSON.stringify(changed));
    for (let i = 0; i < bytes.length; i++) {
      const flipped = Buffer.from(bytes);
      flipped[i]! ^= 0x01;
      assert.equal(openSubjectCiphertext(fdkS, CT, flipped), undefined, `byte ${i}`);
    }
  });

  it('a subject’s deterministic token: K_det_s from K_det(field) and the subject key', async () => {
    const trk = Buffer.alloc(32, 0x11);
    const s = rootLineageSecret(Buffer.alloc(32, 0x22), 'acme');
    const mint = (subject?: { key: Buffer; keyId: string }) =>
      MINTERS.deterministic({
        tenant: 'acme',
        field: 'email',
        random: counterRandom(0),
        tokenKey: async () => deriveTokenKey(trk, s, 'acme'),
        ...(subject && { subject }),
      });
    const plain = await mint();
    const withSubject = await mint({ key: SUBJECT_KEY, keyId: KEY_ID });
    assert.equal(plain.mint('alice@example.com', 0).token, 'tok_5sEn7kR_6ukg_obYspUlKQ');
    assert.equal(withSubject.mint('alice@example.com', 0).token, 'tok_zbOUivndWXeBozSI-IKLlg');
    plain.close();
    withSubject.close();
  });

  it('the local-KEK wrap of a subject key (context purpose "subject", tenant, key id)', async () => {
    const kek = new LocalKek(KEK, counterRandom(0xe0));
    const wrapped = await kek.wrap(SUBJECT_KEY, kmsContext.subject('acme', KEY_ID));
    assert.equal(
      hex(wrapped),
      '01e0e1e2e3e4e5e6e7e8e9eaebfa8d9c3c8f5ae185c096a3b29fea423dde63b5ca9360efaac34bfd7935cabf398213ea61256966e96c23286787bff89c',
    );
    await assert.rejects(kek.unwrap(wrapped, kmsContext.subject('acme', '5b'.repeat(16))));
    assert.deepEqual(await kek.unwrap(wrapped, kmsContext.subject('acme', KEY_ID)), SUBJECT_KEY);
  });

  it('subject syntax and key ids', () => {
    for (const ok of ['u', 'user-1', 'a@b.example', 'tenant:42_x', 'A'.repeat(128)])
      assert.ok(SUBJECT_PATTERN.test(ok), ok);
    for (const bad of ['', '-x', '_x', 'a b', 'a,b', 'A'.repeat(129), 'é', 'a\n'])
      assert.ok(!SUBJECT_PATTERN.test(bad), bad);
    assert.match(newSubjectKeyId(counterRandom(0)), /^[0-9a-f]{32}$/);
  });
});
