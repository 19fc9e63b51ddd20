/**
 * Field policies and what deterministic and fpe tokens need from the store:
 * the tenant's token root key (wrapped), ORK lineage seals and record counts
 * per kind. Policy changes are announced to the fleet in their transaction.
 */
import { notifyKeyEvent } from './notify.js';
import type { KindCountRow, PolicyRow, TokenKindName, TokenRootKeyRow, WrappedKey } from './port.js';
import { toBuffer } from './sql-client.js';
import { SqlLifecycle } from './sql-lifecycle.js';
import { hex, type Row } from './sql-rows.js';

export abstract class SqlTokenKinds extends SqlLifecycle {
  async getPolicy(tenant: string, field: string): Promise<PolicyRow | undefined> {
    const r = await this.sql.query('select * from sidekey_field_policies where tenant = $1 and field = $2', [
      tenant,
      field,
    ]);
    return r.rows[0] === undefined ? undefined : policyRow(r.rows[0]);
  }

  async listPolicies(tenant: string): Promise<PolicyRow[]> {
    const r = await this.sql.query('select * from sidekey_field_policies where tenant = $1 order by field', [
      tenant,
    ]);
    return r.rows.map(policyRow);
  }

  async putPolicy(p: Omit<PolicyRow, 'createdAt' | 'updatedAt'>): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const r = await tx.query(
        `insert into sidekey_field_policies
           (tenant, field, kind, alphabet, keep_prefix, keep_suffix, mask, ttl_seconds)
         select $1, $2, $3, $4, $5, $6, $7, $8
          where exists (select 1 from sidekey_tenants where tenant = $1 and state = 'active')
         on conflict (tenant, field) do update set
           kind = excluded.kind, alphabet = excluded.alphabet, keep_prefix = excluded.keep_prefix,
           keep_suffix = excluded.keep_suffix, mask = excluded.mask, ttl_seconds = excluded.ttl_seconds,
           updated_at = now()`,
        [p.tenant, p.field, p.kind, p.alphabet, p.keepPrefix, p.keepSuffix, p.mask, p.ttlSeconds],
      );
      if (r.rowCount > 0)
        await notifyKeyEvent(tx, { kind: 'policy-changed', tenant: p.tenant, field: p.field });
      return r.rowCount > 0;
    });
  }

  async deletePolicy(tenant: string, field: string): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const r = await tx.query('delete from sidekey_field_policies where tenant = $1 and field = $2', [
        tenant,
        field,
      ]);
      if (r.rowCount > 0) await notifyKeyEvent(tx, { kind: 'policy-changed', tenant, field });
      return r.rowCount > 0;
    });
  }

  async countFpeRecords(tenant: string, field: string): Promise<number> {
    const r = await this.sql.query(
      `select count(*) as n from sidekey_tokens where tenant = $1 and field = $2 and kind = 'fpe'`,
      [tenant, field],
    );
    return Number(r.rows[0]?.n ?? 0);
  }

  async getTokenRootKey(tenant: string): Promise<TokenRootKeyRow | undefined> {
    const r = await this.sql.query('select * from sidekey_token_keys where tenant = $1', [tenant]);
    return r.rows[0] === undefined ? undefined : tokenRootKeyRow(r.rows[0]);
  }

  async ensureTokenRootKey(tenant: string, key: WrappedKey): Promise<TokenRootKeyRow> {
    await this.sql.query(
      `insert into sidekey_token_keys (tenant, kek_ref, wrapped_key)
       select $1, $2, decode($3, 'hex')
        where exists (select 1 from sidekey_tenants where tenant = $1 and state = 'active')
       on conflict (tenant) do nothing`,
      [tenant, key.kekRef, hex(key.wrapped)],
    );
    const row = await this.getTokenRootKey(tenant);
    if (row === undefined) throw new Error(`tenant ${tenant} does not exist or was shredded`);
    return row;
  }

  async setOrkLineageSeal(tenant: string, orkId: string, seal: Buffer): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const r = await tx.query(
        `update sidekey_orks set lineage_seal = decode($3, 'hex')
          where tenant = $1 and ork_id = $2 and lineage_seal is null`,
        [tenant, orkId, hex(seal)],
      );
      // A sidecar that derived this ORK's token key before the seal existed
      // (as the start of a lineage) drops it and derives it again.
      if (r.rowCount > 0) await notifyKeyEvent(tx, { kind: 'ork-changed', tenant, orkId });
    });
  }

  async listTokenRootKeysNotUnder(
    kekRef: string,
    afterTenant: string,
    limit: number,
  ): Promise<TokenRootKeyRow[]> {
    const r = await this.sql.query(
      `select * from sidekey_token_keys
        where kek_ref <> $1 and wrapped_key is not null and tenant > $2
        order by tenant limit $3`,
      [kekRef, afterTenant, limit],
    );
    return r.rows.map(tokenRootKeyRow);
  }

  async rewrapTokenRootKey(tenant: string, from: WrappedKey, to: WrappedKey): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const r = await tx.query(
        `update sidekey_token_keys set kek_ref = $2, wrapped_key = decode($3, 'hex')
          where tenant = $1 and kek_ref = $4 and wrapped_key = decode($5, 'hex')`,
        [tenant, to.kekRef, hex(to.wrapped), from.kekRef, hex(from.wrapped)],
      );
      if (r.rowCount > 0) await notifyKeyEvent(tx, { kind: 'tek-changed', tenant });
      return r.rowCount > 0;
    });
  }

  async kindCounts(tenant?: string): Promise<KindCountRow[]> {
    const r = await this.sql.query(
      `select tenant, tek_version, kind, count(*) as records from sidekey_tokens
        where $1::text is null or tenant = $1
        group by tenant, tek_version, kind order by tenant, tek_version, kind`,
      [tenant ?? null],
    );
    return r.rows.map((x) => ({
      tenant: x.tenant as string,
      version: x.tek_version as number,
      kind: x.kind as TokenKindName,
      records: Number(x.records),
    }));
  }
}

function policyRow(x: Row): PolicyRow {
  return {
    tenant: x.tenant as string,
    field: x.field as string,
    kind: x.kind as PolicyRow['kind'],
    alphabet: (x.alphabet as string | null) ?? null,
    keepPrefix: x.keep_prefix as number,
    keepSuffix: x.keep_suffix as number,
    mask: x.mask as PolicyRow['mask'],
    ttlSeconds: (x.ttl_seconds as number | null) ?? null,
    createdAt: x.created_at as Date,
    updatedAt: x.updated_at as Date,
  };
}

function tokenRootKeyRow(x: Row): TokenRootKeyRow {
  return {
    tenant: x.tenant as string,
    state: x.state as TokenRootKeyRow['state'],
    kekRef: x.kek_ref as string,
    wrapped: x.wrapped_key === null ? null : toBuffer(x.wrapped_key),
  };
}
