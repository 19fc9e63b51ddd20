/**
 * HPKE suites of end-to-end encrypted ingest (API.md "End-to-end encrypted
 * ingest", docs/formats.md §19). RFC 9180 base mode, single shot, through
 * the maintained `@hpke/*` libraries: no KEM or HPKE is written here.
 *
 *   suite     kem                                      kdf          aead
 *   xwing     X-Wing (ML-KEM-768 + X25519), 0x647a     HKDF-SHA256  AES-256-GCM
 *   x25519    DHKEM(X25519, HKDF-SHA256), 0x0020       HKDF-SHA256  AES-256-GCM
 *
 *   info  = UTF-8("sidekey/ingest/v1") ‖ 0x00 ‖ UTF-8(tenant) ‖ 0x00 ‖ UTF-8(field)
 *   aad   = empty
 *   sealed string = "hpke:" keyId ":" base64url(enc) ":" base64url(ciphertext)
 *
 * Invariants:
 * - `info` binds the tenant and the field: a value sealed for one cannot be
 *   opened as another's (HPKE's key schedule fails, the AEAD tag does not
 *   verify). Tenant and field names cannot contain 0x00 (their patterns).
 * - A private key is the KEM's 32-byte seed (both suites), random from the
 *   CSPRNG; only its wrapped form is stored (ingest-keyring.ts).
 * - Every failure to open is one error with no detail: a wrong key, a wrong
 *   tenant or field and a tampered ciphertext look the same.
 * The label, the separators and the string layout are frozen: changing one
 * makes every sealed value in flight unopenable.
 */
import type { CipherSuite } from '@hpke/core';
import type { XWing } from '@hpke/hybridkem-x-wing';
import { fromBase64Url, toBase64Url } from '../crypto/encoding.js';

export type SuiteName = 'xwing' | 'x25519';
export const SUITE_NAMES: readonly SuiteName[] = ['xwing', 'x25519'];

export interface SuiteInfo {
  readonly name: SuiteName;
  /** As GetIngestKeys names it (API.md). */
  readonly kem: string;
  readonly kdf: 'HKDF-SHA256';
  readonly aead: 'AES-256-GCM';
  readonly encBytes: number;
  readonly publicKeyBytes: number;
}

export const SUITES: Readonly<Record<SuiteName, SuiteInfo>> = {
  xwing: {
    name: 'xwing',
    kem: 'X-Wing',
    kdf: 'HKDF-SHA256',
    aead: 'AES-256-GCM',
    encBytes: 1120,
    publicKeyBytes: 1216,
  },
  x25519: {
    name: 'x25519',
    kem: 'DHKEM(X25519, HKDF-SHA256)',
    kdf: 'HKDF-SHA256',
    aead: 'AES-256-GCM',
    encBytes: 32,
    publicKeyBytes: 32,
  },
};

/** Both suites' private keys are 32-byte seeds. */
export const PRIVATE_KEY_BYTES = 32;
/** AES-256-GCM's tag. */
export const AEAD_TAG_BYTES = 16;
export const SEALED_PREFIX = 'hpke:';
const INFO_LABEL = 'sidekey/ingest/v1';
/** `<suite>_` ‖ base64url(16 random bytes). */
export const KEY_ID_PATTERN = /^(xwing|x25519)_[A-Za-z0-9_-]{22}$/;

/**
 * The library reads a view's whole underlying ArrayBuffer in places, and
 * Node's small Buffers share one 8 KiB pool: hand it views that own their
 * buffer. A copy of secret bytes is the caller's to zero (`owned` says so).
 */
function own(bytes: Uint8Array): { view: Uint8Array; owned: boolean } {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength)
    return { view: bytes, owned: false };
  return { view: new Uint8Array(bytes), owned: true };
}

const suites = new Map<SuiteName, Promise<CipherSuite>>();
/**
 * The library's suite object (one per process; it holds no key). The HPKE
 * libraries are imported here, on the first use of a suite — the first
 * sealed request, ingest key or `ingest-key` command — not when the daemon
 * starts: a sidecar that never sees a sealed value never loads them (ADR-19,
 * "memory"). X-Wing's (ML-KEM) only for the xwing suite.
 */
export function cipherSuite(name: SuiteName): Promise<CipherSuite> {
  let s = suites.get(name);
  if (s === undefined) {
    s = newCipherSuite(name);
    // A failed import is not cached: the next call tries again.
    s.catch(() => suites.delete(name));
    suites.set(name, s);
  }
  return s;
}

async function newCipherSuite(name: SuiteName): Promise<CipherSuite> {
  const { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } = await import('@hpke/core');
  const kem =
    name === 'xwing' ? new (await import('@hpke/hybridkem-x-wing')).XWing() : new DhkemX25519HkdfSha256();
  return new CipherSuite({ kem, kdf: new HkdfSha256(), aead: new Aes256Gcm() });
}

