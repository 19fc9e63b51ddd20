/**
 * Envelopes: how a value is sealed under a field data key (FDK).
 * Byte layouts are in docs/formats.md; the pinned vector in envelope.test.ts
 * fails if any byte of them changes.
 *
 * Invariants:
 * - The FDK never encrypts. Records are sealed under AES-256 subkeys
 *     K_rec = HKDF-Expand(PRK = FDK, info = lp("sidekey/record/v1") ‖ salt, L = 32)
 *   from a fresh 128-bit random salt, written into every envelope. A single
 *   seal draws its own salt; a tokenize batch (RecordSealer) draws one salt
 *   per RECORDS_PER_SUBKEY records (ADR-21), so a subkey encrypts at most
 *   1,024 messages and the 2^32 random-nonce limit of one GCM key
 *   (SP 800-38D) never applies, however hot the field. (The Tink
 *   AES-GCM-HKDF idea.) Readers derive K_rec from the envelope's salt either way.
 * - Every message gets its own random 96-bit nonce.
 * - The associated data binds the ciphertext to where it belongs: the format
 *   byte, the token (records only), tenant, field, TEK version, ORK id and
 *   (standalone ciphertexts only) the caller's context. A ciphertext moved to
 *   another row, tenant, field or version fails authentication.
 * - Plaintext is UTF-8 of the caller's string, exactly.
 */
import { lengthPrefixed, u32be } from './encoding.js';
import {
  aesGcmOpen,
  aesGcmSeal,
  GCM_NONCE_BYTES,
  GCM_TAG_BYTES,
  hkdfExpand32,
  type RandomSource,
  zeroize,
} from './primitives.js';

/** Frozen format bytes. A new layout gets a new byte; old ones stay readable. */
export const RECORD_FORMAT_V1 = 0x01;
export const CIPHERTEXT_FORMAT_V1 = 0x02;
export const SALT_BYTES = 16;
export const ORK_ID_BYTES = 16;

const RECORD_KEY_LABEL = lengthPrefixed('sidekey/record/v1');
const AAD_TOKEN_LABEL = lengthPrefixed('sidekey/aad/token/v1');
const AAD_CIPHERTEXT_LABEL = lengthPrefixed('sidekey/aad/ciphertext/v1');

/** Where a token record belongs; all of it is bound as associated data. */
export interface RecordBinding {
  readonly token: string;
  readonly tenant: string;
  readonly field: string;
  readonly tekVersion: number;
  readonly orkId: string;
}

export interface CiphertextBinding {
  readonly tenant: string;
  readonly field: string;
  readonly tekVersion: number;
  readonly orkId: string;
  /** Caller-supplied context; absent and empty are the same (proto3 semantics). */
  readonly context: string;
}

function recordKey(fdk: Uint8Array, salt: Uint8Array): Buffer {
  return hkdfExpand32(fdk, RECORD_KEY_LABEL, salt);
}

const RECORD_HEADER = Buffer.from([RECORD_FORMAT_V1]);
/** The AAD up to the token: format byte ‖ lp(label). */
const RECORD_AAD_HEAD = Buffer.concat([RECORD_HEADER, AAD_TOKEN_LABEL]);

/** The AAD after the token: lp(tenant) ‖ lp(field) ‖ u32be(version) ‖ lp(orkId); the same for a whole batch. */
function recordAadTail(tenant: string, field: string, tekVersion: number, orkId: string): Buffer {
  return Buffer.concat([
    lengthPrefixed(tenant),
    lengthPrefixed(field),
    u32be(tekVersion),
    lengthPrefixed(orkId),
  ]);
}

/** head ‖ lp(token) ‖ tail, in one allocation. */
function recordAadWith(token: string, tail: Buffer): Buffer {
  const tokenBytes = Buffer.byteLength(token, 'utf8');
  if (tokenBytes > 0xffff) throw new RangeError('length-prefixed field longer than 65535 bytes');
  const aad = Buffer.allocUnsafe(RECORD_AAD_HEAD.length + 2 + tokenBytes + tail.length);
  let at = RECORD_AAD_HEAD.copy(aad, 0);
  at = aad.writeUInt16BE(tokenBytes, at);
  at += aad.write(token, at, 'utf8');
  tail.copy(aad, at);
  return aad;
}

