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
 * Token rows as the parameter arrays of an unnest() insert, in the column
 * order both writers use: token, tenant, field, ork_id, tek_version,
 * envelope (hex), kind, expires_at; and the tokens a deterministic or fpe
 * row may reuse (an expired row of the same token is deleted first).
 */
export function tokenRowColumns(rows: readonly TokenRow[]) {
  return {
    columns: [
      rows.map((x) => x.token),
      rows.map((x) => x.tenant),
      rows.map((x) => x.field),
      rows.map((x) => x.orkId),
      rows.map((x) => x.tekVersion),
      rows.map((x) => hex(x.envelope)),
      rows.map((x) => x.kind ?? 'random'),
      rows.map((x) => x.expiresAt?.toISOString() ?? null),
    ] as const,
    reusable: rows.filter((x) => x.kind !== undefined && x.kind !== 'random').map((x) => x.token),
  };
}
