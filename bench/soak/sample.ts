/**
 * What the soak records about the daemon each minute: RSS, V8 heap, open
 * file descriptors and event-loop delay from its own /metrics (prom-client's
 * default metrics), RSS and fds also from /proc as a cross-check, and the
 * outcomes of the load (count, p99 per transport, codes).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Outcome } from './load.js';

export interface Gauges {
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly openFds: number;
  /** prom-client's event-loop delay p99 since its previous scrape (seconds → ms). */
  readonly eventLoopP99Ms: number;
}

/** One value of a Prometheus text exposition (first sample of that name without labels). */
function metric(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  return m === null ? Number.NaN : Number(m[1]);
}

export async function scrape(url: string): Promise<Gauges> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  return {
    rssMiB: metric(text, 'sidekey_process_resident_memory_bytes') / 2 ** 20,
    heapUsedMiB: metric(text, 'sidekey_nodejs_heap_size_used_bytes') / 2 ** 20,
    openFds: metric(text, 'sidekey_process_open_fds'),
    eventLoopP99Ms: metric(text, 'sidekey_nodejs_eventloop_lag_p99_seconds') * 1000,
  };
}

/** RSS (MiB) and open fds of a process, from /proc. */
export function procfs(pid: number): { rssMiB: number; openFds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? Number.NaN);
  return { rssMiB: kib / 1024, openFds: readdirSync(`/proc/${pid}/fd`).length };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export interface Minute {
  readonly minute: number;
  readonly ops: number;
  readonly httpP99Ms: number;
  readonly grpcP99Ms: number;
  /** Non-OK outcomes by code (per-item errors inside OK answers are not here). */
  readonly codes: Record<string, number>;
  readonly gauges: Gauges;
  readonly procRssMiB: number;
  readonly procFds: number;
  /** What the soak did to the system during this minute. */
  readonly events: string[];
}

/** Collects outcomes between two samples. */
export class Window {
  private outcomes: Outcome[] = [];
  events: string[] = [];
  record = (o: Outcome): void => {
    this.outcomes.push(o);
  };
  close(minute: number, gauges: Gauges, proc: { rssMiB: number; openFds: number }): Minute {
    const p99 = (t: 'http' | 'grpc') =>
      percentile(
        this.outcomes
          .filter((o) => o.transport === t && o.code === 'OK')
          .map((o) => o.ms)
          .sort((a, b) => a - b),
        99,
      );
    const codes: Record<string, number> = {};
    for (const o of this.outcomes) if (o.code !== 'OK') codes[o.code] = (codes[o.code] ?? 0) + 1;
    const m: Minute = {
      minute,
      ops: this.outcomes.length,
      httpP99Ms: p99('http'),
      grpcP99Ms: p99('grpc'),
      codes,
      gauges,
      procRssMiB: proc.rssMiB,
      procFds: proc.openFds,
      events: this.events,
    };
    this.outcomes = [];
    this.events = [];
    return m;
  }
}
