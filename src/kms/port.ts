/**
 * The KEK port: the only thing sidekey asks of a KMS. Adapters (local, aws,
 * vault) implement it; the keyring never sees which one it talks to.
 *
 * An encryption context is bound to the wrapped bytes exactly as AWS KMS
 * binds it: unwrap with any other context fails. Adapters whose KMS has no
 * native context (Vault transit without derivation) must bind it themselves.
 */

export type KmsProvider = 'local' | 'aws' | 'vault';

export type EncryptionContext = Readonly<Record<string, string>>;

export type KmsHealth = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface KekPort {
  readonly provider: KmsProvider;
  /**
   * Stable reference to the KEK, recorded beside every key it wraps so the
   * right KEK is chosen on unwrap and KEK rotation can find what is left to
   * re-wrap. Never secret. Examples: `local:3f9a…`, `aws:arn:aws:kms:…`.
   */
  readonly kekRef: string;
  wrap(plaintext: Uint8Array, context: EncryptionContext): Promise<Buffer>;
  /** Throws KmsError: `integrity` for wrong context or tampered bytes. */
  unwrap(wrapped: Uint8Array, context: EncryptionContext): Promise<Buffer>;
  health(): Promise<KmsHealth>;
  close(): Promise<void>;
}

export type KmsErrorKind =
  /** Ciphertext or context do not authenticate: tampered, foreign or wrong key. */
  | 'integrity'
  /** KMS unreachable, throttled or timed out: retry later. */
  | 'unavailable'
  /** The KMS refused our credentials or the key is disabled. */
  | 'denied';

export class KmsError extends Error {
  constructor(
    readonly kind: KmsErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KmsError';
  }
}

/** The KEKs a process can use: wraps with the primary, unwraps with any. */
export interface KekRing {
  readonly primary: KekPort;
  byRef(kekRef: string): KekPort | undefined;
  all(): readonly KekPort[];
}

export function kekRing(primary: KekPort, others: readonly KekPort[] = []): KekRing {
  const map = new Map<string, KekPort>();
  for (const k of [primary, ...others]) map.set(k.kekRef, k);
  return {
    primary,
    byRef: (ref) => map.get(ref),
    all: () => [...map.values()],
  };
}

/** Encryption contexts sidekey uses; frozen (docs/formats.md "KMS contexts"). */
export const kmsContext = {
  tek: (tenant: string, version: number): EncryptionContext => ({
    purpose: 'tek',
    tenant,
    version: String(version),
  }),
  ork: (tenant: string, orkId: string): EncryptionContext => ({ purpose: 'ork', tenant, ork_id: orkId }),
  auditChain: (chainId: string): EncryptionContext => ({ purpose: 'audit', chain: chainId }),
  /** The tenant's token root key (deterministic and fpe tokens). */
  tokenRootKey: (tenant: string): EncryptionContext => ({ purpose: 'token-root', tenant }),
  /** A data subject's key (issue 13): the key id, never the subject. */
  subject: (tenant: string, keyId: string): EncryptionContext => ({
    purpose: 'subject',
    tenant,
    key_id: keyId,
  }),
  /** A private key of end-to-end encrypted ingest (issue 14, docs/formats.md §19). */
  ingestKey: (tenant: string, keyId: string): EncryptionContext => ({
    purpose: 'ingest',
    tenant,
    key_id: keyId,
  }),
};
