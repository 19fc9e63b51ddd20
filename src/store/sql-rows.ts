/** Row mapping shared by the SQL store's files. */
import type { TokenRow } from './port.js';
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
  };
}
