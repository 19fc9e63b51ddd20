/**
 * The one Store implementation, over a SqlClient. Multi-row writes use
 * unnest() over array parameters (bytea travels as hex text and is decoded
 * in SQL, which both drivers serialise identically), so a batch of any size
 * is one statement.
 */
import { sidecarGrants } from './grants.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { notifyKeyEvent, TOKENS_PER_EVENT } from './notify.js';
import type {
  AuditChainRow,
  AuditRow,
  KeyStatusRow,
  MoveQuery,
  OrkReplacementRow,
  OrkRow,
  RecordCountRow,
  Store,
  TenantKeyRow,
  TenantRow,
  TokenReplacement,
  TokenRow,
  WrappedKey,
  WriteBatch,
} from './port.js';
import { type SqlClient, toBuffer } from './sql-client.js';

type Row = Record<string, unknown>;

const hex = (b: Buffer) => b.toString('hex');

export class SqlStore implements Store {
  constructor(
    readonly kind: 'embedded' | 'postgres',
    private readonly sql: SqlClient,
  ) {}

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

  async createTenant(tenant: string, firstKey: { kekRef: string; wrapped: Buffer }): Promise<boolean> {
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
    return r.rows.map((x) => ({
      tenant: x.tenant as string,
      version: x.version as number,
      state: x.state as TenantKeyRow['state'],
      kekRef: x.kek_ref as string,
      wrapped: x.wrapped_key === null ? null : toBuffer(x.wrapped_key),
      createdAt: x.created_at as Date,
    }));
  }

