/**
 * The store port: tenant keys, ORK records, token records and audit events.
 * Adapters: `embedded` (PGlite) and `postgres` (pg over mutual TLS). Both run
 * the same SQL (sql-store.ts) through a tiny `SqlClient`.
 *
 * The database only ever sees ciphertext, wrapped keys, ids, labels and
 * fingerprints — never a value, a plaintext key or an ORK.
 */
import type { FleetRegistry } from './fleet-registry.js';
import type { AuditLogStore } from './sql-audit-log.js';

export type { ChangeRow, FleetRegistry, SidecarRecord, SidecarRow } from './fleet-registry.js';
export type {
  AuditAnchorRow,
  AuditExportRow,
  AuditLogStore,
  AuditPartitionRow,
  AuditPruneRow,
  AuditRange,
} from './sql-audit-log.js';

export type TekState = 'primary' | 'active' | 'retired' | 'destroyed';
export type OrkState = 'active' | 'revoked';
export type TenantState = 'active' | 'shredded';

export interface TenantKeyRow {
  readonly tenant: string;
  readonly version: number;
  readonly state: TekState;
  readonly kekRef: string;
  /** Null once destroyed (the bytes are overwritten, not flagged). */
  readonly wrapped: Buffer | null;
  readonly createdAt: Date;
}

export interface TenantRow {
  readonly tenant: string;
  readonly state: TenantState;
  readonly createdAt: Date;
  readonly primaryVersion: number | null;
}

export interface OrkRow {
  readonly tenant: string;
  readonly orkId: string;
  readonly label: string;
  readonly fingerprint: string;
  readonly state: OrkState;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
  /**
   * Set on an ORK made by `ork rotate`: its organisation's lineage secret,
   * sealed under this ORK (docs/formats.md "Lineage secret"). Null for an
   * ORK that starts a lineage. Ciphertext: never an ORK or a secret in clear.
   */
  readonly lineageSeal?: Buffer | null;
  /**
   * The ORK's scope (v1.1, migration 5; src/access/ork-scope.ts): the
   * operations it may call and how much a reveal shows it. Undefined on
   * insert: every operation, `full`.
   */
  readonly allow?: readonly string[];
  readonly reveal?: string;
}

export type TokenKindName = 'random' | 'deterministic' | 'fpe';

export interface TokenRow {
  /** The record's key: the token itself, or for fpe tokens their storage id (`fpe_…`). */
  readonly token: string;
  readonly tenant: string;
  readonly field: string;
  readonly orkId: string;
  readonly tekVersion: number;
  readonly envelope: Buffer;
  /** Written with the record (default `random`); not read back on the hot path. */
  readonly kind?: TokenKindName;
  /** When the token stops being readable (v1.1 expiry); null or undefined: never. */
  readonly expiresAt?: Date | null;
  /** The data subject's key id (issue 13): the record is sealed under FDK_s; null or undefined: no subject. */
  readonly subjectKeyId?: string | null;
}

export type MaskRule = 'last4' | 'first6last4' | 'email' | 'redact';

