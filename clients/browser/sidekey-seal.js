/**
 * Seals values to a sidekey sidecar (end-to-end encrypted ingest, API.md /
 * docs/formats.md §19) in a browser — or in Node, or any runtime with
 * WebCrypto. It fetches nothing: the application passes the key list its
 * backend got from sidekey (`POST /v1/ingest/keys`), and gets back sealed
 * strings for the backend to hand to sidekey's tokenize (`sealedValues`) or
 * encrypt (`sealedPlaintexts`). The backend cannot read them.
 *
 * HPKE (RFC 9180) base mode through the maintained @hpke/* libraries:
 * X-Wing (ML-KEM-768 + X25519) preferred, DHKEM(X25519, HKDF-SHA256) when a
 * caller asks for it; HKDF-SHA256, AES-256-GCM; info binds tenant and field.
 *
 *   import { createSealer } from './sidekey-seal.js';
 *   const sealer = await createSealer(keys, { tenant: 'acme' });
 *   const sealed = await sealer.seal('card', ['4111 1111 1111 1111']);
 */
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { XWing } from '@hpke/hybridkem-x-wing';

/** The KEMs this module seals with, in order of preference. */
export const SUPPORTED_KEMS = Object.freeze(['X-Wing', 'DHKEM(X25519, HKDF-SHA256)']);

const INFO_LABEL = 'sidekey/ingest/v1';
const TENANT = /^[a-z0-9][a-z0-9-]{0,62}$/;
const FIELD = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const KEY_ID = /^(xwing|x25519)_[A-Za-z0-9_-]{22}$/;

function kemOf(name) {
  if (name === 'X-Wing') return new XWing();
  if (name === 'DHKEM(X25519, HKDF-SHA256)') return new DhkemX25519HkdfSha256();
  return undefined;
}

function fromBase64Url(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function toBase64Url(bytes) {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Picks a key from sidekey's list: the first whose KEM is in `kems` (in the
 * list's order), with HKDF-SHA256 and AES-256-GCM.
 */
export function chooseKey(keys, kems = SUPPORTED_KEMS) {
  if (!Array.isArray(keys)) throw new TypeError('keys must be the `keys` array of POST /v1/ingest/keys');
  const key = keys.find(
    (k) =>
      k !== null &&
      typeof k === 'object' &&
      kems.includes(k.kem) &&
      k.kdf === 'HKDF-SHA256' &&
      k.aead === 'AES-256-GCM' &&
      typeof k.keyId === 'string' &&
      KEY_ID.test(k.keyId) &&
      typeof k.publicKey === 'string',
  );
  if (key === undefined) throw new Error(`no ingest key with a supported KEM (${kems.join(', ')})`);
  return key;
}

/**
 * A sealer for one tenant. `options.kems` narrows or reorders the KEMs
 * (e.g. `['DHKEM(X25519, HKDF-SHA256)']`).
 */
export async function createSealer(keys, options) {
  const tenant = options?.tenant;
  if (typeof tenant !== 'string' || !TENANT.test(tenant))
    throw new TypeError('options.tenant must be a tenant name');
  const key = chooseKey(keys, options.kems ?? SUPPORTED_KEMS);
  const suite = new CipherSuite({ kem: kemOf(key.kem), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
  const recipientPublicKey = await suite.kem.deserializePublicKey(fromBase64Url(key.publicKey));
  const encoder = new TextEncoder();
  return {
    keyId: key.keyId,
    kem: key.kem,
    /** One sealed string per value, in order: `hpke:<keyId>:<enc>:<ciphertext>`. */
    async seal(field, values) {
      if (typeof field !== 'string' || !FIELD.test(field)) throw new TypeError('field must be a field name');
      if (!Array.isArray(values) || values.some((v) => typeof v !== 'string'))
        throw new TypeError('values must be an array of strings');
      const info = encoder.encode(`${INFO_LABEL}\u0000${tenant}\u0000${field}`);
      const sealed = [];
      for (const value of values) {
        const plaintext = encoder.encode(value);
        const { enc, ct } = await suite.seal({ recipientPublicKey, info }, plaintext);
        plaintext.fill(0);
        sealed.push(
          `hpke:${key.keyId}:${toBase64Url(new Uint8Array(enc))}:${toBase64Url(new Uint8Array(ct))}`,
        );
      }
      return sealed;
    },
  };
}
