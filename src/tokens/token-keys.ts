/**
 * Keys of deterministic and fpe tokens (docs/formats.md "Token kinds").
 *
 *   S     lineage secret of an organisation (its first ORK and every ORK
 *         `ork rotate` made from it; `ork reissue` keeps the ORK itself):
 *           root ORK:     S = HKDF-SHA256(ikm = ORK, salt = "", info = lp("sidekey/lineage/v1") ‖ lp(tenant), L = 32)
 *           rotated ORK:  S is opened from the ORK row's lineage seal (below)
 *   TRK   the tenant's token root key: 32 random bytes, wrapped by the KEK,
 *         destroyed by `tenant shred`
 *   K_tok = HKDF-SHA256(ikm = TRK, salt = S, info = lp("sidekey/token-key/v1") ‖ lp(tenant), L = 32)
 *   K_det(field)    = HKDF-Expand(K_tok, lp("sidekey/det/v1") ‖ lp(field))
 *   K_fpe(field)    = HKDF-Expand(K_tok, lp("sidekey/fpe/v1") ‖ lp(field))
 *   K_fpeid(field)  = HKDF-Expand(K_tok, lp("sidekey/fpe-id/v1") ‖ lp(field))
 *
 * Invariants:
 * - K_tok needs the TRK (KMS + database) AND the ORK lineage (only the
 *   organisation): neither side alone can make, match or invert a token.
 * - K_tok depends on no TEK version, so tokens survive `rotate tek`,
 *   `reencrypt`, `rotate kek`, `ork rotate` and `ork reissue`; records stay
 *   sealed under the current TEK version as for random tokens.
 * - Shredding the tenant destroys the TRK: no token can be made or inverted again.
 * Every label here is frozen: changing one changes every token.
 */
import { createHmac } from 'node:crypto';
import { lengthPrefixed, toBase64Url } from '../crypto/encoding.js';
import { TOKEN_PREFIX, TOKEN_RANDOM_BYTES } from '../crypto/identifiers.js';
import {
  AES_KEY_BYTES,
  aesGcmOpen,
  aesGcmSeal,
  GCM_NONCE_BYTES,
  GCM_TAG_BYTES,
  hkdfExpand32,
  hkdfSha256,
  type RandomSource,
  zeroize,
} from '../crypto/primitives.js';

const LINEAGE_LABEL = lengthPrefixed('sidekey/lineage/v1');
const LINEAGE_SEAL_KEY_LABEL = lengthPrefixed('sidekey/lineage-seal-key/v1');
const LINEAGE_SEAL_AAD_LABEL = lengthPrefixed('sidekey/lineage-seal/v1');
const TOKEN_KEY_LABEL = lengthPrefixed('sidekey/token-key/v1');
const DET_LABEL = lengthPrefixed('sidekey/det/v1');
const FPE_LABEL = lengthPrefixed('sidekey/fpe/v1');
const FPE_ID_LABEL = lengthPrefixed('sidekey/fpe-id/v1');
const EMPTY = Buffer.alloc(0);

/** Frozen format byte of a lineage seal: 0x01 ‖ nonce(12) ‖ AES-256-GCM(S)(32) ‖ tag(16). */
export const LINEAGE_SEAL_V1 = 0x01;
export const LINEAGE_SEAL_BYTES = 1 + GCM_NONCE_BYTES + AES_KEY_BYTES + GCM_TAG_BYTES;
/** Storage ids of fpe records: `fpe_` ‖ base64url(16 bytes). */
export const FPE_ID_PREFIX = 'fpe_';

/** S of an ORK that starts a lineage. */
export function rootLineageSecret(ork: Uint8Array, tenant: string): Buffer {
  return hkdfSha256(ork, EMPTY, Buffer.concat([LINEAGE_LABEL, lengthPrefixed(tenant)]), AES_KEY_BYTES);
}

