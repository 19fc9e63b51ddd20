/**
 * The envelope formats, pinned: with a deterministic RandomSource and fixed
 * keys, every byte of the FDK, the AADs and both envelopes is asserted
 * (docs/formats.md §13), so a format change cannot go unnoticed. Then the
 * bindings: any change to token, tenant, field, version, ORK id or context,
 * and any change to a byte of the envelope, makes opening fail.
 */
import assert from 'node:assert/strict';
import { createCipheriv, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { lengthPrefixed, toBase64Url } from './encoding.js';
import {
  CIPHERTEXT_FORMAT_V1,
  type CiphertextBinding,
  ciphertextAad,
  openCiphertext,
  openRecord,
  RECORD_FORMAT_V1,
  RECORDS_PER_SUBKEY,
  type RecordBinding,
  RecordSealer,
  readCiphertextHeader,
  recordAad,
  sealCiphertext,
  sealRecord,
} from './envelope.js';
import { orkIdFromBytes, orkIdToBytes } from './identifiers.js';
import { deriveFdk, FDK_LABEL, fdkInfo, ORK_FINGERPRINT_LABEL, orkFingerprint } from './keys.js';
import { PooledRandom, type RandomSource } from './primitives.js';

/** Bytes start, start+1, … (mod 256): a RandomSource whose output is known. */
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

// The worked example of docs/formats.md §13.
const TEK = seq(0x00, 32);
const ORK = seq(0x20, 32);
const ORK_ID = 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf';
const TOKEN = 'tok_sLGys7S1tre4ubq7vL2-vw';
const VALUE = Buffer.from('alice@example.com', 'utf8');
const RECORD: RecordBinding = { token: TOKEN, tenant: 'acme', field: 'email', tekVersion: 1, orkId: ORK_ID };
const CT: CiphertextBinding = {
  tenant: 'acme',
  field: 'email',
  tekVersion: 1,
  orkId: ORK_ID,
  context: 'order:42',
};
const FDK_HEX = 'd6e6a1c527870626a2151ba332e60ddf7b0cc2533b8a6e38f6e8c9539bcf1a7a';
const FDK = Buffer.from(FDK_HEX, 'hex');
const ENVELOPE_HEX =
  '01' +
  '000102030405060708090a0b0c0d0e0f' +
  '101112131415161718191a1b' +
  '3f92e10da82afb8cc8d2ebe1a99f4f39fd' +
  '8d93978d2fd2435b56490d55a75f5003';
const CIPHERTEXT_HEX =
  '02' +
  '00000001' +
  'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf' +
  '000102030405060708090a0b0c0d0e0f' +
  '101112131415161718191a1b' +
  '3f92e10da82afb8cc8d2ebe1a99f4f39fd' +
  '101fbd349a1e3712bcda43366f57d354';

describe('pinned vectors (docs/formats.md §13)', () => {
  it('frozen constants', () => {
    assert.equal(RECORD_FORMAT_V1, 0x01);
    assert.equal(CIPHERTEXT_FORMAT_V1, 0x02);
    assert.equal(FDK_LABEL, 'sidekey/fdk/v1');
    assert.equal(ORK_FINGERPRINT_LABEL, 'sidekey/ork-fingerprint/v1');
  });

  it('ORK fingerprint', () => {
    assert.equal(orkFingerprint(ORK), 'd20c85be7ef04835a601adeb02b1956f');
  });

  it('FDK info and FDK = HKDF-SHA256(TEK, salt = ORK, info)', () => {
    assert.equal(
      hex(fdkInfo('acme', 'email', 1)),
      '000e736964656b65792f66646b2f7631000461636d650005656d61696c000400000001',
    );
    assert.equal(hex(deriveFdk(TEK, ORK, 'acme', 'email', 1)), FDK_HEX);
  });

  it('record AAD', () => {
    assert.equal(
      hex(recordAad(RECORD)),
      '01' +
        '0014736964656b65792f6161642f746f6b656e2f7631' +
        '001a746f6b5f734c4779733753317472653475627137764c322d7677' +
        '000461636d65' +
        '0005656d61696c' +
        '00000001' +
        '00206130613161326133613461356136613761386139616161626163616461656166',
    );
  });

  it('ciphertext AAD', () => {
    assert.equal(
      hex(ciphertextAad(CT)),
      '02' +
        '0019736964656b65792f6161642f636970686572746578742f7631' +
        '000461636d65' +
        '0005656d61696c' +
        '00000001' +
        '00206130613161326133613461356136613761386139616161626163616461656166' +
        '00086f726465723a3432',
    );
    assert.equal(hex(ciphertextAad({ ...CT, context: '' })).slice(-4), '0000');
  });

  it('record envelope', () => {
    const envelope = sealRecord(FDK, RECORD, VALUE, counterRandom(0));
    assert.equal(hex(envelope), ENVELOPE_HEX);
    assert.deepEqual(openRecord(FDK, RECORD, envelope), VALUE);
  });

  it('record subkey = HMAC-SHA256(FDK, lp("sidekey/record/v1") ‖ salt ‖ 0x01)', () => {
    const kRec = createHmac('sha256', FDK)
      .update(Buffer.concat([lengthPrefixed('sidekey/record/v1'), seq(0, 16), Buffer.from([1])]))
      .digest();
    assert.equal(hex(kRec), '507e69951a891c5b2cbc6b9b4e9e69469954c495ea12f616d8242193e01ceec1');
  });

  it('standalone ciphertext and its ct_ text', () => {
    const bytes = sealCiphertext(FDK, CT, orkIdToBytes(ORK_ID), VALUE, counterRandom(0));
    assert.equal(hex(bytes), CIPHERTEXT_HEX);
    assert.equal(
      `ct_${toBase64Url(bytes)}`,
      'ct_AgAAAAGgoaKjpKWmp6ipqqusra6vAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGz-S4Q2oKvuMyNLr4amfTzn9EB-9NJoeNxK82kM2b1fTVA',
    );
    assert.deepEqual(openCiphertext(FDK, CT, bytes), VALUE);
    const noContext = sealCiphertext(
      FDK,
      { ...CT, context: '' },
      orkIdToBytes(ORK_ID),
      VALUE,
      counterRandom(0),
    );
    assert.equal(hex(noContext.subarray(-16)), 'd4863dc06e48b729d5631b365ab7860a');
    const header = readCiphertextHeader(bytes);
    assert.equal(header?.tekVersion, 1);
    assert.equal(hex(header!.orkIdBytes), ORK_ID);
  });

  it('empty plaintext: 45-byte record, 65-byte ciphertext', () => {
    const envelope = sealRecord(FDK, RECORD, Buffer.alloc(0), counterRandom(0));
    assert.equal(envelope.length, 45);
    assert.deepEqual(openRecord(FDK, RECORD, envelope), Buffer.alloc(0));
    const bytes = sealCiphertext(FDK, CT, orkIdToBytes(ORK_ID), Buffer.alloc(0), counterRandom(0));
    assert.equal(bytes.length, 65);
    assert.deepEqual(openCiphertext(FDK, CT, bytes), Buffer.alloc(0));
  });
});

describe('bindings', () => {
  const random = new PooledRandom();
  const envelope = sealRecord(FDK, RECORD, VALUE, random);
  const bytes = sealCiphertext(FDK, CT, orkIdToBytes(ORK_ID), VALUE, random);
  const otherOrkId = 'a0a1a2a3a4a5a6a7a8a9aaabacadaeae';

  it('a record opens only with its own token, tenant, field, version and ORK id', () => {
    assert.deepEqual(openRecord(FDK, RECORD, envelope), VALUE);
    const changed: RecordBinding[] = [
      { ...RECORD, token: 'tok_sLGys7S1tre4ubq7vL2-vA' },
      { ...RECORD, tenant: 'acmf' },
      { ...RECORD, tenant: '' },
      { ...RECORD, field: 'phone' },
      { ...RECORD, field: 'Email' },
      { ...RECORD, tekVersion: 2 },
      { ...RECORD, tekVersion: 0 },
      { ...RECORD, orkId: otherOrkId },
      // Length prefixes: moving a byte between adjacent fields changes the AAD.
      { ...RECORD, tenant: 'acm', field: 'eemail' },
    ];
    for (const b of changed) assert.equal(openRecord(FDK, b, envelope), undefined, JSON.stringify(b));
  });

  it('a record does not open under another FDK (another TEK, ORK, tenant, field or version)', () => {
    const others = [
      deriveFdk(seq(0x01, 32), ORK, 'acme', 'email', 1),
      deriveFdk(TEK, seq(0x21, 32), 'acme', 'email', 1),
      deriveFdk(TEK, ORK, 'acmf', 'email', 1),
      deriveFdk(TEK, ORK, 'acme', 'phone', 1),
      deriveFdk(TEK, ORK, 'acme', 'email', 2),
    ];
    for (const fdk of others) assert.equal(openRecord(fdk, RECORD, envelope), undefined);
  });

  it('a ciphertext opens only with its own tenant, field, version, ORK id and context', () => {
    assert.deepEqual(openCiphertext(FDK, CT, bytes), VALUE);
    const changed: CiphertextBinding[] = [
      { ...CT, tenant: 'acmf' },
      { ...CT, field: 'phone' },
      { ...CT, tekVersion: 2 },
      { ...CT, orkId: otherOrkId },
      { ...CT, context: '' },
      { ...CT, context: 'order:43' },
      { ...CT, context: 'order:42 ' },
    ];
    for (const b of changed) assert.equal(openCiphertext(FDK, b, bytes), undefined, JSON.stringify(b));
  });

  it('absent and empty context are one and the same', () => {
    const sealed = sealCiphertext(FDK, { ...CT, context: '' }, orkIdToBytes(ORK_ID), VALUE, random);
    assert.deepEqual(openCiphertext(FDK, { ...CT, context: '' }, sealed), VALUE);
    assert.equal(openCiphertext(FDK, CT, sealed), undefined);
  });

  it('record and ciphertext formats do not open as each other', () => {
    const asCiphertextBinding: CiphertextBinding = { ...CT, context: '' };
    assert.equal(openCiphertext(FDK, asCiphertextBinding, envelope), undefined);
    assert.equal(openRecord(FDK, RECORD, bytes), undefined);
    // Same body, other format byte.
    const relabelled = Buffer.concat([Buffer.from([CIPHERTEXT_FORMAT_V1]), envelope.subarray(1)]);
    assert.equal(openRecord(FDK, RECORD, relabelled), undefined);
  });

  it('sealCiphertext refuses an ORK id that is not 16 bytes', () => {
    assert.throws(() => sealCiphertext(FDK, CT, Buffer.alloc(15), VALUE, random), RangeError);
  });

  it('truncated or extended envelopes do not open', () => {
    for (let k = 0; k < envelope.length; k++) {
      assert.equal(openRecord(FDK, RECORD, envelope.subarray(0, k)), undefined, `record, ${k} bytes`);
    }
    for (let k = 0; k < bytes.length; k++) {
      assert.equal(openCiphertext(FDK, CT, bytes.subarray(0, k)), undefined, `ciphertext, ${k} bytes`);
    }
    assert.equal(openRecord(FDK, RECORD, Buffer.concat([envelope, Buffer.from([0])])), undefined);
    assert.equal(openCiphertext(FDK, CT, Buffer.concat([bytes, Buffer.from([0])])), undefined);
  });
});

/**
 * Opens a standalone ciphertext the way a decryptor must (docs/formats.md §9,
 * and TokenService.decrypt): version and ORK id come from the header, the ORK
 * id must be the caller's, and the same values go into the AAD.
 */
function openAsService(fdkFor: (version: number) => Buffer, caller: CiphertextBinding, bytes: Buffer) {
  const header = readCiphertextHeader(bytes);
  if (header === undefined || orkIdFromBytes(header.orkIdBytes) !== caller.orkId) return undefined;
  return openCiphertext(fdkFor(header.tekVersion), { ...caller, tekVersion: header.tekVersion }, bytes);
}

describe('properties', () => {
  const binding = fc.record({
    token: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => `tok_${toBase64Url(b)}`),
    tenant: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,62}$/),
    field: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/),
    tekVersion: fc.integer({ min: 1, max: 0xffffffff }),
    orkId: fc.uint8Array({ minLength: 16, maxLength: 16 }).map(orkIdFromBytes),
    context: fc.string({ maxLength: 64 }),
  });
  const key = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b));
  const plaintext = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b));
  const random = new PooledRandom();

  it('seal/open round-trips arbitrary bytes (records and ciphertexts)', () => {
    fc.assert(
      fc.property(key, binding, plaintext, (fdk, b, p) => {
        const envelope = sealRecord(fdk, b, p, random);
        assert.equal(envelope.length, 1 + 16 + 12 + p.length + 16);
        assert.deepEqual(openRecord(fdk, b, envelope), p);
        const bytes = sealCiphertext(fdk, b, orkIdToBytes(b.orkId), p, random);
        assert.equal(bytes.length, 1 + 4 + 16 + 16 + 12 + p.length + 16);
        assert.deepEqual(openCiphertext(fdk, b, bytes), p);
        assert.deepEqual(
          openAsService(() => fdk, b, bytes),
          p,
        );
      }),
    );
  });

  it('any single-byte change of a record envelope fails to open', () => {
    fc.assert(
      fc.property(
        key,
        binding,
        plaintext,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (fdk, b, p, at, delta) => {
          const envelope = sealRecord(fdk, b, p, random);
          const i = at % envelope.length;
          envelope[i] = (envelope[i]! + delta) & 0xff;
          assert.equal(openRecord(fdk, b, envelope), undefined, `byte ${i}`);
        },
      ),
    );
  });

  it('any single-byte change of a standalone ciphertext fails to open', () => {
    fc.assert(
      fc.property(
        key,
        binding,
        plaintext,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (fdk, b, p, at, delta) => {
          const bytes = sealCiphertext(fdk, b, orkIdToBytes(b.orkId), p, random);
          const i = at % bytes.length;
          bytes[i] = (bytes[i]! + delta) & 0xff;
          // Header bytes (version, ORK id) are checked through the AAD as a decryptor uses them.
          assert.equal(
            openAsService(() => fdk, b, bytes),
            undefined,
            `byte ${i}`,
          );
          if (i >= 21) assert.equal(openCiphertext(fdk, b, bytes), undefined, `byte ${i}`);
        },
      ),
    );
  });
});

