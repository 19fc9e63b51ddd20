/**
 * Audit at scale in SQL (migration 8, docs/architecture.md ADR-18): the
 * time-partitioned sidekey_audit_log, its daily partitions, and what
 * `audit export` and `audit prune` record (exports, per-chain anchors,
 * prune runs). Only chain ids, sequence numbers, hashes, times and counts:
 * never an event's content outside the event column, never a key.
 *
 * Rows an older sidecar still writes into sidekey_audit_events (a rolling
 * upgrade) are read together with the log, and moved into it by
 * sidekey_audit_roll_forward().
 */
import type { SqlClient } from './sql-client.js';
import { toBuffer } from './sql-client.js';
import { hex, type Row } from './sql-rows.js';

/** The last removed event of a chain: verification resumes after it. */
export interface AuditAnchorRow {
  readonly chainId: string;
  readonly seq: number;
  readonly hash: Buffer;
}

/** Per chain, a run of consecutive sequence numbers (`fromSeq` … `toSeq`, both included). */
export interface AuditRange {
  readonly chainId: string;
  readonly fromSeq: number;
  readonly toSeq: number;
  /** The hash of event `toSeq`. */
  readonly toHash: Buffer;
}

export interface AuditExportRow {
  readonly exportId: string;
  readonly until: Date;
  readonly events: number;
  readonly chains: number;
  /** SHA-256 of the export's JSON lines (before any gzip), hex. */
  readonly sha256: string;
  readonly createdAt: Date;
}

export interface AuditPruneRow {
  readonly pruneId: string;
  readonly until: Date;
  readonly exportId: string | null;
  readonly state: 'running' | 'done';
  readonly events: number;
  readonly partitions: number;
}

/** One partition of sidekey_audit_log; `from`/`to` undefined for the default partition. */
export interface AuditPartitionRow {
  readonly name: string;
  readonly from: Date | undefined;
  readonly to: Date | undefined;
}

export interface AuditLogStore {
  /** Creates the missing daily partitions of `fromDay` … `fromDay + days` (UTC); returns how many. */
  rollForward(fromDay: Date, days: number): Promise<number>;
  partitions(): Promise<AuditPartitionRow[]>;
  /** Whether any stored event is older than `until` (reads only the partitions before it). */
  hasEventsBefore(until: Date): Promise<boolean>;
  anchors(): Promise<AuditAnchorRow[]>;
  /**
   * Per chain, the events that precede the cut: from just after the chain's
   * anchor, the longest run of consecutive sequence numbers whose events are
   * all older than `until` (an event at or after the cut, or a missing one,
   * ends it). Chains with none are left out.
   */
  rangesBefore(until: Date): Promise<AuditRange[]>;
  /** Records a completed export and its per-chain ranges in one transaction. */
  recordExport(row: Omit<AuditExportRow, 'createdAt'>, ranges: readonly AuditRange[]): Promise<void>;
  /** Every recorded export's range of these chains. */
  exportedRanges(chainIds: readonly string[]): Promise<(AuditRange & { readonly exportId: string })[]>;
  /** The newest export, whatever it reaches. */
  latestExport(): Promise<AuditExportRow | undefined>;
  runningPrune(): Promise<AuditPruneRow | undefined>;
  /** One transaction: the prune is recorded as running and each anchor moves forward (never back). */
  beginPrune(
    prune: { pruneId: string; until: Date; exportId: string | null },
    anchors: readonly AuditAnchorRow[],
  ): Promise<void>;
  /**
   * Drops a partition wholly before `until` whose every event is at or below
   * its chain's anchor; false when it holds anything else (or is gone).
   */
  dropPartitionIfPruned(name: string, until: Date): Promise<boolean>;
  /** Deletes up to `limit` events at or below their chain's anchor; returns how many. */
  deletePruned(limit: number): Promise<number>;
  finishPrune(pruneId: string, events: number, partitions: number): Promise<void>;
}

/** Names that roll-forward gives daily partitions; nothing else is ever dropped. */
const DAILY_PARTITION = /^sidekey_audit_log_\d{8}$/;

export class SqlAuditLog implements AuditLogStore {
  constructor(private readonly sql: SqlClient) {}

  async rollForward(fromDay: Date, days: number): Promise<number> {
    const r = await this.sql.query<{ n: number }>('select sidekey_audit_roll_forward($1::date, $2) as n', [
      fromDay.toISOString().slice(0, 10),
      days,
    ]);
    return Number(r.rows[0]?.n ?? 0);
  }

