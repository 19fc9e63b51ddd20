/**
 * `sidekey fleet status [--json]` (API.md "Fleet and operator commands"):
 * every sidecar seen in the last hour, from the fleet registry — id, host
 * (pod) name, version, tenants, started, last seen, live / stale / stopped,
 * and the newest change it has applied next to the newest change made.
 * Rows not seen for a day are removed (operator role; a sidecar role may
 * read but not remove).
 */
import { isStale } from '../../fleet/index.js';
import type { ChangeRow, SidecarRow } from '../../store/index.js';
import { withAdmin } from '../admin-context.js';
import { flag, type Parsed } from '../args.js';
import { type CliIo, table, usageError } from '../io.js';

const USAGE = 'usage: sidekey fleet status [--json]';
const SHOWN_SECONDS = 3_600;
const EXPIRE_SECONDS = 86_400;

export type SidecarState = 'live' | 'stale' | 'stopped';

export function sidecarState(row: SidecarRow): SidecarState {
  if (row.stoppedAt !== null) return 'stopped';
  return isStale(row) ? 'stale' : 'live';
}

const describeChange = (c: ChangeRow | undefined, id: number) =>
  id === 0 ? '-' : c === undefined ? `#${id}` : `#${id} ${c.kind} ${c.tenant}`;

export async function fleetCommand(args: Parsed, io: CliIo): Promise<number> {
  if (args.positionals[0] !== 'status' || args.positionals.length > 1) throw usageError(USAGE);
  const { store, rows, latest } = await withAdmin(io, async (ctx) => {
    await ctx.store.fleet.pruneSidecars(EXPIRE_SECONDS).catch(() => 0);
    return {
      store: ctx.store.kind,
      rows: await ctx.store.fleet.listSidecars(SHOWN_SECONDS),
      latest: await ctx.store.fleet.latestChange(),
    };
  });
  const sidecars = rows.map((r) => ({
    id: r.sidecarId,
    host: r.host,
    version: r.version,
    tenants: r.tenants.length === 0 ? ['*'] : r.tenants,
    state: sidecarState(r),
    startedAt: r.startedAt.toISOString(),
    lastSeen: r.lastSeen.toISOString(),
    silentSeconds: Math.round(r.silentSeconds),
    appliedChange: r.appliedChange,
    applied:
      r.applied === undefined
        ? null
        : { kind: r.applied.kind, tenant: r.applied.tenant, createdAt: r.applied.createdAt.toISOString() },
    upToDate: latest === undefined || r.appliedChange >= latest.changeId,
  }));
  if (flag(args, 'json')) {
    io.stdout(
      `${JSON.stringify(
        {
          latestChange:
            latest === undefined ? null : { ...latest, createdAt: latest.createdAt.toISOString() },
          sidecars,
        },
        null,
        2,
      )}\n`,
    );
    return 0;
  }
  if (store === 'embedded')
    io.stderr('note: the embedded store has no fleet: sidecars register with postgres\n');
  io.stdout(
    table(
      sidecars.map((s, i) => ({
        ...s,
        id: s.id.slice(0, 12),
        tenants: s.tenants.join(','),
        lastSeen: `${s.silentSeconds}s ago`,
        applied: describeChange(rows[i]!.applied, s.appliedChange),
      })),
      ['id', 'host', 'version', 'tenants', 'state', 'startedAt', 'lastSeen', 'applied'],
    ),
  );
  const counts = (state: SidecarState) => sidecars.filter((s) => s.state === state).length;
  io.stderr(
    `${sidecars.length} sidecar(s): ${counts('live')} live, ${counts('stale')} stale, ${counts('stopped')} stopped; ` +
      `newest change ${latest === undefined ? '-' : describeChange(latest, latest.changeId)}` +
      `${latest === undefined ? '' : `, applied by ${sidecars.filter((s) => s.state === 'live' && s.upToDate).length} live`}\n`,
  );
  return 0;
}