/** A field policy as stored (API.md "Field policies"). */
export interface PolicyRow {
  readonly tenant: string;
  readonly field: string;
  readonly kind: TokenKindName;
  /** fpe: `digits`, `alnum` or the characters themselves; null for other kinds. */
  readonly alphabet: string | null;
  readonly keepPrefix: number;
  readonly keepSuffix: number;
  readonly mask: MaskRule;
  /** Null: tokens do not expire. */
  readonly ttlSeconds: number | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A tenant's token root key (deterministic and fpe tokens), wrapped by the KEK `kekRef` names. */
export interface TokenRootKeyRow {
  readonly tenant: string;
  readonly state: 'active' | 'destroyed';
  readonly kekRef: string;
  /** Null once destroyed (tenant shred). */
  readonly wrapped: Buffer | null;
}

/** An ingest key pair (issue 14): the public key in clear, the private key wrapped by the KEK `kekRef` names. */
export interface IngestKeyRow {
  readonly tenant: string;
  readonly keyId: string;
  readonly generation: number;
  readonly suite: 'xwing' | 'x25519';
  readonly publicKey: Buffer;
  readonly kekRef: string;
  readonly wrapped: Buffer;
  readonly createdAt: Date;
  /** When it stops opening (set by the rotation that replaced it); null while current. */
  readonly retireAt: Date | null;
}
export type NewIngestKey = Pick<IngestKeyRow, 'keyId' | 'suite' | 'publicKey' | 'kekRef' | 'wrapped'>;

/** Records per (tenant, TEK version, kind): `keys status`. */
export interface KindCountRow {
  readonly tenant: string;
  readonly version: number;
  readonly kind: TokenKindName;
  readonly records: number;
}

export interface AuditChainRow {
  readonly chainId: string;
  readonly kekRef: string;
  readonly wrappedKey: Buffer;
  readonly host: string;
  readonly startedAt: Date;
}

export interface AuditRow {
  readonly chainId: string;
  readonly seq: number;
  readonly prevHash: Buffer;
  readonly hash: Buffer;
  /** The event exactly as hashed (canonical JSON text). */
  readonly event: string;
}

export interface KeyStatusRow {
  readonly tenant: string;
  readonly version: number;
  readonly state: TekState;
  readonly kekRef: string;
  readonly createdAt: Date;
  readonly records: number;
}

/** Records per (tenant, TEK version, ORK): rotation progress for `keys status`. */
export interface RecordCountRow {
  readonly tenant: string;
  readonly version: number;
  readonly orkId: string;
  readonly records: number;
}

/** Which token records a re-encryption still has to move (keyset pagination by token). */
export interface MoveQuery {
  readonly tenant: string;
  /** Records of this ORK id... */
  readonly orkId: string;
  /** ...except those already under this TEK version (omitted: every record of the ORK). */
  readonly exceptVersion?: number;
  /** Only tokens after this one ('' for the first page). */
  readonly afterToken: string;
  readonly limit: number;
}

/**
 * One re-encrypted record. Applied only if the row is still exactly `from`
 * (optimistic: a deleted or concurrently changed row is left alone).
 */
export interface TokenReplacement {
  readonly token: string;
  readonly from: { readonly orkId: string; readonly tekVersion: number; readonly envelope: Buffer };
  readonly to: { readonly orkId: string; readonly tekVersion: number; readonly envelope: Buffer };
}

/** An `ork rotate` in progress or done: `fromOrkId`'s records move to `toOrkId`. */
export interface OrkReplacementRow {
  readonly tenant: string;
  readonly fromOrkId: string;
  readonly toOrkId: string;
  /** Set when every record had moved; null while the move is unfinished. */
  readonly finishedAt: Date | null;
}

/** A key as stored: wrapped by the KEK that `kekRef` names. */
export interface WrappedKey {
  readonly kekRef: string;
  readonly wrapped: Buffer;
}

export interface WriteBatch {
  readonly tokens: readonly TokenRow[];
  readonly audit: readonly AuditRow[];
}

/** A data subject's key (issue 13), wrapped by the KEK `kekRef` names. */
export interface SubjectKeyRow {
  readonly tenant: string;
  readonly subject: string;
  readonly keyId: string;
  readonly kekRef: string;
  readonly wrapped: Buffer;
}

/** A subject key by id. */
export interface SubjectKeyRef {
  readonly tenant: string;
  readonly keyId: string;
}

/** Per tenant: live subject keys and the records sealed under them (`keys status`; never subject ids). */
export interface SubjectCountRow {
  readonly tenant: string;
  readonly subjects: number;
  readonly records: number;
}

export interface Store {
  readonly kind: 'embedded' | 'postgres';
  /** Creates or upgrades the schema; returns the versions applied. */
  migrate(): Promise<number[]>;
  /** Grants a sidecar role exactly what it needs (postgres; a no-op for the embedded store, which has no roles). */
  grantSidecar(role: string): Promise<void>;
  /** Fails unless the store answers and its schema is current. */
  ping(): Promise<void>;

