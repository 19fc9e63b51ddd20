/**
 * The one Store implementation, over a SqlClient. Multi-row writes use
 * unnest() over array parameters (bytea travels as hex text and is decoded
 * in SQL, which both drivers serialise identically), so a batch of any size
 * is one statement.
 */
import { SqlFleetRegistry } from './fleet-registry.js';
import { sidecarGrants } from './grants.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { announceRecordsChanged, notifyKeyEvent } from './notify.js';
import type {
  AuditChainRow,
  AuditRow,
  KeyStatusRow,
  OrkRow,
  Store,
  TenantKeyRow,
  TenantRow,
  TokenRow,
  WriteBatch,
} from './port.js';
import { SqlAuditLog } from './sql-audit-log.js';
import { type SqlClient, toBuffer } from './sql-client.js';
import { SqlIngestKeys } from './sql-ingest-keys.js';
import { hex, type Row, tenantKeyRow, tokenRow, tokenRowParams, tokenRowsFrom } from './sql-rows.js';

/**
 * Sidecar and administrative operations live here; the operator-only key
 * lifecycle (rotation, re-encryption, retirement, shredding) is inherited
 * from SqlLifecycle (sql-lifecycle.ts), field policies and token-kind keys
 * from SqlTokenKinds (sql-token-kinds.ts), expiry from SqlExpiry (sql-expiry.ts),
 * data subjects from SqlSubjects (sql-subjects.ts), ingest key pairs from
 * SqlIngestKeys (sql-ingest-keys.ts).
 */
export class SqlStore extends SqlIngestKeys implements Store {
  readonly fleet = new SqlFleetRegistry(this.sql);
  /** Audit partitions, export and prune records (migration 8, sql-audit-log.ts). */
  readonly auditLog = new SqlAuditLog(this.sql);

  constructor(
    readonly kind: 'embedded' | 'postgres',
    sql: SqlClient,
  ) {
    super(sql);
  }