export function recordAad(b: RecordBinding): Buffer {
  return recordAadWith(b.token, recordAadTail(b.tenant, b.field, b.tekVersion, b.orkId));
}

export function ciphertextAad(b: CiphertextBinding): Buffer {
  return Buffer.concat([
    Buffer.from([CIPHERTEXT_FORMAT_V1]),
    AAD_CIPHERTEXT_LABEL,
    lengthPrefixed(b.tenant),
    lengthPrefixed(b.field),
    u32be(b.tekVersion),
    lengthPrefixed(b.orkId),
    lengthPrefixed(b.context),
  ]);
}

/** Seals under K_rec(fdk, fresh salt): header ‖ salt ‖ nonce ‖ ciphertext ‖ tag (other formats reuse it). */
export function sealUnder(
  fdk: Uint8Array,
  header: Buffer,
  plaintext: Uint8Array,
  aad: Buffer,
  random: RandomSource,
): Buffer {
  const salt = random.bytes(SALT_BYTES);
  const key = recordKey(fdk, salt);
  try {
    return sealWithSubkey(key, salt, header, plaintext, aad, random);
  } finally {
    zeroize(key);
  }
}

/** header ‖ salt ‖ nonce ‖ ciphertext ‖ tag under `key` = K_rec(fdk, salt), with a fresh nonce. */
function sealWithSubkey(
  key: Buffer,
  salt: Buffer,
  header: Buffer,
  plaintext: Uint8Array,
  aad: Buffer,
  random: RandomSource,
): Buffer {
  const nonce = random.bytes(GCM_NONCE_BYTES);
  const { ciphertext, tag } = aesGcmSeal(key, nonce, plaintext, aad);
  // A slice of Node's 8 KiB pool (cheap to allocate): sealed envelopes go to
  // the store and are dropped. The record cache keeps only copies in their
  // own memory (detokenize's cacheable()), never pool slices.
  const out = Buffer.allocUnsafe(
    header.length + SALT_BYTES + GCM_NONCE_BYTES + ciphertext.length + GCM_TAG_BYTES,
  );
  let at = header.copy(out, 0);
  at += salt.copy(out, at);
  at += nonce.copy(out, at);
  at += ciphertext.copy(out, at);
  tag.copy(out, at);
  return out;
}

/** Opens salt ‖ nonce ‖ ciphertext ‖ tag (the bytes after a header) under K_rec(fdk, salt). */
export function openUnder(fdk: Uint8Array, body: Buffer, aad: Buffer): Buffer | undefined {
  if (body.length < SALT_BYTES + GCM_NONCE_BYTES + GCM_TAG_BYTES) return undefined;
  const salt = body.subarray(0, SALT_BYTES);
  const nonce = body.subarray(SALT_BYTES, SALT_BYTES + GCM_NONCE_BYTES);
  const ciphertext = body.subarray(SALT_BYTES + GCM_NONCE_BYTES, body.length - GCM_TAG_BYTES);
  const tag = body.subarray(body.length - GCM_TAG_BYTES);
  const key = recordKey(fdk, salt);
  try {
    return aesGcmOpen(key, nonce, ciphertext, tag, aad);
  } finally {
    zeroize(key);
  }
}

/** Record envelope: 0x01 ‖ salt(16) ‖ nonce(12) ‖ ciphertext ‖ tag(16). */
export function sealRecord(
  fdk: Uint8Array,
  binding: RecordBinding,
  plaintext: Uint8Array,
  random: RandomSource,
): Buffer {
  return sealUnder(fdk, RECORD_HEADER, plaintext, recordAad(binding), random);
}

/**
 * Records sealed under one subkey before a RecordSealer draws a new salt
 * (ADR-21). With random 96-bit nonces, 1,024 messages under one key have a
 * nonce-collision probability below 2^-76; the 2^32 limit is far away.
 */
export const RECORDS_PER_SUBKEY = 1024;

