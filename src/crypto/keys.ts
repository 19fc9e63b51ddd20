/**
 * Key generation and derivation (docs/formats.md "Field data key").
 *
 * FDK = HKDF-SHA256(ikm = TEK_v, salt = ORK,
 *                   info = lp("sidekey/fdk/v1") ‖ lp(tenant) ‖ lp(field) ‖ lp(u32be(v)), L = 32)
 * Without the ORK (held only by the organisation) no FDK can be derived, so
 * the database and the KMS together still cannot decrypt.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { lengthPrefixed, u32be } from './encoding.js';
import { AES_KEY_BYTES, hkdfSha256 } from './primitives.js';

/** Frozen KDF label: changing it makes every stored record undecryptable. */
export const FDK_LABEL = 'sidekey/fdk/v1';
/** Frozen label of the ORK fingerprint. */
export const ORK_FINGERPRINT_LABEL = 'sidekey/ork-fingerprint/v1';

/** 32 fresh bytes straight from the CSPRNG (not pooled: the caller owns and zeroes the only copy). */
export function generateKey(): Buffer {
  return randomFillSync(Buffer.alloc(AES_KEY_BYTES));
}

export function fdkInfo(tenant: string, field: string, tekVersion: number): Buffer {
  return Buffer.concat([
    lengthPrefixed(FDK_LABEL),
    lengthPrefixed(tenant),
    lengthPrefixed(field),
    lengthPrefixed(u32be(tekVersion)),
  ]);
}

export function deriveFdk(
  tek: Uint8Array,
  ork: Uint8Array,
  tenant: string,
  field: string,
  tekVersion: number,
): Buffer {
  return hkdfSha256(tek, ork, fdkInfo(tenant, field, tekVersion), AES_KEY_BYTES);
}

/**
 * Public fingerprint of an ORK: hex of the first 16 bytes of
 * SHA-256(lp(label) ‖ ORK). The ORK is 256 uniformly random bits, so the
 * fingerprint reveals nothing usable about it.
 */
export function orkFingerprint(ork: Uint8Array): string {
  return createHash('sha256')
    .update(lengthPrefixed(ORK_FINGERPRINT_LABEL))
    .update(ork)
    .digest('hex')
    .slice(0, 32);
}