  async migrate(): Promise<number[]> {
    return this.sql.transaction(async (tx) => {
      await tx.query(
        `create table if not exists sidekey_schema_migrations (
           version integer primary key, name text not null, applied_at timestamptz not null default now())`,
      );
      // Serialise concurrent migrators (several operators, several CI jobs).
      await tx.query('lock table sidekey_schema_migrations in exclusive mode');
      const done = new Set(
        (await tx.query<{ version: number }>('select version from sidekey_schema_migrations')).rows.map(
          (r) => r.version,
        ),
      );
      const applied: number[] = [];
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        await tx.exec(m.sql);
        await tx.query('insert into sidekey_schema_migrations (version, name) values ($1, $2)', [
          m.version,
          m.name,
        ]);
        applied.push(m.version);
      }
      return applied;
    });
  }

  async grantSidecar(role: string): Promise<void> {
    if (this.kind === 'embedded') return;
    await this.sql.exec(sidecarGrants(role));
  }

  async ping(): Promise<void> {
    let version: number | null = null;
    try {
      const r = await this.sql.query<{ v: number | null }>(
        'select max(version) as v from sidekey_schema_migrations',
      );
      version = r.rows[0]?.v ?? null;
    } catch (err) {
      // 42P01 undefined_table: never migrated. (42501, permission denied, is
      // a grants problem and is reported as it is.)
      if ((err as { code?: unknown }).code === '42P01') {
        throw new SchemaError('the schema is missing: run `sidekey migrate`');
      }
      throw err;
    }
    // Newer is fine: migrations are additive (expand first, contract only
    // after every sidecar runs the release that stopped using the old shape),
    // so a fleet keeps serving while `sidekey migrate` runs ahead of it.
    if (version === null || version < SCHEMA_VERSION) {
      throw new SchemaError(
        `schema version ${version ?? 'none'} is older than ${SCHEMA_VERSION}: run \`sidekey migrate\``,
      );
    }
  }

  async createTenant(
    tenant: string,
    firstKey: { kekRef: string; wrapped: Buffer },
    tokenRootKey?: { kekRef: string; wrapped: Buffer },
  ): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const r = await tx.query('insert into sidekey_tenants (tenant) values ($1) on conflict do nothing', [
        tenant,
      ]);
      if (r.rowCount === 0) return false;
      await tx.query(
        `insert into sidekey_tenant_keys (tenant, version, state, kek_ref, wrapped_key)
         values ($1, 1, 'primary', $2, decode($3, 'hex'))`,
        [tenant, firstKey.kekRef, hex(firstKey.wrapped)],
      );
      if (tokenRootKey !== undefined) {
        await tx.query(
          `insert into sidekey_token_keys (tenant, kek_ref, wrapped_key) values ($1, $2, decode($3, 'hex'))`,
          [tenant, tokenRootKey.kekRef, hex(tokenRootKey.wrapped)],
        );
      }
      return true;
    });
  }

  async listTenants(): Promise<TenantRow[]> {
    const r = await this.sql.query(
      `select t.tenant, t.state, t.created_at,
              (select version from sidekey_tenant_keys k where k.tenant = t.tenant and k.state = 'primary') as primary_version
         from sidekey_tenants t order by t.tenant`,
    );
    return r.rows.map((x) => ({
      tenant: x.tenant as string,
      state: x.state as TenantRow['state'],
      createdAt: x.created_at as Date,
      primaryVersion: (x.primary_version as number | null) ?? null,
    }));
  }

  async getTenantKeys(tenant: string): Promise<TenantKeyRow[]> {
    const r = await this.sql.query(
      `select tenant, version, state, kek_ref, wrapped_key, created_at
         from sidekey_tenant_keys where tenant = $1 order by version`,
      [tenant],
    );
    return r.rows.map(tenantKeyRow);
  }

  async insertOrk(row: Omit<OrkRow, 'createdAt' | 'revokedAt' | 'state'>): Promise<void> {
    await this.sql.query(
      `insert into sidekey_orks (tenant, ork_id, label, fingerprint, allow_ops, reveal)
       values ($1, $2, $3, $4, coalesce($5::text[], array['tokenize', 'detokenize', 'encrypt', 'decrypt', 'delete', 'forget']), coalesce($6, 'full'))`,
      [row.tenant, row.orkId, row.label, row.fingerprint, row.allow ?? null, row.reveal ?? null],
    );
  }

  /** Changes the scope and, in the same transaction, tells every sidecar to drop the ORK's cached identity. */
  async setOrkScope(
    tenant: string,
    orkId: string,
    scope: { readonly allow: readonly string[]; readonly reveal: string },
  ): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const r = await tx.query(
        `update sidekey_orks set allow_ops = $3::text[], reveal = $4
          where tenant = $1 and ork_id = $2 and state = 'active'`,
        [tenant, orkId, scope.allow, scope.reveal],
      );
      if (r.rowCount > 0) await notifyKeyEvent(tx, { kind: 'ork-changed', tenant, orkId });
      return r.rowCount > 0;
    });
  }

  async getOrk(tenant: string, orkId: string): Promise<OrkRow | undefined> {
    const r = await this.sql.query('select * from sidekey_orks where tenant = $1 and ork_id = $2', [
      tenant,
      orkId,
    ]);
    return r.rows[0] === undefined ? undefined : orkRow(r.rows[0]);
  }

  async listOrks(tenant: string): Promise<OrkRow[]> {
    const r = await this.sql.query(
      'select * from sidekey_orks where tenant = $1 order by created_at, ork_id',
      [tenant],
    );
    return r.rows.map(orkRow);
  }

  /** Revokes and, in the same transaction, tells every sidecar (delivered at commit). */
  async revokeOrk(tenant: string, orkId: string): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const r = await tx.query(
        `update sidekey_orks set state = 'revoked', revoked_at = now()
          where tenant = $1 and ork_id = $2 and state = 'active'`,
        [tenant, orkId],
      );
      if (r.rowCount > 0) await notifyKeyEvent(tx, { kind: 'ork-revoked', tenant, orkId });
      return r.rowCount > 0;
    });
  }

  /**
   * One statement, so one round trip and its own transaction: the inserts
   * are data-modifying CTEs of a single statement, atomic together (an
   * explicit BEGIN … COMMIT took four round trips per flush).
   *
   * Expiry (docs/architecture.md ADR-14): a deterministic or fpe record key
   * can already hold an expired record, which `on conflict do nothing`
   * would keep, leaving the value's token unreadable for good. So `expired`
   * first deletes the expired rows of those keys, and the token insert
   * waits for it (it reads its count): a row deleted earlier in the same
   * statement no longer conflicts. Random tokens are never looked up (a new
   * random token is never an existing key), so a random batch costs nothing
   * more. A delete rather than `on conflict do update`: the sidecar role
   * keeps its grants (no UPDATE on token rows).
   */
  async write(batch: WriteBatch): Promise<void> {
    if (batch.tokens.length === 0 && batch.audit.length === 0) return;
    const a = batch.audit;
    const { params, reusable } = tokenRowParams(batch.tokens);
    await this.sql.query(
      `with expired as (
         delete from sidekey_tokens
          where token = any($11::text[]) and expires_at is not null and expires_at <= now()
         returning 1
       ), tokens as (
         insert into sidekey_tokens (token, tenant, field, ork_id, tek_version, envelope, kind, expires_at)
         select r.token, g.tenant, g.field, g.ork_id, g.tek_version, decode(r.envelope, 'base64'), g.kind,
                g.expires_at::timestamptz
           from ${tokenRowsFrom(1)}
          where (select count(*) from expired) >= 0
         on conflict (token) do nothing
       ), audit as (
         insert into sidekey_audit_log (chain_id, seq, prev_hash, hash, event, event_time)
         select chain_id, seq, decode(prev_hash, 'hex'), decode(hash, 'hex'), event, event_time
           from unnest($12::text[], $13::bigint[], $14::text[], $15::text[], $16::text[], $17::timestamptz[])
                as u(chain_id, seq, prev_hash, hash, event, event_time)
         on conflict (chain_id, seq, event_time) do nothing
       )
       select 1`,
      [
        ...params,
        reusable,
        a.map((r) => r.chainId),
        a.map((r) => r.seq),
        a.map((r) => hex(r.prevHash)),
        a.map((r) => hex(r.hash)),
        a.map((r) => r.event),
        a.map((r) => auditEventTime(r.event)),
      ],
      { prepareAs: 'sidekey_write' },
    );
  }

  async getTokens(tokens: readonly string[]): Promise<TokenRow[]> {
    if (tokens.length === 0) return [];
    const r = await this.sql.query(
      `select token, tenant, field, ork_id, tek_version, envelope, expires_at, subject_key_id
         from sidekey_tokens where token = any($1::text[])`,
      [tokens],
      { prepareAs: 'sidekey_get_tokens' },
    );
    return r.rows.map(tokenRow);
  }

  /** Deletes and announces the deleted tokens so other sidecars drop their cached records. */
  async deleteTokens(tenant: string, orkId: string, tokens: readonly string[]): Promise<number> {
    return this.sql.transaction(async (tx) => {
      const r = await tx.query<{ token: string }>(
        'delete from sidekey_tokens where tenant = $1 and ork_id = $2 and token = any($3::text[]) returning token',
        [tenant, orkId, tokens],
      );
      const deleted = r.rows.map((x) => x.token);
      await announceRecordsChanged(tx, tenant, deleted);
      return deleted.length;
    });
  }

  async insertAuditChain(row: Omit<AuditChainRow, 'startedAt'>): Promise<void> {
    await this.sql.query(
      `insert into sidekey_audit_chains (chain_id, kek_ref, wrapped_key, host) values ($1, $2, decode($3, 'hex'), $4)
       on conflict (chain_id) do nothing`,
      [row.chainId, row.kekRef, hex(row.wrappedKey), row.host],
    );
  }

  async listAuditChains(): Promise<AuditChainRow[]> {
    const r = await this.sql.query('select * from sidekey_audit_chains order by started_at, chain_id');
    return r.rows.map((x) => ({
      chainId: x.chain_id as string,
      kekRef: x.kek_ref as string,
      wrappedKey: toBuffer(x.wrapped_key),
      host: x.host as string,
      startedAt: x.started_at as Date,
    }));
  }

  async readAuditEvents(chainId: string, afterSeq: number, limit: number): Promise<AuditRow[]> {
    const r = await this.sql.query(
      // The partitioned log (migration 8) and what an older sidecar may still
      // have written into the table before it, not yet moved over.
      `select chain_id, seq, prev_hash, hash, event from (
         select chain_id, seq, prev_hash, hash, event from sidekey_audit_log where chain_id = $1 and seq > $2
         union all
         select chain_id, seq, prev_hash, hash, event from sidekey_audit_events where chain_id = $1 and seq > $2
       ) e order by seq limit $3`,
      [chainId, afterSeq, limit],
    );
    return r.rows.map((x) => ({
      chainId: x.chain_id as string,
      seq: Number(x.seq),
      prevHash: toBuffer(x.prev_hash),
      hash: toBuffer(x.hash),
      event: x.event as string,
    }));
  }

  async keyStatus(tenant?: string): Promise<KeyStatusRow[]> {
    const r = await this.sql.query(
      `select k.tenant, k.version, k.state, k.kek_ref, k.created_at,
              (select count(*) from sidekey_tokens t where t.tenant = k.tenant and t.tek_version = k.version) as records
         from sidekey_tenant_keys k
        where $1::text is null or k.tenant = $1
        order by k.tenant, k.version`,
      [tenant ?? null],
    );
    return r.rows.map((x) => ({
      tenant: x.tenant as string,
      version: x.version as number,
      state: x.state as KeyStatusRow['state'],
      kekRef: x.kek_ref as string,
      createdAt: x.created_at as Date,
      records: Number(x.records),
    }));
  }

  close(): Promise<void> {
    return this.sql.close();
  }
}