describe('RecordSealer (the batch path of tokenize, ADR-21)', () => {
  const { token: _t, ...shared } = RECORD;
  const TOKENS = [TOKEN, 'tok_AAAAAAAAAAAAAAAAAAAAAA', 'tok_zzzzzzzzzzzzzzzzzzzzzw'];
  /** docs/formats.md §7–§8 written out again with Node's primitives: 0x01 ‖ salt ‖ nonce ‖ GCM(K_rec(salt)). */
  function expectedEnvelope(salt: Buffer, nonce: Buffer, token: string, value: Buffer): string {
    const kRec = createHmac('sha256', FDK)
      .update(Buffer.concat([lengthPrefixed('sidekey/record/v1'), salt, Buffer.from([1])]))
      .digest();
    const c = createCipheriv('aes-256-gcm', kRec, nonce, { authTagLength: 16 });
    c.setAAD(recordAad({ ...RECORD, token }));
    const body = Buffer.concat([c.update(value), c.final(), c.getAuthTag()]);
    return hex(Buffer.concat([Buffer.from([1]), salt, nonce, body]));
  }

  it('seals its first record exactly as sealRecord, and the next ones under the same salt with fresh nonces', () => {
    const sealer = new RecordSealer(FDK, shared, counterRandom(0x40));
    const single = counterRandom(0x40);
    const salt = seq(0x40, 16);
    let nonceAt = 0x40 + 16;
    for (const [i, token] of TOKENS.entries()) {
      const value = Buffer.from(`value ${i} ✓`, 'utf8');
      const envelope = sealer.seal(token, value);
      if (i === 0) assert.equal(hex(envelope), hex(sealRecord(FDK, { ...RECORD, token }, value, single)));
      assert.equal(hex(envelope), expectedEnvelope(salt, seq(nonceAt, 12), token, value), `record ${i}`);
      nonceAt += 12;
      assert.deepEqual(openRecord(FDK, { ...RECORD, token }, envelope), value);
    }
    sealer.close();
  });

  it(`draws a new salt every ${RECORDS_PER_SUBKEY} records, never repeats a nonce, and every record opens`, () => {
    const sealer = new RecordSealer(FDK, shared, new PooledRandom());
    const n = 2 * RECORDS_PER_SUBKEY + 1;
    const salts: string[] = [];
    const nonces = new Set<string>();
    for (let i = 0; i < n; i++) {
      const token = `tok_${Buffer.alloc(16, i % 251).toString('base64url')}`;
      const value = Buffer.from(`v${i}`);
      const envelope = sealer.seal(token, value);
      salts.push(hex(envelope.subarray(1, 17)));
      nonces.add(hex(envelope.subarray(17, 29)));
      assert.deepEqual(openRecord(FDK, { ...RECORD, token }, envelope), value, `record ${i}`);
    }
    sealer.close();
    const distinct = [...new Set(salts)];
    assert.equal(distinct.length, 3);
    for (const [k, salt] of distinct.entries()) {
      const used = salts.filter((x) => x === salt).length;
      assert.equal(used, k < 2 ? RECORDS_PER_SUBKEY : 1, `salt ${k}`);
    }
    assert.equal(nonces.size, n);
  });

  it('zeroes its subkey on close() and refuses to seal after it', () => {
    const sealer = new RecordSealer(FDK, shared, new PooledRandom());
    sealer.seal(TOKEN, Buffer.from('x'));
    const key = Reflect.get(sealer, 'key') as Buffer;
    assert.equal(key.length, 32);
    assert.notEqual(hex(key), '00'.repeat(32));
    sealer.close();
    assert.equal(hex(key), '00'.repeat(32));
    assert.throws(() => sealer.seal(TOKEN, Buffer.from('x')), /after close/);
  });
});
