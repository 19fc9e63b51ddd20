/**
 * Data subjects (per-person crypto-shredding; docs/formats.md §18).
 *
 *   K_subj  32 random bytes per (tenant, subject), never derivable; stored
 *           only wrapped by the KEK with context
 *           { purpose: "subject", tenant, key_id } and destroyed by `forget`.
 *   key_id  16 random bytes (32 hex): names K_subj in records and ciphertexts;
 *           a forgotten subject used again gets a new key and a new id.
 *   FDK_s   = HKDF-SHA256(ikm = K_subj, salt = FDK,
 *                         info = lp("sidekey/subject-fdk/v1") ‖ lp(tenant) ‖ lp(key_id), L = 32)
 *           takes the place of the FDK for a subject's values: records keep
 *           format 0x01 (§8) with `sidekey_tokens.subject_key_id` set;
 *           standalone ciphertexts get format 0x03 (below), which carries the
 *           key id in its header.
 *   K_det_s = HKDF-SHA256(ikm = K_subj, salt = K_det(field),
 *                         info = lp("sidekey/subject-det/v1") ‖ lp(key_id), L = 32)
 *           the deterministic-token key of a subject's values.
 *
 * Invariants:
 * - A subject's value needs K_subj AND today's hierarchy (TEK + ORK): the
 *   KEK, the database and an ORK together cannot read it once K_subj is gone.
 * - K_subj depends on no TEK version and no ORK: `rotate tek`, `reencrypt`,
 *   `ork rotate` move the record and keep the key id; `rotate kek` re-wraps
 *   K_subj; `tenant shred` deletes every K_subj of the tenant.
 * Every label and format byte here is frozen.
 */
import { lengthPrefixed, u32be } from './encoding.js';
import { type CiphertextBinding, ORK_ID_BYTES, openUnder, SALT_BYTES, sealUnder } from './envelope.js';
import {
  AES_KEY_BYTES,
  GCM_NONCE_BYTES,
  GCM_TAG_BYTES,
  hkdfSha256,
  type RandomSource,
} from './primitives.js';

/** API.md "Data subjects": an opaque id (a user id), never a value to protect. */
export const SUBJECT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/;
export const SUBJECT_KEY_ID_BYTES = 16;
export const SUBJECT_KEY_ID_PATTERN = /^[0-9a-f]{32}$/;
/** Frozen format byte of a subject's standalone ciphertext. */
export const SUBJECT_CIPHERTEXT_FORMAT_V1 = 0x03;

const SUBJECT_FDK_LABEL = lengthPrefixed('sidekey/subject-fdk/v1');
const SUBJECT_DET_LABEL = lengthPrefixed('sidekey/subject-det/v1');
const AAD_SUBJECT_CIPHERTEXT_LABEL = lengthPrefixed('sidekey/aad/subject-ciphertext/v1');

export function newSubjectKeyId(random: RandomSource): string {
  return Buffer.from(random.bytes(SUBJECT_KEY_ID_BYTES)).toString('hex');
}

/** FDK_s: the caller zeroes it. */
export function subjectFdk(fdk: Uint8Array, subjectKey: Uint8Array, tenant: string, keyId: string): Buffer {
  return hkdfSha256(
    subjectKey,
    fdk,
    Buffer.concat([SUBJECT_FDK_LABEL, lengthPrefixed(tenant), lengthPrefixed(keyId)]),
    AES_KEY_BYTES,
  );
}

/** K_det_s: the caller zeroes it. */
export function subjectDetKey(detKey: Uint8Array, subjectKey: Uint8Array, keyId: string): Buffer {
  return hkdfSha256(
    subjectKey,
    detKey,
    Buffer.concat([SUBJECT_DET_LABEL, lengthPrefixed(keyId)]),
    AES_KEY_BYTES,
  );
}

export interface SubjectCiphertextBinding extends CiphertextBinding {
  readonly subjectKeyId: string;
}

export function subjectCiphertextAad(b: SubjectCiphertextBinding): Buffer {
  return Buffer.concat([
    Buffer.from([SUBJECT_CIPHERTEXT_FORMAT_V1]),
    AAD_SUBJECT_CIPHERTEXT_LABEL,
    lengthPrefixed(b.tenant),
    lengthPrefixed(b.field),
    u32be(b.tekVersion),
    lengthPrefixed(b.orkId),
    lengthPrefixed(b.subjectKeyId),
    lengthPrefixed(b.context),
  ]);
}

const HEADER_BYTES = 1 + 4 + ORK_ID_BYTES + SUBJECT_KEY_ID_BYTES;

/**
 * 0x03 ‖ u32be(tekVersion) ‖ orkId(16) ‖ keyId(16) ‖ salt(16) ‖ nonce(12) ‖ ciphertext ‖ tag(16),
 * sealed under K_rec(FDK_s, salt).
 */
export function sealSubjectCiphertext(
  subjectFdkKey: Uint8Array,
  binding: SubjectCiphertextBinding,
  plaintext: Uint8Array,
  random: RandomSource,
): Buffer {
  const header = Buffer.concat([
    Buffer.from([SUBJECT_CIPHERTEXT_FORMAT_V1]),
    u32be(binding.tekVersion),
    Buffer.from(binding.orkId, 'hex'),
    Buffer.from(binding.subjectKeyId, 'hex'),
  ]);
  if (header.length !== HEADER_BYTES) throw new RangeError('ORK id and subject key id must be 16 bytes');
  return sealUnder(subjectFdkKey, header, plaintext, subjectCiphertextAad(binding), random);
}

export interface SubjectCiphertextHeader {
  readonly tekVersion: number;
  readonly orkIdBytes: Buffer;
  readonly subjectKeyId: string;
}

export function readSubjectCiphertextHeader(bytes: Buffer): SubjectCiphertextHeader | undefined {
  if (bytes.length < HEADER_BYTES + SALT_BYTES + GCM_NONCE_BYTES + GCM_TAG_BYTES) return undefined;
  if (bytes[0] !== SUBJECT_CIPHERTEXT_FORMAT_V1) return undefined;
  return {
    tekVersion: bytes.readUInt32BE(1),
    orkIdBytes: bytes.subarray(5, 5 + ORK_ID_BYTES),
    subjectKeyId: bytes.subarray(5 + ORK_ID_BYTES, HEADER_BYTES).toString('hex'),
  };
}

export function openSubjectCiphertext(
  subjectFdkKey: Uint8Array,
  binding: SubjectCiphertextBinding,
  bytes: Buffer,
): Buffer | undefined {
  const header = readSubjectCiphertextHeader(bytes);
  if (header === undefined) return undefined;
  // The header is authenticated only through the binding: refuse one that disagrees with it.
  if (
    header.tekVersion !== binding.tekVersion ||
    header.orkIdBytes.toString('hex') !== binding.orkId ||
    header.subjectKeyId !== binding.subjectKeyId
  )
    return undefined;
  return openUnder(subjectFdkKey, bytes.subarray(HEADER_BYTES), subjectCiphertextAad(binding));
}