function orkRow(x: Row): OrkRow {
  return {
    tenant: x.tenant as string,
    orkId: x.ork_id as string,
    label: x.label as string,
    fingerprint: x.fingerprint as string,
    state: x.state as OrkRow['state'],
    createdAt: x.created_at as Date,
    revokedAt: (x.revoked_at as Date | null) ?? null,
    lineageSeal: x.lineage_seal === null || x.lineage_seal === undefined ? null : toBuffer(x.lineage_seal),
    ...(Array.isArray(x.allow_ops) && { allow: x.allow_ops as string[] }),
    ...(typeof x.reveal === 'string' && { reveal: x.reveal }),
  };
}

/** The schema is missing or behind: an operator must run `sidekey migrate`. */
export class SchemaError extends Error {
  override readonly name = 'SchemaError';
}

/**
 * The partition key of an audit row (migration 8): the event's own time, as
 * SQL's sidekey_audit_event_time() reads it — the `time` that eventText
 * writes first — or the epoch when absent. Computed here rather than by that
 * function in the insert: a SQL function with its own search_path is not
 * inlined, and calling it per row cost PostgreSQL CPU on every write.
 */
const EVENT_TIME = /^\{"time":"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z)"/;
export function auditEventTime(event: string): string {
  return EVENT_TIME.exec(event)?.[1] ?? '1970-01-01T00:00:00Z';
}
