/**
 * Known answers for the HPKE pieces ingest composes, through the same
 * library objects the daemon uses (suites.ts):
 * - RFC 9180 A.1.1 base mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256
 *   (the appendix's AEAD is AES-128-GCM; AES-256-GCM is pinned by
 *   src/crypto/primitives.test.ts, see the fixture's note);
 * - X-Wing, draft-connolly-cfrg-xwing-kem-08 appendix C, first vector.
 * Sources are recorded in the fixtures (test/fixtures/ingest/).
 * Then the sealed-string syntax, the info binding and a round trip per suite.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Aes128Gcm, CipherSuite, HkdfSha256 } from '@hpke/core';
import type { XWing } from '@hpke/hybridkem-x-wing';
import {
  cipherSuite,
  formatSealed,
  ingestInfo,
  keyPairFromSeed,
  newKeyId,
  openingKey,
  openSealed,
  parseSealed,
  SUITE_NAMES,
  SUITES,
} from './suites.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/ingest/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    string
  >;
/** A Uint8Array that owns its buffer (the library reads whole ArrayBuffers; see suites.ts `own`). */
const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const bytes = (b: ArrayBuffer) => Buffer.from(b);

// cipherSuite() imports the libraries on first use (ADR-19): the suites once, for every test here.
const SUITE_OBJECTS = { x25519: await cipherSuite('x25519'), xwing: await cipherSuite('xwing') };

describe('RFC 9180 A.1.1: DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256, base mode', () => {
  const v = fixture('rfc9180-a.1.1-x25519-sha256-aes128gcm-base.json');
  // The appendix's AEAD; the KEM object and the KDF are the ones ingest uses.
  const suite = new CipherSuite({
    kem: SUITE_OBJECTS.x25519.kem,
    kdf: new HkdfSha256(),
    aead: new Aes128Gcm(),
  });

  it('the ingest suite is kem 0x0020, kdf 1, aead 2 (AES-256-GCM)', () => {
    const s = SUITE_OBJECTS.x25519;
    assert.deepEqual([s.kem.id, s.kdf.id, s.aead.id], [0x0020, 1, 2]);
    const x = SUITE_OBJECTS.xwing;
    assert.deepEqual([x.kem.id, x.kdf.id, x.aead.id], [0x647a, 1, 2]);
  });

  it('DeriveKeyPair(ikmR) gives skRm and pkRm', async () => {
    const pair = await suite.kem.deriveKeyPair(hex(v.ikmR!));
    assert.equal(bytes(await suite.kem.serializePrivateKey(pair.privateKey)).toString('hex'), v.skRm);
    assert.equal(bytes(await suite.kem.serializePublicKey(pair.publicKey)).toString('hex'), v.pkRm);
  });

  it('keyPairFromSeed (what ingest keys use) is RFC 9180 DeriveKeyPair', async () => {
    const pair = await keyPairFromSeed('x25519', hex(v.ikmR!));
    assert.equal(pair.privateKey.toString('hex'), v.skRm);
    assert.equal(pair.publicKey.toString('hex'), v.pkRm);
  });

  it('the sender with ikmE produces enc and the first ciphertext', async () => {
    const recipientPublicKey = await suite.kem.deserializePublicKey(hex(v.pkRm!));
    const sender = await suite.createSenderContext({
      recipientPublicKey,
      info: hex(v.info!),
      ekm: hex(v.ikmE!),
    });
    assert.equal(bytes(sender.enc).toString('hex'), v.enc);
    assert.equal(bytes(await sender.seal(hex(v.plaintext!), hex(v.aad!))).toString('hex'), v.ciphertext);
  });

  it('single-shot open of (enc, ciphertext) with skRm gives the plaintext; a flipped bit does not open', async () => {
    const recipientKey = await openingKey('x25519', hex(v.skRm!));
    const shared = await suite.kem.decap({ recipientKey, enc: hex(v.enc!) });
    assert.equal(bytes(shared).toString('hex'), v.shared_secret);
    const pt = await suite.open(
      { recipientKey, enc: hex(v.enc!), info: hex(v.info!) },
      hex(v.ciphertext!),
      hex(v.aad!),
    );
    assert.equal(bytes(pt).toString('hex'), v.plaintext);
    const tampered = hex(v.ciphertext!);
    tampered[3]! ^= 1;
    await assert.rejects(
      suite.open({ recipientKey, enc: hex(v.enc!), info: hex(v.info!) }, tampered, hex(v.aad!)),
    );
  });
});

describe('X-Wing (draft-connolly-cfrg-xwing-kem-08, appendix C)', () => {
  const v = fixture('xwing-draft-08-vector-1.json');
  const kem = SUITE_OBJECTS.xwing.kem as unknown as XWing;

  it('the seed sk gives the public key pk', async () => {
    const pair = await keyPairFromSeed('xwing', hex(v.sk!));
    assert.equal(pair.publicKey.toString('hex'), v.pk);
    assert.equal(pair.privateKey.toString('hex'), v.sk);
  });

  it('encapsulation with eseed gives ct and ss; decapsulation of ct gives ss', async () => {
    const recipientPublicKey = await kem.deserializePublicKey(hex(v.pk!));
    const { enc, sharedSecret } = await kem.encap({ recipientPublicKey, ekm: hex(v.eseed!) });
    assert.equal(bytes(enc).toString('hex'), v.ct);
    assert.equal(bytes(sharedSecret).toString('hex'), v.ss);
    const recipientKey = await openingKey('xwing', hex(v.sk!));
    assert.equal(bytes(await kem.decap({ recipientKey, enc: hex(v.ct!) })).toString('hex'), v.ss);
  });
});

