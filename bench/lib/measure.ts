/**
 * One measured window: a load-generator process warms up, the orchestrator
 * samples /proc (server, PostgreSQL, generator, whole machine) and sidekey's
 * /metrics, the measured phase runs, the orchestrator samples again. Shared by
 * the full benchmark (bench/run.ts) and the before/after comparison
 * (bench/compare.ts).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { type Child, spawnTs } from './children.js';
import { type MetricsSnapshot, metricsDelta, readMetrics } from './metrics.js';
import { cpuDelta, cpuSeconds, cpuSecondsOf, machineBusySeconds, RssSampler } from './procfs.js';
import type { LoadResult } from './protocol.js';
import type { Machine, Measurement } from './report.js';

export interface MeasureContext {
  /** The repository root: load generators run from here (`node --import tsx <script>`). */
  readonly repo: string;
  /** Where the load specs are written. */
  readonly scratch: string;
  /** The PostgreSQL processes (postmaster and backends) right now. */
  readonly pgPids: () => number[];
}

export interface Target {
  /** The server process whose CPU and memory are measured. */
  readonly pid?: number;
  /** sidekey's base URL, for /metrics. */
  readonly metricsUrl?: string;
}

export interface Window {
  readonly result: LoadResult;
  readonly serverCpu?: number;
  readonly pgCpu: number;
  readonly generatorCpu: number;
  /** Every process on the machine, CPU seconds. */
  readonly machineCpu: number;
  readonly peakRssKiB?: number;
  readonly metrics?: MetricsSnapshot;
  /** performance.now() at `go` and at the result. */
  readonly from: number;
  readonly to: number;
}

export async function measureWindow(
  ctx: MeasureContext,
  name: string,
  script: string,
  spec: object,
  target: Target,
): Promise<Window> {
  const specFile = join(ctx.scratch, `${name}.json`);
  writeFileSync(specFile, JSON.stringify(spec));
  const child: Child = spawnTs(name, ctx.repo, script, [specFile]);
  try {
    const timeout = ((spec as { warmupSeconds?: number }).warmupSeconds ?? 0) * 1000 + 60_000;
    await child.message('warm', timeout);
    const all0 = machineBusySeconds();
    const pg0 = cpuSecondsOf(ctx.pgPids());
    const gen0 = cpuSeconds(child.pid) ?? 0;
    const srv0 = target.pid === undefined ? undefined : cpuSeconds(target.pid);
    const m0 = target.metricsUrl === undefined ? undefined : await readMetrics(target.metricsUrl);
    const rss = target.pid === undefined ? undefined : new RssSampler(target.pid);
    const from = performance.now();
    child.send('go');
    const result = await child.message<LoadResult>(
      'result',
      ((spec as { seconds?: number }).seconds ?? 0) * 1000 + 60_000,
    );
    const to = performance.now();
    const gen1 = cpuSeconds(child.pid) ?? gen0;
    const srv1 = target.pid === undefined ? undefined : cpuSeconds(target.pid);
    const pg1 = cpuSecondsOf(ctx.pgPids());
    const all1 = machineBusySeconds();
    const peakRssKiB = rss?.stop();
    const m1 = target.metricsUrl === undefined ? undefined : await readMetrics(target.metricsUrl);
    return {
      result,
      from,
      to,
      ...(srv0 !== undefined && srv1 !== undefined && { serverCpu: srv1 - srv0 }),
      pgCpu: cpuDelta(pg0, pg1),
      generatorCpu: gen1 - gen0,
      machineCpu: all1 - all0,
      ...(peakRssKiB !== undefined && { peakRssKiB }),
      ...(m0 !== undefined && m1 !== undefined && { metrics: metricsDelta(m0, m1) }),
    };
  } finally {
    await child.stop('SIGTERM', 5_000);
  }
}

export function toMeasurement(
  base: Pick<Measurement, 'id' | 'title' | 'kind' | 'load' | 'valuesPerRequest'>,
  w: Window,
): Measurement {
  const r = w.result;
  const perReq = (seconds: number | undefined) =>
    seconds === undefined || r.ok === 0 ? undefined : (seconds * 1e6) / r.ok;
  const m = w.metrics;
  return {
    ...base,
    requests: r.ok,
    errors: r.errors,
    seconds: r.seconds,
    requestsPerSecond: r.ok / r.seconds,
    valuesPerSecond: (r.ok * base.valuesPerRequest) / r.seconds,
    latencyMs: r.latencyMs,
    ...(w.serverCpu !== undefined && {
      cpuUsPerRequest: perReq(w.serverCpu),
      cpuUsPerValue: (perReq(w.serverCpu) ?? 0) / base.valuesPerRequest,
      serverCores: w.serverCpu / r.seconds,
    }),
    pgCpuUsPerRequest: perReq(w.pgCpu),
    pgCores: w.pgCpu / r.seconds,
    generatorCores: w.generatorCpu / r.seconds,
    otherCores: Math.max(0, (w.machineCpu - (w.serverCpu ?? 0) - w.pgCpu - w.generatorCpu) / r.seconds),
    ...(w.peakRssKiB !== undefined && { peakRssMiB: w.peakRssKiB / 1024 }),
    ...(m !== undefined && {
      kms: {
        wired: m.kmsWired,
        keyCalls: m.kmsKeyCalls,
        healthCalls: m.kmsHealthCalls,
        keyCallsPer1000: r.ok === 0 ? 0 : (1000 * m.kmsKeyCalls) / r.ok,
        keyCacheMissesPer1000: r.ok === 0 ? 0 : (1000 * m.keyCacheMisses) / r.ok,
      },
      writer: {
        flushes: m.flushes,
        rowsPerFlush: m.flushes === 0 ? 0 : m.flushRows / m.flushes,
        msPerFlush: m.flushes === 0 ? 0 : (1000 * m.flushSeconds) / m.flushes,
      },
      heapMiB: { used: m.heapUsedMiB, total: m.heapTotalMiB, external: m.externalMiB },
    }),
    ...(r.details !== undefined && { details: r.details }),
  };
}

export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** The machine, the PostgreSQL version and the working tree's commit, for the results file. */
export function machineInfo(repo: string, pg: string, loadAverageAtStart: readonly number[]): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const git = (a: string[]) => {
    try {
      return execFileSync('git', a, { cwd: repo, encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  return {
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: totalmem() / 2 ** 30,
    kernel: release(),
    node: process.version,
    postgres: pg,
    date: new Date().toISOString(),
    commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
    dirtyTree: git(['status', '--porcelain', '--untracked-files=no']) !== '',
    loadAverageAtStart,
  };
}