  /** With its first TEK and (v1.1) its token root key, in one transaction. */
  createTenant(tenant: string, firstKey: WrappedKey, tokenRootKey?: WrappedKey): Promise<boolean>;
  listTenants(): Promise<TenantRow[]>;
  getTenantKeys(tenant: string): Promise<TenantKeyRow[]>;

  insertOrk(row: Omit<OrkRow, 'createdAt' | 'revokedAt' | 'state'>): Promise<void>;
  getOrk(tenant: string, orkId: string): Promise<OrkRow | undefined>;
  listOrks(tenant: string): Promise<OrkRow[]>;
  revokeOrk(tenant: string, orkId: string): Promise<boolean>;
  /** Changes an active ORK's scope and announces `ork-changed` in the same transaction; false if no active ORK. */
  setOrkScope(
    tenant: string,
    orkId: string,
    scope: { readonly allow: readonly string[]; readonly reveal: string },
  ): Promise<boolean>;

  /**
   * One transaction: every row or none. Idempotent (primary keys, ON
   * CONFLICT DO NOTHING), except that a token row whose `expires_at` has
   * passed is replaced (a deterministic or fpe value tokenized again after
   * its token expired gets a readable record).
   */
  write(batch: WriteBatch): Promise<void>;
  getTokens(tokens: readonly string[]): Promise<TokenRow[]>;
  deleteTokens(tenant: string, orkId: string, tokens: readonly string[]): Promise<number>;

  /** Idempotent: inserting an existing chain id changes nothing. */
  insertAuditChain(row: Omit<AuditChainRow, 'startedAt'>): Promise<void>;
  listAuditChains(): Promise<AuditChainRow[]>;
  readAuditEvents(chainId: string, afterSeq: number, limit: number): Promise<AuditRow[]>;

  keyStatus(tenant?: string): Promise<KeyStatusRow[]>;

  // KEK rotation (operator role; docs/kms.md "KEK rotation"): no ORK, no
  // plaintext data, only wrapped keys change.

  /** Wrapped (not destroyed) TEK rows whose KEK is not `kekRef`, in (tenant, version) order after `after`. */
  listTenantKeysNotUnder(
    kekRef: string,
    after: { readonly tenant: string; readonly version: number } | undefined,
    limit: number,
  ): Promise<TenantKeyRow[]>;
  /**
   * Re-wraps one TEK version, only if the row still holds `from` (optimistic:
   * a concurrently changed or destroyed row is left alone, false). Announces
   * `tek-changed` at commit.
   */
  rewrapTenantKey(tenant: string, version: number, from: WrappedKey, to: WrappedKey): Promise<boolean>;
  /** Re-wraps an audit chain's MAC key, only if the row still holds `from`. */
  rewrapAuditChain(chainId: string, from: WrappedKey, to: WrappedKey): Promise<boolean>;

  // Key lifecycle (operator role; docs/operations.md). Every change is
  // announced to the fleet in the transaction that makes it.

