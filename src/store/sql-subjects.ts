/**
 * Data subjects in the store (issue 13, docs/formats.md §18): one wrapped
 * random key per (tenant, subject), the records sealed under it, and
 * `forget`.
 *
 * Invariants:
 * - Concurrent first uses end with one key: `insert … on conflict do
 *   nothing`, then read back the row in force.
 * - No write is acknowledged under a forgotten key: a subject's records are
 *   inserted by a statement that first takes a FOR SHARE lock on the key
 *   row. `forget` updates (overwrites) that row before deleting it, so it
 *   waits for inserts holding the lock, and an insert that comes after it
 *   finds no row and writes nothing.
 * - `forget` overwrites the wrapped bytes, then deletes the row, and
 *   announces `subjects-forgotten` in the same transaction.
 */
import { notifyKeyEvent } from './notify.js';
import type { SubjectCountRow, SubjectKeyRef, SubjectKeyRow, TokenRow, WrappedKey } from './port.js';
import { toBuffer } from './sql-client.js';
import { SqlExpiry } from './sql-expiry.js';
import { hex, type Row, tokenRowParams, tokenRowsFrom } from './sql-rows.js';

export abstract class SqlSubjects extends SqlExpiry {
  async getSubjectKey(tenant: string, subject: string): Promise<SubjectKeyRow | undefined> {
    const r = await this.sql.query('select * from sidekey_subject_keys where tenant = $1 and subject = $2', [
      tenant,
      subject,
    ]);
    return r.rows[0] === undefined ? undefined : subjectKeyRow(r.rows[0]);
  }

  async getSubjectKeyById(tenant: string, keyId: string): Promise<SubjectKeyRow | undefined> {
    const r = await this.sql.query('select * from sidekey_subject_keys where tenant = $1 and key_id = $2', [
      tenant,
      keyId,
    ]);
    return r.rows[0] === undefined ? undefined : subjectKeyRow(r.rows[0]);
  }

  async ensureSubjectKey(
    tenant: string,
    subject: string,
    keyId: string,
    key: WrappedKey,
  ): Promise<SubjectKeyRow> {
    await this.sql.query(
      `insert into sidekey_subject_keys (tenant, subject, key_id, kek_ref, wrapped_key)
       select $1, $2, $3, $4, decode($5, 'hex')
        where exists (select 1 from sidekey_tenants where tenant = $1 and state = 'active')
       on conflict (tenant, subject) do nothing`,
      [tenant, subject, keyId, key.kekRef, hex(key.wrapped)],
    );
    const row = await this.getSubjectKey(tenant, subject);
    if (row === undefined) throw new SubjectKeyGoneError();
    return row;
  }

  /**
   * One statement (one round trip, its own transaction) for the records of
   * any number of subjects (a group commit, src/writer/subject-writer.ts):
   * `k` takes FOR SHARE on the key rows named; a record is inserted only if
   * its key row was found. A forget holding a row waits for us or, if
   * first, leaves it out of `k`. Returns the keys found.
   */
  async writeSubjectTokens(rows: readonly TokenRow[]): Promise<SubjectKeyRef[]> {
    if (rows.length === 0) return [];
    const keys = new Map<string, SubjectKeyRef>();
    for (const x of rows) {
      if (!x.subjectKeyId) throw new TypeError('a subject record without its key id');
      keys.set(`${x.tenant}\u0000${x.subjectKeyId}`, { tenant: x.tenant, keyId: x.subjectKeyId });
    }
    const { params, reusable } = tokenRowParams(rows);
    const r = await this.sql.query<{ tenant: string; key_id: string }>(
      `with k as (
         select tenant, key_id from sidekey_subject_keys
          where (tenant, key_id) in (select * from unnest($11::text[], $12::text[]))
         for share
       ), expired as (
         delete from sidekey_tokens
          where token = any($13::text[]) and expires_at is not null and expires_at <= now()
         returning 1
       ), tokens as (
         insert into sidekey_tokens
           (token, tenant, field, ork_id, tek_version, envelope, kind, expires_at, subject_key_id)
         select r.token, g.tenant, g.field, g.ork_id, g.tek_version, decode(r.envelope, 'base64'), g.kind,
                g.expires_at::timestamptz, g.subject_key_id
           from ${tokenRowsFrom(1)}
          where exists (select 1 from k where k.tenant = g.tenant and k.key_id = g.subject_key_id)
            and (select count(*) from expired) >= 0
         on conflict (token) do nothing
       )
       select tenant, key_id from k`,
      [...params, [...keys.values()].map((k) => k.tenant), [...keys.values()].map((k) => k.keyId), reusable],
      { prepareAs: 'sidekey_write_subjects' },
    );
    return r.rows.map((x) => ({ tenant: x.tenant, keyId: x.key_id }));
  }

