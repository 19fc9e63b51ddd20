/**
 * Acknowledged propagation (docs/operations.md "Acknowledged waits"): after
 * an operator command has made a change and numbered it
 * (`store.fleet.announceChange`), wait until every sidecar that could still
 * hold a key from before the change has acknowledged it, and only for a
 * sidecar that does not answer (frozen, partitioned, its notification
 * connection down), until its key cache TTL has run out.
 *
 * A sidecar's cached keys were loaded at the latest when it was last seen
 * plus one heartbeat (a frozen process loads nothing), and none was loaded
 * before the change for longer than its TTL; so its deadline is
 *
 *     min(change, last seen + heartbeat) + its key cache TTL
 *
 * A sidecar that stopped gracefully took its caches with it; one registered
 * after the change loaded its keys after it. Neither is waited for.
 */
import type { FleetRegistry, SidecarRow } from '../store/index.js';

export interface FleetWaitOptions {
  /** Cache TTL for a sidecar whose row does not give one (ms). Default 300 s. */
  readonly ttlMs?: number;
  /** How often the registry is read at most: from 20 ms, doubling up to this. Default 200 ms. */
  readonly pollMs?: number;
  /** Rows seen within this many seconds are considered. Default one day. */
  readonly windowSeconds?: number;
  /** Asked between polls: true stops the wait early (Ctrl-C); the result says `interrupted`. */
  readonly stopped?: () => boolean;
  /** Told once when only sidecars that do not answer are left, and how long they can take. */
  readonly onFallback?: (silent: readonly FleetWaitSidecar[], waitMs: number) => void;
}

export interface FleetWaitSidecar {
  readonly sidecarId: string;
  readonly host: string;
}

export interface FleetWaitResult {
  readonly changeId: number;
  /** Sidecars that could hold a key from before the change. */
  readonly total: number;
  readonly applied: readonly FleetWaitSidecar[];
  /** Stopped gracefully while we waited. */
  readonly stopped: readonly FleetWaitSidecar[];
  /** Did not acknowledge: covered by their cache TTL instead. */
  readonly timedOut: readonly FleetWaitSidecar[];
  readonly waitedMs: number;
  readonly interrupted: boolean;
}

interface Tracked extends FleetWaitSidecar {
  readonly deadline: number;
  readonly staleAfterSeconds: number;
  state: 'pending' | 'applied' | 'stopped' | 'timed-out';
}

/** Silent for this many heartbeats: the sidecar is taken as not answering (fleet status "stale"). */
export const STALE_HEARTBEATS = 3;

export function isStale(row: Pick<SidecarRow, 'silentSeconds' | 'heartbeatSeconds'>): boolean {
  return row.silentSeconds > STALE_HEARTBEATS * row.heartbeatSeconds;
}

export async function awaitFleetApplied(
  registry: Pick<FleetRegistry, 'listSidecars'>,
  changeId: number,
  options: FleetWaitOptions = {},
): Promise<FleetWaitResult> {
  const maxPollMs = options.pollMs ?? 200;
  // Acknowledgements usually take milliseconds: look again soon, then less often.
  let pollMs = Math.min(20, maxPollMs);
  const window = options.windowSeconds ?? 86_400;
  const started = Date.now();
  const tracked = new Map<string, Tracked>();
  let rows = await registry.listSidecars(window);
  for (const row of rows) {
    if (row.stoppedAt !== null && row.appliedChange < changeId) continue;
    const lastSeen = started - row.silentSeconds * 1000;
    const ttl = row.keyTtlSeconds > 0 ? row.keyTtlSeconds * 1000 : (options.ttlMs ?? 300_000);
    const deadline = Math.min(started, lastSeen + row.heartbeatSeconds * 1000) + ttl;
    if (deadline <= started && row.appliedChange < changeId) continue; // long gone: nothing cached
    tracked.set(row.sidecarId, {
      sidecarId: row.sidecarId,
      host: row.host,
      deadline,
      staleAfterSeconds: STALE_HEARTBEATS * row.heartbeatSeconds,
      state: 'pending',
    });
  }

  let interrupted = false;
  let toldFallback = false;
  for (;;) {
    const now = Date.now();
    const silent: Tracked[] = [];
    for (const t of tracked.values()) {
      if (t.state !== 'pending') continue;
      const row = rows.find((r) => r.sidecarId === t.sidecarId);
      if (row !== undefined && row.appliedChange >= changeId) t.state = 'applied';
      else if (row !== undefined && row.stoppedAt !== null) t.state = 'stopped';
      else if (now >= t.deadline) t.state = 'timed-out';
      else if (row === undefined || isStale(row)) silent.push(t);
    }
    const pending = [...tracked.values()].filter((t) => t.state === 'pending');
    if (pending.length === 0) break;
    if (options.stopped?.() === true) {
      interrupted = true;
      break;
    }
    if (!toldFallback && silent.length > 0 && silent.length === pending.length) {
      toldFallback = true;
      options.onFallback?.(
        silent.map(({ sidecarId, host }) => ({ sidecarId, host })),
        Math.max(0, Math.max(...silent.map((t) => t.deadline)) - now),
      );
    }
    const nextDeadline = Math.min(...pending.map((t) => t.deadline));
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(pollMs, nextDeadline - now))));
    pollMs = Math.min(maxPollMs, pollMs * 2);
    rows = await registry.listSidecars(window);
  }

  const by = (state: Tracked['state']) =>
    [...tracked.values()]
      .filter((t) => t.state === state)
      .map(({ sidecarId, host }) => ({ sidecarId, host }));
  return {
    changeId,
    total: tracked.size,
    applied: by('applied'),
    stopped: by('stopped'),
    timedOut: [...by('timed-out'), ...(interrupted ? by('pending') : [])],
    waitedMs: Date.now() - started,
    interrupted,
  };
}

/** `applied by N of M sidecars`, and who was waited for the TTL (the line the commands print). */
export function describeFleetWait(r: FleetWaitResult): string {
  const short = (s: FleetWaitSidecar) => `${s.sidecarId.slice(0, 12)} (${s.host})`;
  let line = `applied by ${r.applied.length} of ${r.total} sidecar${r.total === 1 ? '' : 's'}`;
  if (r.stopped.length > 0) line += `; ${r.stopped.length} stopped meanwhile`;
  if (r.timedOut.length > 0) {
    line += r.interrupted
      ? `; interrupted while waiting for ${r.timedOut.map(short).join(', ')}`
      : `; waited the cache TTL for ${r.timedOut.length} that did not answer: ${r.timedOut.map(short).join(', ')}`;
  }
  const took = r.waitedMs < 1000 ? `${Math.round(r.waitedMs)} ms` : `${(r.waitedMs / 1000).toFixed(1)} s`;
  return `${line} (${took})`;
}