  /** Adds TEK `version` as `active` (decrypt-capable, not yet used to encrypt). False if it exists. */
  addTekVersion(tenant: string, version: number, key: { kekRef: string; wrapped: Buffer }): Promise<boolean>;
  /** One transaction: the primary becomes `active` and `version` (active) becomes primary. False if `version` is not active. */
  promoteTekVersion(tenant: string, version: number): Promise<boolean>;
  /**
   * Retires the active versions below `below` (never the primary or a newer
   * one). Unless `force`, changes nothing while records still use a version
   * below `below`, and says how many.
   */
  retireTekVersions(
    tenant: string,
    below: number,
    force: boolean,
  ): Promise<{ readonly retired: number[]; readonly blockingRecords: number }>;
  /**
   * Crypto-shredding: every TEK version destroyed (wrapped key set to null)
   * and the tenant marked shredded, in one transaction. Returns the versions
   * destroyed now, or undefined for an unknown tenant.
   */
  shredTenant(tenant: string): Promise<number[] | undefined>;
  /** Rewrites the tenant key table so destroyed key bytes leave its live pages (best effort). */
  compactTenantKeys(): Promise<void>;
  /** Deletes up to `limit` token rows of a shredded tenant; 0 when none are left (or it is not shredded). */
  purgeTenantTokens(tenant: string, limit: number): Promise<number>;
  recordCounts(tenant?: string): Promise<RecordCountRow[]>;
  listTokensToMove(query: MoveQuery): Promise<TokenRow[]>;
  countTokensToMove(query: Omit<MoveQuery, 'afterToken' | 'limit'>): Promise<number>;
  /** Optimistic update of each record; returns how many were replaced. Sidecars drop their cached copies. */
  replaceTokenEnvelopes(tenant: string, rows: readonly TokenReplacement[]): Promise<number>;
  /** Records (once) that `fromOrkId` is being replaced by `toOrkId`; returns the replacement in force. */
  beginOrkReplacement(tenant: string, fromOrkId: string, toOrkId: string): Promise<OrkReplacementRow>;
  getOrkReplacement(tenant: string, fromOrkId: string): Promise<OrkReplacementRow | undefined>;
  finishOrkReplacement(tenant: string, fromOrkId: string): Promise<void>;

  // Field policies and token kinds (sql-token-kinds.ts). Policy changes are
  // announced to the fleet in their transaction (`policy-changed`).

  getPolicy(tenant: string, field: string): Promise<PolicyRow | undefined>;
  listPolicies(tenant: string): Promise<PolicyRow[]>;
  /** Creates or replaces; false for an unknown or shredded tenant. */
  putPolicy(policy: Omit<PolicyRow, 'createdAt' | 'updatedAt'>): Promise<boolean>;
  deletePolicy(tenant: string, field: string): Promise<boolean>;
  /** fpe records of one field (a new fpe format is refused while there are any). */
  countFpeRecords(tenant: string, field: string): Promise<number>;
  getTokenRootKey(tenant: string): Promise<TokenRootKeyRow | undefined>;
  /** Inserts unless one exists (concurrent creators end with one key); returns the row in force. */
  ensureTokenRootKey(tenant: string, key: WrappedKey): Promise<TokenRootKeyRow>;
  /** Sets an ORK's lineage seal once (a rerun of `ork rotate` keeps the first); announces `ork-changed`. */
  setOrkLineageSeal(tenant: string, orkId: string, seal: Buffer): Promise<void>;
  /** Wrapped (not destroyed) token root keys whose KEK is not `kekRef`, by tenant after `afterTenant`. */
  listTokenRootKeysNotUnder(kekRef: string, afterTenant: string, limit: number): Promise<TokenRootKeyRow[]>;
  /** Re-wraps a token root key only if the row still holds `from`; announces `tek-changed`. */
  rewrapTokenRootKey(tenant: string, from: WrappedKey, to: WrappedKey): Promise<boolean>;
  kindCounts(tenant?: string): Promise<KindCountRow[]>;

  // Data subjects (sql-subjects.ts, issue 13).

