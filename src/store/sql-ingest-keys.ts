/**
 * Ingest key pairs (issue 14, docs/formats.md §19): public keys in clear,
 * private keys only wrapped by the KEK. Sidecars read them and create a
 * tenant's first generation; rotation (operator) retires the current
 * generation after a grace period and deletes what has passed it, announcing
 * `ingest-keys-changed` in its transaction.
 */
import { notifyKeyEvent } from './notify.js';
import type { IngestKeyRow, NewIngestKey, WrappedKey } from './port.js';
import { toBuffer } from './sql-client.js';
import { hex, type Row } from './sql-rows.js';
import { SqlSubjects } from './sql-subjects.js';

export abstract class SqlIngestKeys extends SqlSubjects {
  async listIngestKeys(tenant: string): Promise<IngestKeyRow[]> {
    const r = await this.sql.query(
      'select * from sidekey_ingest_keys where tenant = $1 order by generation desc, suite',
      [tenant],
    );
    return r.rows.map(ingestKeyRow);
  }

  async createFirstIngestKeys(tenant: string, keys: readonly NewIngestKey[]): Promise<boolean> {
    const active = await this.sql.query(
      `select 1 from sidekey_tenants where tenant = $1 and state = 'active'`,
      [tenant],
    );
    if (active.rows.length === 0) return false;
    // One statement: both suites or neither; a concurrent creator's rows win
    // (unique (tenant, generation, suite)) and ours are dropped.
    await this.sql.query(
      `insert into sidekey_ingest_keys (tenant, key_id, generation, suite, public_key, kek_ref, wrapped_key)
       select $1, k.key_id, 1, k.suite, decode(k.public_key, 'hex'), k.kek_ref, decode(k.wrapped_key, 'hex')
         from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
              as k(key_id, suite, public_key, kek_ref, wrapped_key)
        where exists (select 1 from sidekey_tenants where tenant = $1 and state = 'active')
          and not exists (select 1 from sidekey_ingest_keys where tenant = $1)
       on conflict do nothing`,
      columns(tenant, keys),
    );
    return true;
  }

  async rotateIngestKeys(
    tenant: string,
    keys: readonly NewIngestKey[],
    graceSeconds: number,
  ): Promise<{ readonly generation: number; readonly destroyed: number } | undefined> {
    return this.sql.transaction(async (tx) => {
      const t = await tx.query('select state from sidekey_tenants where tenant = $1 for update', [tenant]);
      if (t.rows[0]?.state !== 'active') return undefined;
      const destroyed = await tx.query(
        'delete from sidekey_ingest_keys where tenant = $1 and retire_at is not null and retire_at <= now()',
        [tenant],
      );
      await tx.query(
        `update sidekey_ingest_keys set retire_at = now() + make_interval(secs => $2::double precision)
          where tenant = $1 and retire_at is null`,
        [tenant, graceSeconds],
      );
      const g = await tx.query<{ next: number }>(
        'select coalesce(max(generation), 0) + 1 as next from sidekey_ingest_keys where tenant = $1',
        [tenant],
      );
      const generation = Number(g.rows[0]?.next ?? 1);
      const [, ...cols] = columns(tenant, keys);
      await tx.query(
        `insert into sidekey_ingest_keys (tenant, key_id, generation, suite, public_key, kek_ref, wrapped_key)
         select $1, k.key_id, $7, k.suite, decode(k.public_key, 'hex'), k.kek_ref, decode(k.wrapped_key, 'hex')
           from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
                as k(key_id, suite, public_key, kek_ref, wrapped_key)`,
        [tenant, ...cols, generation],
      );
      await notifyKeyEvent(tx, { kind: 'ingest-keys-changed', tenant });
      return { generation, destroyed: destroyed.rowCount };
    });
  }

  async destroyExpiredIngestKeys(
    tenant?: string,
  ): Promise<readonly { readonly tenant: string; readonly destroyed: number }[]> {
    return this.sql.transaction(async (tx) => {
      const r = await tx.query<{ tenant: string; n: unknown }>(
        `with gone as (
           delete from sidekey_ingest_keys
            where retire_at is not null and retire_at <= now() and ($1::text is null or tenant = $1)
           returning tenant)
         select tenant, count(*) as n from gone group by tenant order by tenant`,
        [tenant ?? null],
      );
      const out = r.rows.map((x) => ({ tenant: x.tenant, destroyed: Number(x.n) }));
      for (const x of out) await notifyKeyEvent(tx, { kind: 'ingest-keys-changed', tenant: x.tenant });
      return out;
    });
  }

  async listIngestKeysNotUnder(
    kekRef: string,
    after: { readonly tenant: string; readonly keyId: string } | undefined,
    limit: number,
  ): Promise<IngestKeyRow[]> {
    const r = await this.sql.query(
      `select * from sidekey_ingest_keys
        where kek_ref <> $1 and (tenant, key_id) > ($2, $3)
        order by tenant, key_id limit $4`,
      [kekRef, after?.tenant ?? '', after?.keyId ?? '', limit],
    );
    return r.rows.map(ingestKeyRow);
  }

  async rewrapIngestKey(tenant: string, keyId: string, from: WrappedKey, to: WrappedKey): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const r = await tx.query(
        `update sidekey_ingest_keys set kek_ref = $3, wrapped_key = decode($4, 'hex')
          where tenant = $1 and key_id = $2 and kek_ref = $5 and wrapped_key = decode($6, 'hex')`,
        [tenant, keyId, to.kekRef, hex(to.wrapped), from.kekRef, hex(from.wrapped)],
      );
      if (r.rowCount > 0) await notifyKeyEvent(tx, { kind: 'ingest-keys-changed', tenant });
      return r.rowCount > 0;
    });
  }
}

function columns(tenant: string, keys: readonly NewIngestKey[]): unknown[] {
  return [
    tenant,
    keys.map((k) => k.keyId),
    keys.map((k) => k.suite),
    keys.map((k) => hex(k.publicKey)),
    keys.map((k) => k.kekRef),
    keys.map((k) => hex(k.wrapped)),
  ];
}

function ingestKeyRow(x: Row): IngestKeyRow {
  return {
    tenant: x.tenant as string,
    keyId: x.key_id as string,
    generation: x.generation as number,
    suite: x.suite as IngestKeyRow['suite'],
    publicKey: toBuffer(x.public_key),
    kekRef: x.kek_ref as string,
    wrapped: toBuffer(x.wrapped_key),
    createdAt: x.created_at as Date,
    retireAt: (x.retire_at as Date | null) ?? null,
  };
}