  async partitions(): Promise<AuditPartitionRow[]> {
    const r = await this.sql.query<{ name: string; bound: string }>(
      `select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
         from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'sidekey_audit_log'::regclass
        order by c.relname`,
    );
    return r.rows.map((x) => {
      const m = /FROM \('([^']+)'\) TO \('([^']+)'\)/.exec(x.bound);
      return m === null
        ? { name: x.name, from: undefined, to: undefined }
        : { name: x.name, from: new Date(m[1]!), to: new Date(m[2]!) };
    });
  }

  async hasEventsBefore(until: Date): Promise<boolean> {
    const r = await this.sql.query<{ e: boolean }>(
      `select exists (select 1 from sidekey_audit_log where event_time < $1)
           or exists (select 1 from sidekey_audit_events where sidekey_audit_event_time(event) < $1) as e`,
      [until.toISOString()],
    );
    return r.rows[0]?.e === true;
  }

  async anchors(): Promise<AuditAnchorRow[]> {
    const r = await this.sql.query('select chain_id, seq, hash from sidekey_audit_anchors order by chain_id');
    return r.rows.map(anchorRow);
  }

  async rangesBefore(until: Date): Promise<AuditRange[]> {
    const r = await this.sql.query(
      // Only rows before the cut are read (partition pruning): an event at or
      // after the cut, or a missing one, is a gap in their sequence numbers,
      // and the run ends at the first gap (seq = anchor + row number).
      `with a as (select chain_id, seq as aseq from sidekey_audit_anchors),
       ev as (
         select chain_id, seq, hash, event_time from sidekey_audit_log
         union all
         select chain_id, seq, hash, sidekey_audit_event_time(event) from sidekey_audit_events
       ),
       before as (
         select e.chain_id, e.seq, e.hash, coalesce(a.aseq, 0) as aseq,
                row_number() over (partition by e.chain_id order by e.seq) as rn
           from ev e left join a using (chain_id)
          where e.event_time < $1 and e.seq > coalesce(a.aseq, 0)
       ),
       run as (
         select b.chain_id, min(b.seq) as from_seq, max(b.seq) as to_seq
           from before b
          where b.seq = b.aseq + b.rn
          group by b.chain_id
       )
       select run.chain_id, run.from_seq, run.to_seq, b.hash as to_hash
         from run join before b on b.chain_id = run.chain_id and b.seq = run.to_seq
        order by run.chain_id`,
      [until.toISOString()],
    );
    return r.rows.map(rangeRow);
  }

