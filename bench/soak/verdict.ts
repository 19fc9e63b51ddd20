/**
 * The soak's pass/fail bounds, stated once here and printed with every
 * result (docs/reliability.md quotes them).
 *
 * Baseline: the median of the 3 minutes after the warm-up; final: the median
 * of the last 3 minutes. Medians, so one minute with a PostgreSQL restart or
 * a neighbour's CPU burst does not decide the verdict.
 */
import type { Minute } from './sample.js';

export const BOUNDS = {
  rssGrowthMiB: 64,
  heapGrowthMiB: 32,
  fdGrowth: 10,
  /** final p99 ≤ factor × baseline p99 + slack (latency, both transports; event-loop delay). */
  p99Factor: 4,
  p99SlackMs: 100,
  /** An ORK revoked by the CLI must be refused by the sidecar within this. */
  revocationMs: 15_000,
} as const;

/** Codes that are a failure whenever they appear: a bug (500) or a dead/hung daemon. */
const NEVER = ['INTERNAL', 'UNKNOWN', 'HTTP_500', 'NETWORK', 'TIMEOUT'];

export function warmupMinutes(total: number): number {
  return total >= 15 ? 5 : total >= 6 ? 2 : 0;
}

function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export interface Verdict {
  readonly passed: boolean;
  readonly failures: string[];
  readonly baseline: Summary;
  readonly final: Summary;
}

interface Summary {
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly openFds: number;
  readonly eventLoopP99Ms: number;
  readonly httpP99Ms: number;
  readonly grpcP99Ms: number;
}

function summarize(ms: readonly Minute[]): Summary {
  return {
    rssMiB: median(ms.map((m) => m.gauges.rssMiB)),
    heapUsedMiB: median(ms.map((m) => m.gauges.heapUsedMiB)),
    openFds: median(ms.map((m) => m.gauges.openFds)),
    eventLoopP99Ms: median(ms.map((m) => m.gauges.eventLoopP99Ms)),
    httpP99Ms: median(ms.map((m) => m.httpP99Ms)),
    grpcP99Ms: median(ms.map((m) => m.grpcP99Ms)),
  };
}

export function judge(minutes: readonly Minute[], revocationsMs: readonly number[]): Verdict {
  const failures: string[] = [];
  const warm = warmupMinutes(minutes.length);
  const baseline = summarize(minutes.slice(warm, warm + 3));
  const final = summarize(minutes.slice(-3));
  for (const m of minutes) {
    for (const code of NEVER) {
      if ((m.codes[code] ?? 0) > 0) failures.push(`minute ${m.minute}: ${m.codes[code]} × ${code}`);
    }
    const outage = m.events.some((e) => e.startsWith('postgres restart'));
    const unavailable = m.codes.UNAVAILABLE ?? 0;
    const previous = minutes[m.minute - 2];
    const afterOutage = previous?.events.some((e) => e.startsWith('postgres restart')) ?? false;
    if (unavailable > 0 && !outage && !afterOutage) {
      failures.push(`minute ${m.minute}: ${unavailable} × UNAVAILABLE without a PostgreSQL restart`);
    }
  }
  const grow = (what: string, from: number, to: number, bound: number, unit: string) => {
    if (!(to - from <= bound)) {
      failures.push(`${what} grew ${from.toFixed(1)} → ${to.toFixed(1)} ${unit} (bound +${bound})`);
    }
  };
  grow('RSS', baseline.rssMiB, final.rssMiB, BOUNDS.rssGrowthMiB, 'MiB');
  grow('V8 heap used', baseline.heapUsedMiB, final.heapUsedMiB, BOUNDS.heapGrowthMiB, 'MiB');
  grow('open fds', baseline.openFds, final.openFds, BOUNDS.fdGrowth, '');
  for (const key of ['httpP99Ms', 'grpcP99Ms', 'eventLoopP99Ms'] as const) {
    const bound = baseline[key] * (BOUNDS.p99Factor - 1) + BOUNDS.p99SlackMs;
    grow(key, baseline[key], final[key], bound, 'ms');
  }
  for (const [i, ms] of revocationsMs.entries()) {
    if (!(ms <= BOUNDS.revocationMs)) failures.push(`revocation ${i + 1}: refused after ${ms} ms`);
  }
  return { passed: failures.length === 0, failures, baseline, final };
}

export function boundsText(): string {
  return [
    `after a warm-up, the median of the last 3 minutes against the median of the 3 minutes after warm-up:`,
    `RSS +${BOUNDS.rssGrowthMiB} MiB, V8 heap used +${BOUNDS.heapGrowthMiB} MiB, open fds +${BOUNDS.fdGrowth},`,
    `p99 (HTTP, gRPC, event-loop delay) at most ${BOUNDS.p99Factor}× + ${BOUNDS.p99SlackMs} ms;`,
    `no INTERNAL/UNKNOWN/500, no connection error or timeout, UNAVAILABLE only in a minute with a`,
    `PostgreSQL restart or the one after; every revoked ORK refused within ${BOUNDS.revocationMs / 1000} s.`,
  ].join(' ');
}

export function markdownTable(minutes: readonly Minute[]): string {
  const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
  const rows = [
    '| min | ops | HTTP p99 ms | gRPC p99 ms | RSS MiB | heap MiB | fds | loop p99 ms | non-OK | events |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const m of minutes) {
    const codes = Object.entries(m.codes)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    rows.push(
      `| ${m.minute} | ${m.ops} | ${f(m.httpP99Ms)} | ${f(m.grpcP99Ms)} | ${f(m.gauges.rssMiB)} | ${f(m.gauges.heapUsedMiB)} | ${m.gauges.openFds} | ${f(m.gauges.eventLoopP99Ms)} | ${codes || '–'} | ${m.events.join('; ') || '–'} |`,
    );
  }
  return rows.join('\n');
}