export function suiteOfKeyId(keyId: string): SuiteName | undefined {
  if (!KEY_ID_PATTERN.test(keyId)) return undefined;
  return keyId.startsWith('xwing_') ? 'xwing' : 'x25519';
}

export function newKeyId(suite: SuiteName, random: Uint8Array): string {
  if (random.length !== 16) throw new RangeError('a key id takes 16 random bytes');
  return `${suite}_${toBase64Url(random)}`;
}

export function ingestInfo(tenant: string, field: string): Uint8Array {
  return new TextEncoder().encode(`${INFO_LABEL}\u0000${tenant}\u0000${field}`);
}

export interface SealedParts {
  readonly keyId: string;
  readonly suite: SuiteName;
  readonly enc: Buffer;
  readonly ciphertext: Buffer;
}

/** The parts of a sealed string, or undefined when it is not one (syntax only; nothing is opened). */
export function parseSealed(text: string, maxPlaintextBytes: number): SealedParts | undefined {
  if (!text.startsWith(SEALED_PREFIX)) return undefined;
  const parts = text.slice(SEALED_PREFIX.length).split(':');
  if (parts.length !== 3) return undefined;
  const [keyId, encText, ctText] = parts as [string, string, string];
  const suite = suiteOfKeyId(keyId);
  if (suite === undefined) return undefined;
  // Length bounds before decoding: a huge item costs nothing.
  const maxCtChars = Math.ceil(((maxPlaintextBytes + AEAD_TAG_BYTES) * 4) / 3);
  if (ctText.length > maxCtChars || encText.length > Math.ceil((SUITES[suite].encBytes * 4) / 3))
    return undefined;
  const enc = fromBase64Url(encText);
  const ciphertext = fromBase64Url(ctText);
  if (enc === undefined || ciphertext === undefined) return undefined;
  if (enc.length !== SUITES[suite].encBytes || ciphertext.length < AEAD_TAG_BYTES) return undefined;
  if (ciphertext.length > maxPlaintextBytes + AEAD_TAG_BYTES) return undefined;
  return { keyId, suite, enc, ciphertext };
}

export function formatSealed(keyId: string, enc: Uint8Array, ciphertext: Uint8Array): string {
  return `${SEALED_PREFIX}${keyId}:${toBase64Url(enc)}:${toBase64Url(ciphertext)}`;
}

export interface IngestKeyPair {
  readonly publicKey: Buffer;
  /** The 32-byte seed; the caller wraps it and zeroes it. */
  readonly privateKey: Buffer;
}

/** A key pair from 32 CSPRNG bytes (X-Wing: the seed of draft-connolly-cfrg-xwing-kem; X25519: RFC 9180 DeriveKeyPair). */
export async function keyPairFromSeed(suite: SuiteName, seed: Uint8Array): Promise<IngestKeyPair> {
  if (seed.length !== PRIVATE_KEY_BYTES) throw new RangeError('an ingest key seed is 32 bytes');
  const kem = (await cipherSuite(suite)).kem;
  const ikm = own(seed);
  try {
    const pair =
      suite === 'xwing'
        ? await (kem as unknown as XWing).generateKeyPairDerand(ikm.view)
        : await kem.deriveKeyPair(ikm.view);
    const sk = new Uint8Array(await kem.serializePrivateKey(pair.privateKey));
    const privateKey = Buffer.from(sk);
    sk.fill(0);
    return { publicKey: Buffer.from(await kem.serializePublicKey(pair.publicKey)), privateKey };
  } finally {
    if (ikm.owned) ikm.view.fill(0);
  }
}

/** An opened private key for the length of one request (a library object sidekey cannot zero; see the threat model). */
export type OpeningKey = Awaited<ReturnType<CipherSuite['kem']['deserializePrivateKey']>>;

export async function openingKey(suite: SuiteName, privateKey: Uint8Array): Promise<OpeningKey> {
  const sk = own(privateKey);
  try {
    return await (await cipherSuite(suite)).kem.deserializePrivateKey(sk.view);
  } finally {
    if (sk.owned) sk.view.fill(0);
  }
}

/** The plaintext bytes, or undefined for anything that does not open (no reason given, by design). */
export async function openSealed(
  key: OpeningKey,
  parts: SealedParts,
  info: Uint8Array,
): Promise<Uint8Array | undefined> {
  const cs = await cipherSuite(parts.suite);
  try {
    const pt = await cs.open(
      { recipientKey: key, enc: own(parts.enc).view, info },
      own(parts.ciphertext).view,
    );
    return new Uint8Array(pt);
  } catch {
    return undefined;
  }
}
