/**
 * The fleet registry in SQL (migration 4): each sidecar's row in
 * sidekey_sidecars, and the numbered changes of sidekey_changes that
 * operator commands announce and sidecars acknowledge. Ids, host names,
 * versions, tenant names and times only. Every age is computed with the
 * database's clock, so a skewed host clock cannot make a sidecar look live
 * or stale.
 */
import { notifyKeyEvent } from './notify.js';
import type { SqlClient } from './sql-client.js';
import type { Row } from './sql-rows.js';

/** What a sidecar says about itself. */
export interface SidecarRecord {
  readonly sidecarId: string;
  readonly host: string;
  readonly version: string;
  /** Empty: every tenant. */
  readonly tenants: readonly string[];
  readonly startedAt: Date;
  /** How often it records itself: a row older than a few of these is stale. */
  readonly heartbeatSeconds: number;
  /** Its longest key cache TTL: how long it can use a key after a change it did not hear of. */
  readonly keyTtlSeconds: number;
}

export interface ChangeRow {
  readonly changeId: number;
  readonly kind: string;
  readonly tenant: string;
  readonly createdAt: Date;
}

export interface SidecarRow extends SidecarRecord {
  readonly lastSeen: Date;
  /** Seconds since last seen, by the database clock. */
  readonly silentSeconds: number;
  /** The newest change it has applied (0: none since the registry began). */
  readonly appliedChange: number;
  readonly appliedAt: Date | null;
  /** That change, while it is still recorded. */
  readonly applied: ChangeRow | undefined;
  /** Set by a graceful stop: its caches are gone with it. */
  readonly stoppedAt: Date | null;
}

export interface FleetRegistry {
  /** Inserts or refreshes this sidecar's row (last seen: now). */
  beat(record: SidecarRecord): Promise<void>;
  /** Records that the sidecar applied `changeId` (and every earlier one); returns the seconds since the change was made. */
  acknowledge(sidecarId: string, changeId: number): Promise<number | undefined>;
  markStopped(sidecarId: string): Promise<void>;
  /**
   * Numbers a change that has committed and announces the number on the key
   * event channel. NOTIFYs reach a listener in commit order, so a sidecar
   * that hears the number has applied the change before it.
   */
  announceChange(kind: string, tenant: string): Promise<number>;
  /** Sidecars seen within `seenWithinSeconds`, newest first. */
  listSidecars(seenWithinSeconds: number): Promise<SidecarRow[]>;
  /** Removes rows not seen for `olderThanSeconds` (operator role); returns how many. */
  pruneSidecars(olderThanSeconds: number): Promise<number>;
  latestChange(): Promise<ChangeRow | undefined>;
}

export class SqlFleetRegistry implements FleetRegistry {
  constructor(private readonly sql: SqlClient) {}

  async beat(r: SidecarRecord): Promise<void> {
    await this.sql.query(
      `insert into sidekey_sidecars
         (sidecar_id, host, version, tenants, started_at, heartbeat_seconds, key_ttl_seconds)
       values ($1, $2, $3, $4, $5, $6, $7)
       on conflict (sidecar_id) do update
         set last_seen = now(), host = excluded.host, version = excluded.version,
             tenants = excluded.tenants, heartbeat_seconds = excluded.heartbeat_seconds,
             key_ttl_seconds = excluded.key_ttl_seconds, stopped_at = null`,
      [r.sidecarId, r.host, r.version, r.tenants.join(','), r.startedAt, r.heartbeatSeconds, r.keyTtlSeconds],
    );
  }

  async acknowledge(sidecarId: string, changeId: number): Promise<number | undefined> {
    const r = await this.sql.query<{ lag: number | string | null }>(
      `update sidekey_sidecars s
          set applied_change = greatest(s.applied_change, $2), applied_at = now(), last_seen = now()
        where s.sidecar_id = $1
       returning (select extract(epoch from (clock_timestamp() - c.created_at))
                    from sidekey_changes c where c.change_id = $2) as lag`,
      [sidecarId, changeId],
    );
    const lag = r.rows[0]?.lag;
    return lag === null || lag === undefined ? undefined : Math.max(0, Number(lag));
  }

  async markStopped(sidecarId: string): Promise<void> {
    await this.sql.query('update sidekey_sidecars set stopped_at = now() where sidecar_id = $1', [sidecarId]);
  }

  async announceChange(kind: string, tenant: string): Promise<number> {
    return this.sql.transaction(async (tx) => {
      const r = await tx.query<{ change_id: number | string }>(
        'insert into sidekey_changes (kind, tenant) values ($1, $2) returning change_id',
        [kind, tenant],
      );
      const changeId = Number(r.rows[0]!.change_id);
      await notifyKeyEvent(tx, { kind: 'change', tenant, changeId });
      return changeId;
    });
  }

  async listSidecars(seenWithinSeconds: number): Promise<SidecarRow[]> {
    const r = await this.sql.query(
      `select s.*, extract(epoch from (clock_timestamp() - s.last_seen)) as silent,
              c.kind as c_kind, c.tenant as c_tenant, c.created_at as c_created_at
         from sidekey_sidecars s
         left join sidekey_changes c on c.change_id = s.applied_change
        where s.last_seen > clock_timestamp() - make_interval(secs => $1)
        order by s.last_seen desc, s.sidecar_id`,
      [seenWithinSeconds],
    );
    return r.rows.map(sidecarRow);
  }

  async pruneSidecars(olderThanSeconds: number): Promise<number> {
    const r = await this.sql.query(
      'delete from sidekey_sidecars where last_seen < clock_timestamp() - make_interval(secs => $1)',
      [olderThanSeconds],
    );
    return r.rowCount;
  }

  async latestChange(): Promise<ChangeRow | undefined> {
    const r = await this.sql.query(
      'select change_id, kind, tenant, created_at from sidekey_changes order by change_id desc limit 1',
    );
    return r.rows[0] === undefined ? undefined : changeRow(r.rows[0]);
  }
}

function changeRow(x: Row): ChangeRow {
  return {
    changeId: Number(x.change_id),
    kind: x.kind as string,
    tenant: x.tenant as string,
    createdAt: x.created_at as Date,
  };
}

function sidecarRow(x: Row): SidecarRow {
  const appliedChange = Number(x.applied_change);
  return {
    sidecarId: x.sidecar_id as string,
    host: x.host as string,
    version: x.version as string,
    tenants: (x.tenants as string) === '' ? [] : (x.tenants as string).split(','),
    startedAt: x.started_at as Date,
    heartbeatSeconds: Number(x.heartbeat_seconds),
    keyTtlSeconds: Number(x.key_ttl_seconds),
    lastSeen: x.last_seen as Date,
    silentSeconds: Math.max(0, Number(x.silent)),
    appliedChange,
    appliedAt: (x.applied_at as Date | null) ?? null,
    applied:
      x.c_kind === null || x.c_kind === undefined
        ? undefined
        : changeRow({
            change_id: appliedChange,
            kind: x.c_kind,
            tenant: x.c_tenant,
            created_at: x.c_created_at,
          }),
    stoppedAt: (x.stopped_at as Date | null) ?? null,
  };
}
