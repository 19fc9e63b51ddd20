/**
 * Token expiry in the store: purging expired records (`sidekey tokens
 * purge-expired`). Expired records are already NOT_FOUND on every sidecar
 * (the sidecar compares `expires_at` with its clock), so a purge announces
 * nothing: it only frees space.
 */
import { SqlTokenKinds } from './sql-token-kinds.js';

export abstract class SqlExpiry extends SqlTokenKinds {
  /**
   * One batch, oldest expiry first (the partial index
   * sidekey_tokens_expiring): each batch is its own statement, so an
   * interrupted purge has kept what it deleted and a rerun continues.
   */
  async purgeExpiredTokens(tenant: string | undefined, now: Date, limit: number): Promise<number> {
    const r = await this.sql.query(
      `delete from sidekey_tokens where token in (
         select token from sidekey_tokens
          where expires_at is not null and expires_at <= $1::timestamptz
            and ($2::text is null or tenant = $2)
          order by expires_at
          limit $3)`,
      [now.toISOString(), tenant ?? null, limit],
    );
    return r.rowCount;
  }

  async countExpiredTokens(tenant: string | undefined, now: Date): Promise<number> {
    const r = await this.sql.query<{ n: unknown }>(
      `select count(*) as n from sidekey_tokens
        where expires_at is not null and expires_at <= $1::timestamptz and ($2::text is null or tenant = $2)`,
      [now.toISOString(), tenant ?? null],
    );
    return Number(r.rows[0]?.n ?? 0);
  }
}
