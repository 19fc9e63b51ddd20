/** Row mapping shared by the SQL store's files. */
import type { TenantKeyRow, TokenRow } from './port.js';
import { toBuffer } from './sql-client.js';

export type Row = Record<string, unknown>;

export const hex = (b: Buffer) => b.toString('hex');

export function tokenRow(x: Row): TokenRow {
  return {
    token: x.token as string,
    tenant: x.tenant as string,
    field: x.field as string,
    orkId: x.ork_id as string,
    tekVersion: x.tek_version as number,
    envelope: toBuffer(x.envelope),
    expiresAt: (x.expires_at as Date | null | undefined) ?? null,
    subjectKeyId: (x.subject_key_id as string | null | undefined) ?? null,
  };
}

export function tenantKeyRow(x: Row): TenantKeyRow {
  return {
    tenant: x.tenant as string,
    version: x.version as number,
    state: x.state as TenantKeyRow['state'],
    kekRef: x.kek_ref as string,
    wrapped: x.wrapped_key === null ? null : toBuffer(x.wrapped_key),
    createdAt: x.created_at as Date,
  };
}

/**
 * Token rows as the parameters of an unnest() insert, for both writers.
 * The rows of one request share tenant, field, ORK id, TEK version, kind,
 * expiry and subject key, so those travel once per run of equal rows (a
 * "group") and each row carries only its token, its envelope (base64) and
 * its group's number; `tokenRowsFrom` joins them back. A 100-value
 * request sends 201 array elements instead of 800, and base64 envelopes
 * instead of hex (docs/performance-gaps.md, "Keeping the batch budget").
 * Also the tokens a deterministic or fpe row may reuse (an expired row of
 * the same token is deleted first).
 */
export function tokenRowParams(rows: readonly TokenRow[]) {
  const token: string[] = [];
  const envelope: string[] = [];
  const group: number[] = [];
  const g = {
    tenant: [] as string[],
    field: [] as string[],
    orkId: [] as string[],
    tekVersion: [] as number[],
    kind: [] as string[],
    expiresAt: [] as (string | null)[],
    subjectKeyId: [] as (string | null)[],
  };
  const reusable: string[] = [];
  let last: TokenRow | undefined;
  for (const x of rows) {
    if (last === undefined || !sameGroup(last, x)) {
      g.tenant.push(x.tenant);
      g.field.push(x.field);
      g.orkId.push(x.orkId);
      g.tekVersion.push(x.tekVersion);
      g.kind.push(x.kind ?? 'random');
      g.expiresAt.push(x.expiresAt?.toISOString() ?? null);
      g.subjectKeyId.push(x.subjectKeyId ?? null);
      last = x;
    }
    token.push(x.token);
    envelope.push(x.envelope.toString('base64'));
    group.push(g.tenant.length);
    if (x.kind !== undefined && x.kind !== 'random') reusable.push(x.token);
  }
  return {
    params: [
      token,
      envelope,
      group,
      g.tenant,
      g.field,
      g.orkId,
      g.tekVersion,
      g.kind,
      g.expiresAt,
      g.subjectKeyId,
    ],
    reusable,
  };
}

function sameGroup(a: TokenRow, b: TokenRow): boolean {
  return (
    a.tenant === b.tenant &&
    a.field === b.field &&
    a.orkId === b.orkId &&
    a.tekVersion === b.tekVersion &&
    (a.kind ?? 'random') === (b.kind ?? 'random') &&
    (a.expiresAt?.getTime() ?? null) === (b.expiresAt?.getTime() ?? null) &&
    (a.subjectKeyId ?? null) === (b.subjectKeyId ?? null)
  );
}

/**
 * The FROM clause over `tokenRowParams(...).params` bound from `$first`:
 * r(token, envelope, grp) joined to
 * g(tenant, field, ork_id, tek_version, kind, expires_at, subject_key_id).
 * `r.envelope` is base64 text: decode(r.envelope, 'base64').
 */
export function tokenRowsFrom(first: number): string {
  const p = (i: number) => `$${first + i}`;
  return `unnest(${p(0)}::text[], ${p(1)}::text[], ${p(2)}::int[]) as r(token, envelope, grp)
           join unnest(${p(3)}::text[], ${p(4)}::text[], ${p(5)}::text[], ${p(6)}::int[], ${p(7)}::text[], ${p(8)}::text[], ${p(9)}::text[])
                with ordinality as g(tenant, field, ork_id, tek_version, kind, expires_at, subject_key_id, n)
             on g.n = r.grp`;
}