/**
 * Seals many values of one (tenant, field, version, ORK) — a tokenize batch —
 * computing the shared part of the associated data once and one subkey per
 * RECORDS_PER_SUBKEY records (ADR-21): the HMAC that derives K_rec was a
 * third of a batch value's sealing cost. Each record still gets its own
 * random nonce and its token in the AAD; its envelope carries the salt, so
 * it opens like any other (openRecord). The first record of a sealer is
 * byte for byte sealRecord's with the same random bytes. close() zeroes the
 * subkey; sealing after close() throws.
 */
export class RecordSealer {
  private readonly tail: Buffer;
  private salt: Buffer | undefined;
  private key: Buffer | undefined;
  private sealed = 0;
  private closed = false;

  constructor(
    private readonly fdk: Uint8Array,
    binding: Omit<RecordBinding, 'token'>,
    private readonly random: RandomSource,
  ) {
    this.tail = recordAadTail(binding.tenant, binding.field, binding.tekVersion, binding.orkId);
  }

  seal(token: string, plaintext: Uint8Array): Buffer {
    if (this.closed) throw new Error('RecordSealer used after close()');
    if (this.key === undefined || this.salt === undefined || this.sealed === RECORDS_PER_SUBKEY) {
      zeroize(this.key);
      this.salt = this.random.bytes(SALT_BYTES);
      this.key = recordKey(this.fdk, this.salt);
      this.sealed = 0;
    }
    this.sealed++;
    return sealWithSubkey(
      this.key,
      this.salt,
      RECORD_HEADER,
      plaintext,
      recordAadWith(token, this.tail),
      this.random,
    );
  }

  /** Zeroes the current subkey. */
  close(): void {
    this.closed = true;
    zeroize(this.key);
    this.key = undefined;
  }
}

export function openRecord(fdk: Uint8Array, binding: RecordBinding, envelope: Buffer): Buffer | undefined {
  if (envelope[0] !== RECORD_FORMAT_V1) return undefined;
  return openUnder(fdk, envelope.subarray(1), recordAad(binding));
}

/** Header of a standalone ciphertext, readable before any key is derived. */
export interface CiphertextHeader {
  readonly tekVersion: number;
  readonly orkIdBytes: Buffer;
}

/**
 * Standalone ciphertext (encrypt/decrypt):
 * 0x02 ‖ u32be(tekVersion) ‖ orkId(16) ‖ salt(16) ‖ nonce(12) ‖ ciphertext ‖ tag(16).
 */
export function sealCiphertext(
  fdk: Uint8Array,
  binding: CiphertextBinding,
  orkIdBytes: Uint8Array,
  plaintext: Uint8Array,
  random: RandomSource,
): Buffer {
  if (orkIdBytes.length !== ORK_ID_BYTES) throw new RangeError('ORK id must be 16 bytes');
  const header = Buffer.concat([Buffer.from([CIPHERTEXT_FORMAT_V1]), u32be(binding.tekVersion), orkIdBytes]);
  return sealUnder(fdk, header, plaintext, ciphertextAad(binding), random);
}

const CIPHERTEXT_HEADER_BYTES = 1 + 4 + ORK_ID_BYTES;

export function readCiphertextHeader(bytes: Buffer): CiphertextHeader | undefined {
  if (bytes.length < CIPHERTEXT_HEADER_BYTES + SALT_BYTES + GCM_NONCE_BYTES + GCM_TAG_BYTES) return undefined;
  if (bytes[0] !== CIPHERTEXT_FORMAT_V1) return undefined;
  return { tekVersion: bytes.readUInt32BE(1), orkIdBytes: bytes.subarray(5, CIPHERTEXT_HEADER_BYTES) };
}

export function openCiphertext(
  fdk: Uint8Array,
  binding: CiphertextBinding,
  bytes: Buffer,
): Buffer | undefined {
  const header = readCiphertextHeader(bytes);
  if (header === undefined) return undefined;
  // The header is authenticated only through the binding: refuse one that
  // disagrees with it rather than rely on every caller to compare.
  if (header.tekVersion !== binding.tekVersion || header.orkIdBytes.toString('hex') !== binding.orkId)
    return undefined;
  return openUnder(fdk, bytes.subarray(CIPHERTEXT_HEADER_BYTES), ciphertextAad(binding));
}
