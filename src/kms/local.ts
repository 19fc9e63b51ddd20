/**
 * The `local` KEK: 32 random bytes in `<data dir>/kek.key`, created 0600 on
 * first start. For development only: whoever can read the file holds the
 * root of the key hierarchy. (The ORK is still needed to decrypt data.)
 *
 * Wrapped format (docs/formats.md "Local KEK"):
 *   0x01 ‖ nonce(12) ‖ AES-256-GCM(KEK, nonce, key, aad) ‖ tag(16)
 *   aad = lp("sidekey/local-kek/v1") ‖ canonicalContext(context)
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import {
  aesGcmOpen,
  aesGcmSeal,
  canonicalContext,
  GCM_NONCE_BYTES,
  GCM_TAG_BYTES,
  generateKey,
  lengthPrefixed,
  type RandomSource,
  zeroize,
} from '../crypto/index.js';
import { type EncryptionContext, type KekPort, KmsError, type KmsHealth } from './port.js';

export const LOCAL_WRAP_FORMAT = 0x01;
const AAD_LABEL = lengthPrefixed('sidekey/local-kek/v1');
const FILE_HEADER = 'sidekey-local-kek-v1 ';

export interface LocalKekFile {
  readonly path: string;
  readonly created: boolean;
}

/** Reads the key file, creating it (0600, exclusively) when absent. */
export function loadOrCreateLocalKek(path: string): { key: Buffer; created: boolean } {
  try {
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    const key = generateKey();
    try {
      writeSync(fd, `${FILE_HEADER}${key.toString('base64')}\n`);
    } finally {
      closeSync(fd);
    }
    return { key, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(`local KEK file ${path} is readable by others (mode ${mode.toString(8)}); chmod 600 it`);
  }
  const text = readFileSync(path, 'utf8').trim();
  if (!text.startsWith(FILE_HEADER)) throw new Error(`local KEK file ${path} is not a sidekey key file`);
  const key = Buffer.from(text.slice(FILE_HEADER.length), 'base64');
  if (key.length !== 32) throw new Error(`local KEK file ${path} does not hold a 32-byte key`);
  return { key, created: false };
}

/** `local:` ‖ hex of the first 8 bytes of SHA-256(lp("sidekey/kek-id/v1") ‖ KEK). */
export function localKekRef(key: Uint8Array): string {
  const id = createHash('sha256').update(lengthPrefixed('sidekey/kek-id/v1')).update(key).digest('hex');
  return `local:${id.slice(0, 16)}`;
}

export class LocalKek implements KekPort {
  readonly provider = 'local' as const;
  readonly kekRef: string;
  private key: Buffer;

  constructor(
    key: Buffer,
    private readonly random: RandomSource,
  ) {
    if (key.length !== 32) throw new RangeError('local KEK must be 32 bytes');
    this.key = key;
    this.kekRef = localKekRef(key);
  }

  async wrap(plaintext: Uint8Array, context: EncryptionContext): Promise<Buffer> {
    this.assertOpen();
    const nonce = this.random.bytes(GCM_NONCE_BYTES);
    const aad = Buffer.concat([AAD_LABEL, canonicalContext(context)]);
    const { ciphertext, tag } = aesGcmSeal(this.key, nonce, plaintext, aad);
    return Buffer.concat([Buffer.from([LOCAL_WRAP_FORMAT]), nonce, ciphertext, tag]);
  }

  async unwrap(wrapped: Uint8Array, context: EncryptionContext): Promise<Buffer> {
    this.assertOpen();
    const bytes = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
    if (bytes.length < 1 + GCM_NONCE_BYTES + GCM_TAG_BYTES || bytes[0] !== LOCAL_WRAP_FORMAT) {
      throw new KmsError('integrity', 'wrapped key is malformed');
    }
    const nonce = bytes.subarray(1, 1 + GCM_NONCE_BYTES);
    const ciphertext = bytes.subarray(1 + GCM_NONCE_BYTES, bytes.length - GCM_TAG_BYTES);
    const tag = bytes.subarray(bytes.length - GCM_TAG_BYTES);
    const aad = Buffer.concat([AAD_LABEL, canonicalContext(context)]);
    const plain = aesGcmOpen(this.key, nonce, ciphertext, tag, aad);
    if (plain === undefined)
      throw new KmsError('integrity', 'wrapped key does not authenticate under this KEK and context');
    return plain;
  }

  async health(): Promise<KmsHealth> {
    return this.key.length === 32 ? { ok: true } : { ok: false, reason: 'local KEK closed' };
  }

  async close(): Promise<void> {
    zeroize(this.key);
    this.key = Buffer.alloc(0);
  }

  private assertOpen(): void {
    if (this.key.length !== 32) throw new KmsError('unavailable', 'local KEK is closed');
  }
}
