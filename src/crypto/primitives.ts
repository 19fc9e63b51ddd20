/**
 * The cryptographic primitives sidekey composes, on Node's OpenSSL bindings.
 *
 * Invariants:
 * - Only authenticated encryption (AES-256-GCM, 96-bit nonce, 128-bit tag).
 * - Only the CSPRNG (crypto.randomFillSync) as a source of randomness.
 * - Key buffers owned by sidekey are zeroed with `zeroize` when dropped.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomFillSync } from 'node:crypto';

export const AES_KEY_BYTES = 32;
export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;

/** RFC 5869 HKDF-SHA256 (extract and expand). */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
}

/**
 * RFC 5869 HKDF-Expand with SHA-256 for one output block (L = 32):
 * T(1) = HMAC-SHA256(PRK, info ‖ 0x01), `info` given in parts (concatenated).
 * Used where the input key is already
 * uniformly random (an FDK), so the extract step adds nothing.
 */
export function hkdfExpand32(prk: Uint8Array, ...info: Uint8Array[]): Buffer {
  const hmac = createHmac('sha256', prk);
  for (const part of info) hmac.update(part);
  return hmac.update(ONE).digest();
}
const ONE = Buffer.from([1]);

export interface Sealed {
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

export function aesGcmSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Sealed {
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(aad);
  const first = cipher.update(plaintext);
  const last = cipher.final();
  const ciphertext = last.length === 0 ? first : Buffer.concat([first, last]);
  return { ciphertext, tag: cipher.getAuthTag() };
}

/** Returns the plaintext, or undefined when authentication fails. */
export function aesGcmOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
  aad: Uint8Array,
): Buffer | undefined {
  if (tag.length !== GCM_TAG_BYTES || nonce.length !== GCM_NONCE_BYTES) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    const first = decipher.update(ciphertext);
    const last = decipher.final();
    return last.length === 0 ? first : Buffer.concat([first, last]);
  } catch {
    return undefined;
  }
}

export function zeroize(...buffers: (Uint8Array | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}

/** Where randomness comes from; injected so formats can be pinned by tests. */
export interface RandomSource {
  /** `n` fresh random bytes; never shared with another caller. */
  bytes(n: number): Buffer;
}

/**
 * CSPRNG bytes drawn from a pooled buffer: one randomFillSync per 4 KiB
 * instead of one per nonce (randomBytes(12) costs ~4.5 µs a call). A refill
 * allocates a new pool, so slices handed out earlier are never overwritten
 * and no byte is ever handed out twice.
 */
export class PooledRandom implements RandomSource {
  private pool: Buffer = Buffer.alloc(0);
  private offset = 0;

  constructor(private readonly poolSize = 4096) {}

  bytes(n: number): Buffer {
    if (n > this.poolSize) return randomFillSync(Buffer.allocUnsafe(n));
    if (this.offset + n > this.pool.length) {
      this.pool = randomFillSync(Buffer.allocUnsafe(this.poolSize));
      this.offset = 0;
    }
    const out = this.pool.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
}

export const systemRandom: RandomSource = new PooledRandom();