function sealKey(ork: Uint8Array, tenant: string): Buffer {
  return hkdfSha256(
    ork,
    EMPTY,
    Buffer.concat([LINEAGE_SEAL_KEY_LABEL, lengthPrefixed(tenant)]),
    AES_KEY_BYTES,
  );
}

function sealAad(tenant: string, orkId: string): Buffer {
  return Buffer.concat([
    Buffer.from([LINEAGE_SEAL_V1]),
    LINEAGE_SEAL_AAD_LABEL,
    lengthPrefixed(tenant),
    lengthPrefixed(orkId),
  ]);
}

/** Seals lineage secret `secret` for the ORK `ork` (id `orkId`): stored on that ORK's row. */
export function sealLineage(
  ork: Uint8Array,
  tenant: string,
  orkId: string,
  secret: Uint8Array,
  random: RandomSource,
): Buffer {
  const key = sealKey(ork, tenant);
  try {
    const nonce = Buffer.from(random.bytes(GCM_NONCE_BYTES));
    const { ciphertext, tag } = aesGcmSeal(key, nonce, secret, sealAad(tenant, orkId));
    return Buffer.concat([Buffer.from([LINEAGE_SEAL_V1]), nonce, ciphertext, tag]);
  } finally {
    zeroize(key);
  }
}

/**
 * S for an ORK: opened from its seal, or derived when it starts a lineage.
 * Undefined when the seal does not open (tampered, or not this ORK's).
 */
export function lineageSecret(
  ork: Uint8Array,
  tenant: string,
  orkId: string,
  seal: Buffer | null | undefined,
): Buffer | undefined {
  if (seal === null || seal === undefined) return rootLineageSecret(ork, tenant);
  if (seal.length !== LINEAGE_SEAL_BYTES || seal[0] !== LINEAGE_SEAL_V1) return undefined;
  const key = sealKey(ork, tenant);
  try {
    const nonce = seal.subarray(1, 1 + GCM_NONCE_BYTES);
    const body = seal.subarray(1 + GCM_NONCE_BYTES, seal.length - GCM_TAG_BYTES);
    const tag = seal.subarray(seal.length - GCM_TAG_BYTES);
    return aesGcmOpen(key, nonce, body, tag, sealAad(tenant, orkId));
  } finally {
    zeroize(key);
  }
}

export function deriveTokenKey(trk: Uint8Array, lineage: Uint8Array, tenant: string): Buffer {
  return hkdfSha256(trk, lineage, Buffer.concat([TOKEN_KEY_LABEL, lengthPrefixed(tenant)]), AES_KEY_BYTES);
}

export type FieldKeyPurpose = 'det' | 'fpe' | 'fpe-id';
const PURPOSE_LABEL: Record<FieldKeyPurpose, Buffer> = {
  det: DET_LABEL,
  fpe: FPE_LABEL,
  'fpe-id': FPE_ID_LABEL,
};

/** A per-field key of one purpose; the caller zeroes it. */
export function fieldKey(tokenKey: Uint8Array, purpose: FieldKeyPurpose, field: string): Buffer {
  return hkdfExpand32(tokenKey, PURPOSE_LABEL[purpose], lengthPrefixed(field));
}

/** Deterministic token: `tok_` ‖ base64url(HMAC-SHA256(K_det, UTF-8(value))[0..16]). */
export function deterministicToken(detKey: Uint8Array, value: string): string {
  const mac = createHmac('sha256', detKey).update(value, 'utf8').digest();
  return TOKEN_PREFIX + toBase64Url(mac.subarray(0, TOKEN_RANDOM_BYTES));
}

/** Storage id of an fpe token: `fpe_` ‖ base64url(HMAC-SHA256(K_fpeid, UTF-8(token))[0..16]). */
export function fpeStorageId(fpeIdKey: Uint8Array, token: string): string {
  const mac = createHmac('sha256', fpeIdKey).update(token, 'utf8').digest();
  return FPE_ID_PREFIX + toBase64Url(mac.subarray(0, 16));
}