  async forgetSubjects(tenant: string, subjects: readonly string[]): Promise<number> {
    if (subjects.length === 0) return 0;
    return this.sql.transaction(async (tx) => {
      // Overwrite first (the bytes leave the live row version; the runbook
      // says what VACUUM, the WAL and backups keep), then delete.
      const r = await tx.query(
        `update sidekey_subject_keys set wrapped_key = decode(repeat('00', length(wrapped_key)), 'hex')
          where tenant = $1 and subject = any($2::text[])`,
        [tenant, subjects],
      );
      await tx.query('delete from sidekey_subject_keys where tenant = $1 and subject = any($2::text[])', [
        tenant,
        subjects,
      ]);
      if (r.rowCount > 0) await notifyKeyEvent(tx, { kind: 'subjects-forgotten', tenant });
      return r.rowCount;
    });
  }

  async subjectCounts(tenant?: string): Promise<SubjectCountRow[]> {
    const r = await this.sql.query(
      `select t.tenant,
              (select count(*) from sidekey_subject_keys s where s.tenant = t.tenant) as subjects,
              (select count(*) from sidekey_tokens k
                where k.tenant = t.tenant and k.subject_key_id is not null
                  and exists (select 1 from sidekey_subject_keys s where s.key_id = k.subject_key_id)) as records
         from sidekey_tenants t
        where $1::text is null or t.tenant = $1
        order by t.tenant`,
      [tenant ?? null],
    );
    return r.rows.map((x) => ({
      tenant: x.tenant as string,
      subjects: Number(x.subjects),
      records: Number(x.records),
    }));
  }

  async listSubjectKeysNotUnder(
    kekRef: string,
    after: { readonly tenant: string; readonly keyId: string } | undefined,
    limit: number,
  ): Promise<SubjectKeyRow[]> {
    const r = await this.sql.query(
      `select * from sidekey_subject_keys
        where kek_ref <> $1 and (tenant, key_id) > ($2, $3)
        order by tenant, key_id limit $4`,
      [kekRef, after?.tenant ?? '', after?.keyId ?? '', limit],
    );
    return r.rows.map(subjectKeyRow);
  }

  /**
   * Announces nothing: sidecars cache only the plaintext key, which does not
   * change (one event per subject would also empty every cache of the tenant
   * once per key).
   */
  async rewrapSubjectKey(tenant: string, keyId: string, from: WrappedKey, to: WrappedKey): Promise<boolean> {
    const r = await this.sql.query(
      `update sidekey_subject_keys set kek_ref = $3, wrapped_key = decode($4, 'hex')
        where tenant = $1 and key_id = $2 and kek_ref = $5 and wrapped_key = decode($6, 'hex')`,
      [tenant, keyId, to.kekRef, hex(to.wrapped), from.kekRef, hex(from.wrapped)],
    );
    return r.rowCount > 0;
  }
}

/** The tenant does not exist, was shredded, or the subject was forgotten between insert and read. */
export class SubjectKeyGoneError extends Error {
  override readonly name = 'SubjectKeyGoneError';
  constructor() {
    super('the subject key could not be created: unknown or shredded tenant, or forgotten meanwhile');
  }
}

function subjectKeyRow(x: Row): SubjectKeyRow {
  return {
    tenant: x.tenant as string,
    subject: x.subject as string,
    keyId: x.key_id as string,
    kekRef: x.kek_ref as string,
    wrapped: toBuffer(x.wrapped_key),
  };
}