  getSubjectKey(tenant: string, subject: string): Promise<SubjectKeyRow | undefined>;
  getSubjectKeyById(tenant: string, keyId: string): Promise<SubjectKeyRow | undefined>;
  /** Inserts unless the subject has a key (concurrent first uses end with one key); returns the row in force. */
  ensureSubjectKey(tenant: string, subject: string, keyId: string, key: WrappedKey): Promise<SubjectKeyRow>;
  /**
   * Writes subjects' records (each with its `subjectKeyId`) in one statement
   * that first locks their key rows; a record whose key is gone is not
   * written. Returns the keys found: a request whose key is missing stored
   * nothing, so no write is ever acknowledged under a forgotten key.
   */
  writeSubjectTokens(rows: readonly TokenRow[]): Promise<SubjectKeyRef[]>;
  /**
   * Overwrites, then deletes the keys of these subjects and announces
   * `subjects-forgotten`, in one transaction; returns how many keys existed.
   */
  forgetSubjects(tenant: string, subjects: readonly string[]): Promise<number>;
  subjectCounts(tenant?: string): Promise<SubjectCountRow[]>;
  /** Subject keys whose KEK is not `kekRef`, by (tenant, key id) after `after`. */
  listSubjectKeysNotUnder(
    kekRef: string,
    after: { readonly tenant: string; readonly keyId: string } | undefined,
    limit: number,
  ): Promise<SubjectKeyRow[]>;
  /** Re-wraps a subject key only if the row still holds `from`. */
  rewrapSubjectKey(tenant: string, keyId: string, from: WrappedKey, to: WrappedKey): Promise<boolean>;

  /** The fleet registry: sidecars and the numbered changes they acknowledge (src/fleet). */
  readonly fleet: FleetRegistry;

  /** Audit at scale: daily partitions, exports, anchors and prunes (migration 8, sql-audit-log.ts). */
  readonly auditLog: AuditLogStore;

  // Expiry (sql-expiry.ts).

  /** Deletes up to `limit` token rows that expired at or before `now` (of `tenant`, or of all); returns how many. */
  purgeExpiredTokens(tenant: string | undefined, now: Date, limit: number): Promise<number>;
  countExpiredTokens(tenant: string | undefined, now: Date): Promise<number>;

  // Ingest key pairs (sql-ingest-keys.ts, issue 14).

  /** Every stored pair of the tenant (destroyed ones are deleted), newest generation first. */
  listIngestKeys(tenant: string): Promise<IngestKeyRow[]>;
  /**
   * Inserts `keys` as generation 1 unless the tenant has pairs already (two
   * sidecars racing end with one set); false for an unknown or shredded tenant.
   */
  createFirstIngestKeys(tenant: string, keys: readonly NewIngestKey[]): Promise<boolean>;
  /**
   * One transaction: deletes the pairs whose `retire_at` has passed, sets
   * `retire_at = now() + graceSeconds` on the current ones, inserts `keys` as
   * the next generation and announces `ingest-keys-changed`. Returns the new
   * generation and how many pairs were destroyed; undefined for an unknown
   * or shredded tenant.
   */
  rotateIngestKeys(
    tenant: string,
    keys: readonly NewIngestKey[],
    graceSeconds: number,
  ): Promise<{ readonly generation: number; readonly destroyed: number } | undefined>;

  /**
   * Destroys (deletes) the ingest pairs whose grace has passed — of `tenant`,
   * or of every tenant — and announces `ingest-keys-changed` for each tenant
   * that lost one, in the same transaction (`ingest-key purge`). Returns the
   * number destroyed per tenant (tenants with none left out).
   */
  destroyExpiredIngestKeys(
    tenant?: string,
  ): Promise<readonly { readonly tenant: string; readonly destroyed: number }[]>;

  /** Ingest pairs whose KEK is not `kekRef`, in (tenant, key id) order after `after` (`rotate kek`). */
  listIngestKeysNotUnder(
    kekRef: string,
    after: { readonly tenant: string; readonly keyId: string } | undefined,
    limit: number,
  ): Promise<IngestKeyRow[]>;
  /** Re-wraps one ingest private key only if the row still holds `from`; announces `ingest-keys-changed`. */
  rewrapIngestKey(tenant: string, keyId: string, from: WrappedKey, to: WrappedKey): Promise<boolean>;

  close(): Promise<void>;
}