describe('sealed strings', () => {
  const keyId = newKeyId('xwing', Buffer.alloc(16, 7));

  it('key ids name their suite and have a fixed shape', () => {
    assert.equal(keyId, 'xwing_BwcHBwcHBwcHBwcHBwcHBw');
    assert.equal(newKeyId('x25519', Buffer.alloc(16, 0)), 'x25519_AAAAAAAAAAAAAAAAAAAAAA');
    assert.throws(() => newKeyId('xwing', Buffer.alloc(15)));
  });

  it('info is the label, the tenant and the field separated by 0x00 (pinned)', () => {
    assert.equal(
      Buffer.from(ingestInfo('acme', 'card')).toString('hex'),
      `${Buffer.from('sidekey/ingest/v1').toString('hex')}00${Buffer.from('acme').toString('hex')}00${Buffer.from('card').toString('hex')}`,
    );
  });

  it('parses what it formats and refuses every malformed shape', () => {
    const enc = Buffer.alloc(SUITES.xwing.encBytes, 1);
    const ct = Buffer.alloc(20, 2);
    const good = formatSealed(keyId, enc, ct);
    const parsed = parseSealed(good, 1024);
    assert.ok(parsed);
    assert.equal(parsed.keyId, keyId);
    assert.equal(parsed.suite, 'xwing');
    assert.deepEqual(parsed.enc, enc);
    assert.deepEqual(parsed.ciphertext, ct);
    const bad = [
      '',
      good.replace('hpke:', 'hpk:'),
      good.replace('hpke:', 'HPKE:'),
      `${good}:x`,
      good.replace(keyId, 'xwing_short'),
      good.replace(keyId, keyId.replace('xwing', 'x25519')), // enc of the wrong length for that suite
      formatSealed(keyId, enc.subarray(1), ct),
      formatSealed(keyId, enc, Buffer.alloc(15)), // shorter than a tag
      `${good}=`,
      good.replace(/:([^:]*)$/, ':!$1'),
    ];
    for (const b of bad) assert.equal(parseSealed(b, 1024), undefined, b.slice(0, 40));
    assert.equal(parseSealed(formatSealed(keyId, enc, Buffer.alloc(1024 + 17)), 1024), undefined);
  });
});

describe('round trip per suite, and the info binding', () => {
  for (const suite of SUITE_NAMES) {
    it(`${suite}: sealed for (tenant, field) opens only for it`, async () => {
      const pair = await keyPairFromSeed(suite, Buffer.alloc(32, 9));
      assert.equal(pair.publicKey.length, SUITES[suite].publicKeyBytes);
      const keyId = newKeyId(suite, Buffer.alloc(16, 1));
      const lib = SUITE_OBJECTS[suite];
      const { enc, ct } = await lib.seal(
        {
          recipientPublicKey: await lib.kem.deserializePublicKey(new Uint8Array(pair.publicKey)),
          info: ingestInfo('acme', 'card'),
        },
        new TextEncoder().encode('4111 1111'),
      );
      const sealed = formatSealed(keyId, new Uint8Array(enc), new Uint8Array(ct));
      const parts = parseSealed(sealed, 1024);
      assert.ok(parts);
      const key = await openingKey(suite, pair.privateKey);
      const opened = await openSealed(key, parts, ingestInfo('acme', 'card'));
      assert.equal(Buffer.from(opened ?? []).toString(), '4111 1111');
      assert.equal(await openSealed(key, parts, ingestInfo('acme', 'iban')), undefined);
      assert.equal(await openSealed(key, parts, ingestInfo('other', 'card')), undefined);
      const other = await openingKey(suite, (await keyPairFromSeed(suite, Buffer.alloc(32, 8))).privateKey);
      assert.equal(await openSealed(other, parts, ingestInfo('acme', 'card')), undefined);
    });
  }
});

describe('pinned sealed value (docs/formats.md §19.4)', () => {
  const V = {
    seed: '01'.repeat(32),
    sk: '7790330b18d76c45446b7d9d1b15e87d7da80ab3b6f8cdcc0871764f1d767c9c',
    pk: '41852320ff367495fa522c94cb83af391e4e89018392725bbf2098dd931bc424',
    ekm: '03'.repeat(32),
    sealed:
      'hpke:x25519_AgICAgICAgICAgICAgICAg:kKt5DsvwcEIy_-lDb67MyRO2amDpnGiKQLuk1eLmFFA:GY-MCzDWN0mAES38t5dZ2QpYtHtaCOk6UvdRmp_aqxg',
  };

  it('a fixed seed and ephemeral key give the documented sealed string, which opens to the value', async () => {
    const pair = await keyPairFromSeed('x25519', hex(V.seed));
    assert.equal(pair.privateKey.toString('hex'), V.sk);
    assert.equal(pair.publicKey.toString('hex'), V.pk);
    const keyId = newKeyId('x25519', Buffer.alloc(16, 2));
    const s = SUITE_OBJECTS.x25519;
    const sender = await s.createSenderContext({
      recipientPublicKey: await s.kem.deserializePublicKey(hex(V.pk)),
      info: ingestInfo('acme', 'card'),
      ekm: hex(V.ekm),
    });
    const ct = await sender.seal(new TextEncoder().encode('4111111111111111'));
    assert.equal(formatSealed(keyId, new Uint8Array(sender.enc), new Uint8Array(ct)), V.sealed);
    const parts = parseSealed(V.sealed, 1024)!;
    const opened = await openSealed(
      await openingKey('x25519', pair.privateKey),
      parts,
      ingestInfo('acme', 'card'),
    );
    assert.equal(Buffer.from(opened!).toString(), '4111111111111111');
  });
});
