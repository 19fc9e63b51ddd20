/**
 * The store port: tenant keys, ORK records, token records and audit events.
 * Adapters: `embedded` (PGlite) and `postgres` (pg over mutual TLS). Both run
 * the same SQL (sql-store.ts) through a tiny `SqlClient`.
 *
 * The database only ever sees ciphertext, wrapped keys, ids, labels and
 * fingerprints — never a value, a plaintext key or an ORK.
 */

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
}

export interface TokenRow {
  readonly token: string;
  readonly tenant: string;
  readonly field: string;
  readonly orkId: string;
  readonly tekVersion: number;
  readonly envelope: Buffer;
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

export interface WriteBatch {
  readonly tokens: readonly TokenRow[];
  readonly audit: readonly AuditRow[];
}

export interface Store {
  readonly kind: 'embedded' | 'postgres';
  /** Creates or upgrades the schema; returns the versions applied. */
  migrate(): Promise<number[]>;
  /** Grants a sidecar role exactly what it needs (postgres; a no-op for the embedded store, which has no roles). */
  grantSidecar(role: string): Promise<void>;
  /** Fails unless the store answers and its schema is current. */
  ping(): Promise<void>;

  createTenant(tenant: string, firstKey: { kekRef: string; wrapped: Buffer }): Promise<boolean>;
  listTenants(): Promise<TenantRow[]>;
  getTenantKeys(tenant: string): Promise<TenantKeyRow[]>;

  insertOrk(row: Omit<OrkRow, 'createdAt' | 'revokedAt' | 'state'>): Promise<void>;
  getOrk(tenant: string, orkId: string): Promise<OrkRow | undefined>;
  listOrks(tenant: string): Promise<OrkRow[]>;
  revokeOrk(tenant: string, orkId: string): Promise<boolean>;

  /** One transaction: every row or none. Idempotent (primary keys, ON CONFLICT DO NOTHING). */
  write(batch: WriteBatch): Promise<void>;
  getTokens(tokens: readonly string[]): Promise<TokenRow[]>;
  deleteTokens(tenant: string, orkId: string, tokens: readonly string[]): Promise<number>;

  /** Idempotent: inserting an existing chain id changes nothing. */
  insertAuditChain(row: Omit<AuditChainRow, 'startedAt'>): Promise<void>;
  listAuditChains(): Promise<AuditChainRow[]>;
  readAuditEvents(chainId: string, afterSeq: number, limit: number): Promise<AuditRow[]>;

  keyStatus(tenant?: string): Promise<KeyStatusRow[]>;
  close(): Promise<void>;
}
