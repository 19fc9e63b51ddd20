/**
 * The operator-only key lifecycle of the SQL store (docs/operations.md):
 * TEK versions, re-encryption moves, retirement, shredding, purging, ORK
 * replacement and KEK re-wrapping. Every change that sidecars must hear of
 * is announced with NOTIFY inside its own transaction.
 */
import { announceRecordsChanged, notifyKeyEvent } from './notify.js';
import type {
  MoveQuery,
  OrkReplacementRow,
  RecordCountRow,
  TenantKeyRow,
  TokenReplacement,
  TokenRow,
  WrappedKey,
} from './port.js';
import type { SqlClient } from './sql-client.js';
import { hex, tenantKeyRow, tokenRow } from './sql-rows.js';

export abstract class SqlLifecycle {
  constructor(protected readonly sql: SqlClient) {}

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
      // The token root key too: deterministic and fpe tokens can then no
      // longer be made, matched or (fpe) inverted by anyone.
      await tx.query(
        `update sidekey_token_keys set state = 'destroyed', wrapped_key = null where tenant = $1`,
        [tenant],
      );
      // Every data subject's key too (issue 13): overwritten, then deleted.
      await tx.query(
        `update sidekey_subject_keys set wrapped_key = decode(repeat('00', length(wrapped_key)), 'hex') where tenant = $1`,
        [tenant],
      );
      await tx.query('delete from sidekey_subject_keys where tenant = $1', [tenant]);
      // Ingest private keys (issue 14): sealed values in flight never open again.
      await tx.query('delete from sidekey_ingest_keys where tenant = $1', [tenant]);
      await tx.query(`update sidekey_tenants set state = 'shredded' where tenant = $1`, [tenant]);
      await notifyKeyEvent(tx, { kind: 'tenant-shredded', tenant });
      return r.rows.map((x) => x.version).sort((a, b) => a - b);
    });
  }

  async compactTenantKeys(): Promise<void> {
    // A new table file without the dead row versions that still held the
    // wrapped keys; the table is tiny, so the exclusive lock is brief.
    await this.sql.exec('vacuum full sidekey_tenant_keys');
    await this.sql.exec('vacuum full sidekey_token_keys');
    // Not sidekey_subject_keys: it can be large and serves every tenant (an
    // exclusive lock would stall subjects' writes fleet-wide), and a
    // shredded tenant's subject keys are useless without its TEKs anyway.
    await this.sql.exec('vacuum full sidekey_ingest_keys');
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
      await announceRecordsChanged(tx, tenant, deleted);
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
      `select token, tenant, field, ork_id, tek_version, envelope, subject_key_id from sidekey_tokens
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
      await announceRecordsChanged(tx, tenant, changed);
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
    return r.rows.map(tenantKeyRow);
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
}