  async insertOrk(row: Omit<OrkRow, 'createdAt' | 'revokedAt' | 'state'>): Promise<void> {
    await this.sql.query(
      'insert into sidekey_orks (tenant, ork_id, label, fingerprint) values ($1, $2, $3, $4)',
      [row.tenant, row.orkId, row.label, row.fingerprint],
    );
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

  async write(batch: WriteBatch): Promise<void> {
    if (batch.tokens.length === 0 && batch.audit.length === 0) return;
    await this.sql.transaction(async (tx) => {
      if (batch.tokens.length > 0) {
        const t = batch.tokens;
        await tx.query(
          `insert into sidekey_tokens (token, tenant, field, ork_id, tek_version, envelope)
           select token, tenant, field, ork_id, tek_version, decode(envelope, 'hex')
             from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[])
                  as u(token, tenant, field, ork_id, tek_version, envelope)
           on conflict (token) do nothing`,
          [
            t.map((r) => r.token),
            t.map((r) => r.tenant),
            t.map((r) => r.field),
            t.map((r) => r.orkId),
            t.map((r) => r.tekVersion),
            t.map((r) => hex(r.envelope)),
          ],
        );
      }
      if (batch.audit.length > 0) {
        const a = batch.audit;
        await tx.query(
          `insert into sidekey_audit_events (chain_id, seq, prev_hash, hash, event)
           select chain_id, seq, decode(prev_hash, 'hex'), decode(hash, 'hex'), event
             from unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[])
                  as u(chain_id, seq, prev_hash, hash, event)
           on conflict (chain_id, seq) do nothing`,
          [
            a.map((r) => r.chainId),
            a.map((r) => r.seq),
            a.map((r) => hex(r.prevHash)),
            a.map((r) => hex(r.hash)),
            a.map((r) => r.event),
          ],
        );
      }
    });
  }

  async getTokens(tokens: readonly string[]): Promise<TokenRow[]> {
    if (tokens.length === 0) return [];
    const r = await this.sql.query(
      'select token, tenant, field, ork_id, tek_version, envelope from sidekey_tokens where token = any($1::text[])',
      [tokens],
    );
    return r.rows.map((x) => ({
      token: x.token as string,
      tenant: x.tenant as string,
      field: x.field as string,
      orkId: x.ork_id as string,
      tekVersion: x.tek_version as number,
      envelope: toBuffer(x.envelope),
    }));
  }

  /** Deletes and announces the deleted tokens so other sidecars drop their cached records. */
  async deleteTokens(tenant: string, orkId: string, tokens: readonly string[]): Promise<number> {
    return this.sql.transaction(async (tx) => {
      const r = await tx.query<{ token: string }>(
        'delete from sidekey_tokens where tenant = $1 and ork_id = $2 and token = any($3::text[]) returning token',
        [tenant, orkId, tokens],
      );
      const deleted = r.rows.map((x) => x.token);
      for (let i = 0; i < deleted.length; i += TOKENS_PER_EVENT) {
        await notifyKeyEvent(tx, {
          kind: 'tokens-deleted',
          tenant,
          tokens: deleted.slice(i, i + TOKENS_PER_EVENT),
        });
      }
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
      `select chain_id, seq, prev_hash, hash, event from sidekey_audit_events
        where chain_id = $1 and seq > $2 order by seq limit $3`,
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

  // --- key lifecycle (docs/operations.md) ---

  async addTekVersion(
    tenant: string,
    version: number,
    key: { kekRef: string; wrapped: Buffer },
  ): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const r = await tx.query(
        `insert into sidekey_tenant_keys (tenant, version, state, kek_ref, wrapped_key)
         select $1, $2, 'active', $3, decode($4, 'hex')
          where exists (select 1 from sidekey_tenants where tenant = $1 and state = 'active')
         on conflict do nothing`,
        [tenant, version, key.kekRef, hex(key.wrapped)],
      );
      if (r.rowCount > 0) await notifyKeyEvent(tx, { kind: 'tek-changed', tenant });
      return r.rowCount > 0;
    });
  }

  async promoteTekVersion(tenant: string, version: number): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const target = await tx.query(
        `select 1 from sidekey_tenant_keys where tenant = $1 and version = $2 and state = 'active' for update`,
        [tenant, version],
      );
      if (target.rows.length === 0) return false; // (PGlite reports no rowCount for a select)
      // Demote first: at most one primary per tenant (unique index), checked per statement.
      await tx.query(
        `update sidekey_tenant_keys set state = 'active' where tenant = $1 and state = 'primary'`,
        [tenant],
      );
      await tx.query(`update sidekey_tenant_keys set state = 'primary' where tenant = $1 and version = $2`, [
        tenant,
        version,
      ]);
      await notifyKeyEvent(tx, { kind: 'tek-changed', tenant });
      return true;
    });
  }

  async retireTekVersions(
    tenant: string,
    below: number,
    force: boolean,
  ): Promise<{ retired: number[]; blockingRecords: number }> {
    return this.sql.transaction(async (tx) => {
      // Lock the tenant's key rows: no rotation changes the primary meanwhile.
      await tx.query('select version from sidekey_tenant_keys where tenant = $1 for update', [tenant]);
      const counted = await tx.query<{ n: unknown }>(
        'select count(*) as n from sidekey_tokens where tenant = $1 and tek_version < $2',
        [tenant, below],
      );
      const blockingRecords = Number(counted.rows[0]?.n ?? 0);
      if (blockingRecords > 0 && !force) return { retired: [], blockingRecords };
      const r = await tx.query<{ version: number }>(
        `update sidekey_tenant_keys set state = 'retired'
          where tenant = $1 and state = 'active' and version < $2
            and version < (select version from sidekey_tenant_keys where tenant = $1 and state = 'primary')
        returning version`,
        [tenant, below],
      );
      const retired = r.rows.map((x) => x.version).sort((a, b) => a - b);
      if (retired.length > 0) await notifyKeyEvent(tx, { kind: 'tek-changed', tenant });
      return { retired, blockingRecords };
    });
  }

  async shredTenant(tenant: string): Promise<number[] | undefined> {
    return this.sql.transaction(async (tx) => {
      const t = await tx.query('select state from sidekey_tenants where tenant = $1 for update', [tenant]);
      if (t.rows.length === 0) return undefined;
      // The wrapped key bytes are overwritten with null, not just flagged
      // (the schema ties state 'destroyed' to a null wrapped_key).
      const r = await tx.query<{ version: number }>(
        `update sidekey_tenant_keys set state = 'destroyed', wrapped_key = null
          where tenant = $1 and state <> 'destroyed' returning version`,
        [tenant],
      );
      await tx.query(`update sidekey_tenants set state = 'shredded' where tenant = $1`, [tenant]);
      await notifyKeyEvent(tx, { kind: 'tenant-shredded', tenant });
      return r.rows.map((x) => x.version).sort((a, b) => a - b);
    });
  }

  async compactTenantKeys(): Promise<void> {
    // A new table file without the dead row versions that still held the
    // wrapped keys; the table is tiny, so the exclusive lock is brief.
    await this.sql.exec('vacuum full sidekey_tenant_keys');
  }

  async purgeTenantTokens(tenant: string, limit: number): Promise<number> {
    return this.sql.transaction(async (tx) => {
      const r = await tx.query<{ token: string }>(
        `delete from sidekey_tokens where token in (
           select token from sidekey_tokens
            where tenant = $1
              and exists (select 1 from sidekey_tenants where tenant = $1 and state = 'shredded')
            limit $2)
         returning token`,
        [tenant, limit],
      );
      const deleted = r.rows.map((x) => x.token);
      for (let i = 0; i < deleted.length; i += TOKENS_PER_EVENT) {
        await notifyKeyEvent(tx, {
          kind: 'tokens-deleted',
          tenant,
          tokens: deleted.slice(i, i + TOKENS_PER_EVENT),
        });
      }
      return deleted.length;
    });
  }

  async recordCounts(tenant?: string): Promise<RecordCountRow[]> {
    const r = await this.sql.query(
      `select tenant, tek_version, ork_id, count(*) as records from sidekey_tokens
        where $1::text is null or tenant = $1
        group by tenant, tek_version, ork_id
        order by tenant, tek_version, ork_id`,
      [tenant ?? null],
    );
    return r.rows.map((x) => ({
      tenant: x.tenant as string,
      version: x.tek_version as number,
      orkId: x.ork_id as string,
      records: Number(x.records),
    }));
  }

  async listTokensToMove(q: MoveQuery): Promise<TokenRow[]> {
    const r = await this.sql.query(
      `select token, tenant, field, ork_id, tek_version, envelope from sidekey_tokens
        where tenant = $1 and ork_id = $2 and ($3::int is null or tek_version <> $3) and token > $4
        order by token limit $5`,
      [q.tenant, q.orkId, q.exceptVersion ?? null, q.afterToken, q.limit],
    );
    return r.rows.map(tokenRow);
  }

  async countTokensToMove(q: Omit<MoveQuery, 'afterToken' | 'limit'>): Promise<number> {
    const r = await this.sql.query<{ n: unknown }>(
      `select count(*) as n from sidekey_tokens
        where tenant = $1 and ork_id = $2 and ($3::int is null or tek_version <> $3)`,
      [q.tenant, q.orkId, q.exceptVersion ?? null],
    );
    return Number(r.rows[0]?.n ?? 0);
  }

  /**
   * Optimistic: a row is replaced only if it is still exactly what was read
   * (ORK id, version and envelope). A deleted row matches nothing, so it is
   * never resurrected; a row someone else re-encrypted is left alone.
   * Replaced tokens are announced like deletions: every sidecar drops its
   * cached (old) ciphertext and reads the new record.
   */
  async replaceTokenEnvelopes(tenant: string, rows: readonly TokenReplacement[]): Promise<number> {
    if (rows.length === 0) return 0;
    return this.sql.transaction(async (tx) => {
      const r = await tx.query<{ token: string }>(
        `update sidekey_tokens t
            set ork_id = u.to_ork, tek_version = u.to_version, envelope = decode(u.to_env, 'hex')
           from unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::int[], $8::text[])
                as u(token, from_ork, from_version, from_env, to_ork, to_version, to_env)
          where t.token = u.token and t.tenant = $1 and t.ork_id = u.from_ork
            and t.tek_version = u.from_version and t.envelope = decode(u.from_env, 'hex')
        returning t.token`,
        [
          tenant,
          rows.map((x) => x.token),
          rows.map((x) => x.from.orkId),
          rows.map((x) => x.from.tekVersion),
          rows.map((x) => hex(x.from.envelope)),
          rows.map((x) => x.to.orkId),
          rows.map((x) => x.to.tekVersion),
          rows.map((x) => hex(x.to.envelope)),
        ],
      );
      const changed = r.rows.map((x) => x.token);
      for (let i = 0; i < changed.length; i += TOKENS_PER_EVENT) {
        await notifyKeyEvent(tx, {
          kind: 'tokens-deleted',
          tenant,
          tokens: changed.slice(i, i + TOKENS_PER_EVENT),
        });
      }
      return changed.length;
    });
  }

  async beginOrkReplacement(tenant: string, fromOrkId: string, toOrkId: string): Promise<OrkReplacementRow> {
    await this.sql.query(
      `update sidekey_orks set replaced_by = $3
        where tenant = $1 and ork_id = $2 and replaced_by is null`,
      [tenant, fromOrkId, toOrkId],
    );
    const row = await this.getOrkReplacement(tenant, fromOrkId);
    if (row === undefined) throw new Error('the ORK to replace does not exist');
    return row;
  }

  async getOrkReplacement(tenant: string, fromOrkId: string): Promise<OrkReplacementRow | undefined> {
    const r = await this.sql.query(
      `select tenant, ork_id, replaced_by, replaced_at from sidekey_orks
        where tenant = $1 and ork_id = $2 and replaced_by is not null`,
      [tenant, fromOrkId],
    );
    const x = r.rows[0];
    return x === undefined
      ? undefined
      : {
          tenant: x.tenant as string,
          fromOrkId: x.ork_id as string,
          toOrkId: x.replaced_by as string,
          finishedAt: (x.replaced_at as Date | null) ?? null,
        };
  }

  async finishOrkReplacement(tenant: string, fromOrkId: string): Promise<void> {
    await this.sql.query(
      'update sidekey_orks set replaced_at = now() where tenant = $1 and ork_id = $2 and replaced_by is not null',
      [tenant, fromOrkId],
    );
  }

  async listTenantKeysNotUnder(
    kekRef: string,
    after: { readonly tenant: string; readonly version: number } | undefined,
    limit: number,
  ): Promise<TenantKeyRow[]> {
    const r = await this.sql.query(
      `select tenant, version, state, kek_ref, wrapped_key, created_at
         from sidekey_tenant_keys
        where kek_ref <> $1 and wrapped_key is not null
          and ($2::text is null or (tenant, version) > ($2::text, $3::int))
        order by tenant, version
        limit $4`,
      [kekRef, after?.tenant ?? null, after?.version ?? 0, limit],
    );
    return r.rows.map((x) => ({
      tenant: x.tenant as string,
      version: x.version as number,
      state: x.state as TenantKeyRow['state'],
      kekRef: x.kek_ref as string,
      wrapped: x.wrapped_key === null ? null : toBuffer(x.wrapped_key),
      createdAt: x.created_at as Date,
    }));
  }

  async rewrapTenantKey(tenant: string, version: number, from: WrappedKey, to: WrappedKey): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const r = await tx.query(
        `update sidekey_tenant_keys set kek_ref = $5, wrapped_key = decode($6, 'hex')
          where tenant = $1 and version = $2 and kek_ref = $3 and wrapped_key = decode($4, 'hex')`,
        [tenant, version, from.kekRef, hex(from.wrapped), to.kekRef, hex(to.wrapped)],
      );
      if (r.rowCount > 0) await notifyKeyEvent(tx, { kind: 'tek-changed', tenant });
      return r.rowCount > 0;
    });
  }

  async rewrapAuditChain(chainId: string, from: WrappedKey, to: WrappedKey): Promise<boolean> {
    const r = await this.sql.query(
      `update sidekey_audit_chains set kek_ref = $4, wrapped_key = decode($5, 'hex')
        where chain_id = $1 and kek_ref = $2 and wrapped_key = decode($3, 'hex')`,
      [chainId, from.kekRef, hex(from.wrapped), to.kekRef, hex(to.wrapped)],
    );
    return r.rowCount > 0;
  }

  close(): Promise<void> {
    return this.sql.close();
  }
}

function tokenRow(x: Row): TokenRow {
  return {
    token: x.token as string,
    tenant: x.tenant as string,
    field: x.field as string,
    orkId: x.ork_id as string,
    tekVersion: x.tek_version as number,
    envelope: toBuffer(x.envelope),
  };
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
  };
}

/** The schema is missing or behind: an operator must run `sidekey migrate`. */
export class SchemaError extends Error {
  override readonly name = 'SchemaError';
}