  async recordExport(row: Omit<AuditExportRow, 'createdAt'>, ranges: readonly AuditRange[]): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.query(
        `insert into sidekey_audit_exports (export_id, until, events, chains, sha256) values ($1, $2, $3, $4, $5)`,
        [row.exportId, row.until.toISOString(), row.events, row.chains, row.sha256],
      );
      if (ranges.length === 0) return;
      await tx.query(
        `insert into sidekey_audit_export_chains (export_id, chain_id, from_seq, to_seq, to_hash)
         select $1, chain_id, from_seq, to_seq, decode(to_hash, 'hex')
           from unnest($2::text[], $3::bigint[], $4::bigint[], $5::text[]) as u(chain_id, from_seq, to_seq, to_hash)`,
        [
          row.exportId,
          ranges.map((x) => x.chainId),
          ranges.map((x) => x.fromSeq),
          ranges.map((x) => x.toSeq),
          ranges.map((x) => hex(x.toHash)),
        ],
      );
    });
  }

  async exportedRanges(chainIds: readonly string[]): Promise<(AuditRange & { exportId: string })[]> {
    if (chainIds.length === 0) return [];
    const r = await this.sql.query(
      `select export_id, chain_id, from_seq, to_seq, to_hash from sidekey_audit_export_chains
        where chain_id = any($1::text[]) order by chain_id, to_seq desc`,
      [chainIds],
    );
    return r.rows.map((x) => ({ ...rangeRow(x), exportId: x.export_id as string }));
  }

  async latestExport(): Promise<AuditExportRow | undefined> {
    const r = await this.sql.query(
      'select * from sidekey_audit_exports order by until desc, created_at desc limit 1',
    );
    return r.rows[0] === undefined ? undefined : exportRow(r.rows[0]);
  }

  async runningPrune(): Promise<AuditPruneRow | undefined> {
    const r = await this.sql.query(
      `select * from sidekey_audit_prunes where state = 'running' order by started_at limit 1`,
    );
    const x = r.rows[0];
    if (x === undefined) return undefined;
    return {
      pruneId: x.prune_id as string,
      until: x.until as Date,
      exportId: (x.export_id as string | null) ?? null,
      state: x.state as AuditPruneRow['state'],
      events: Number(x.events),
      partitions: Number(x.partitions),
    };
  }

  async beginPrune(
    prune: { pruneId: string; until: Date; exportId: string | null },
    anchors: readonly AuditAnchorRow[],
  ): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.query('insert into sidekey_audit_prunes (prune_id, until, export_id) values ($1, $2, $3)', [
        prune.pruneId,
        prune.until.toISOString(),
        prune.exportId,
      ]);
      if (anchors.length === 0) return;
      await tx.query(
        `insert into sidekey_audit_anchors (chain_id, seq, hash)
         select chain_id, seq, decode(hash, 'hex')
           from unnest($1::text[], $2::bigint[], $3::text[]) as u(chain_id, seq, hash)
         on conflict (chain_id) do update set seq = excluded.seq, hash = excluded.hash, pruned_at = now()
          where sidekey_audit_anchors.seq < excluded.seq`,
        [anchors.map((x) => x.chainId), anchors.map((x) => x.seq), anchors.map((x) => hex(x.hash))],
      );
    });
  }

  async dropPartitionIfPruned(name: string, until: Date): Promise<boolean> {
    if (!DAILY_PARTITION.test(name)) return false;
    return this.sql.transaction(async (tx) => {
      // A short wait for the parent's lock: inserts queue behind a waiting DROP.
      await tx.query(`set local lock_timeout = '2s'`);
      const part = await tx.query<{ bound: string }>(
        `select pg_get_expr(c.relpartbound, c.oid) as bound
           from pg_inherits i join pg_class c on c.oid = i.inhrelid
          where i.inhparent = 'sidekey_audit_log'::regclass and c.relname = $1`,
        [name],
      );
      const m = /TO \('([^']+)'\)/.exec(part.rows[0]?.bound ?? '');
      if (m === null || new Date(m[1]!).getTime() > until.getTime()) return false;
      // One index probe per chain (every row's chain is in sidekey_audit_chains), not a scan of the day.
      const kept = await tx.query(
        `select 1 from sidekey_audit_chains c left join sidekey_audit_anchors a using (chain_id)
          where exists (select 1 from ${name} e where e.chain_id = c.chain_id and e.seq > coalesce(a.seq, 0))
          limit 1`,
      );
      if (kept.rows.length > 0) return false;
      await tx.query(`drop table ${name}`);
      return true;
    });
  }

  async deletePruned(limit: number): Promise<number> {
    const log = await this.sql.query(
      `delete from sidekey_audit_log l
        where (l.chain_id, l.seq, l.event_time) in (
          select e.chain_id, e.seq, e.event_time
            from sidekey_audit_log e join sidekey_audit_anchors a using (chain_id)
           where e.seq <= a.seq limit $1)`,
      [limit],
    );
    if (log.rowCount > 0) return log.rowCount;
    const legacy = await this.sql.query(
      `delete from sidekey_audit_events l
        where (l.chain_id, l.seq) in (
          select e.chain_id, e.seq
            from sidekey_audit_events e join sidekey_audit_anchors a using (chain_id)
           where e.seq <= a.seq limit $1)`,
      [limit],
    );
    return legacy.rowCount;
  }

  async finishPrune(pruneId: string, events: number, partitions: number): Promise<void> {
    await this.sql.query(
      `update sidekey_audit_prunes set state = 'done', finished_at = now(),
              events = events + $2, partitions = partitions + $3
        where prune_id = $1`,
      [pruneId, events, partitions],
    );
  }
}

function anchorRow(x: Row): AuditAnchorRow {
  return { chainId: x.chain_id as string, seq: Number(x.seq), hash: toBuffer(x.hash) };
}

function rangeRow(x: Row): AuditRange {
  return {
    chainId: x.chain_id as string,
    fromSeq: Number(x.from_seq),
    toSeq: Number(x.to_seq),
    toHash: toBuffer(x.to_hash),
  };
}

function exportRow(x: Row): AuditExportRow {
  return {
    exportId: x.export_id as string,
    until: x.until as Date,
    events: Number(x.events),
    chains: Number(x.chains),
    sha256: x.sha256 as string,
    createdAt: x.created_at as Date,
  };
}
