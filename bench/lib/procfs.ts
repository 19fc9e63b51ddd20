/** CPU time and memory of processes, from /proc (Linux). */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

let ticks: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`, 100 almost everywhere). */
export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds of one process (all its threads); undefined when it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  const f = statFields(pid);
  if (f === undefined) return undefined;
  // After the name: state(0) ppid(1) … utime(11) stime(12).
  return (Number(f[11]) + Number(f[12])) / clockTicks();
}

/** CPU seconds of each process that exists. */
export function cpuSecondsOf(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const s = cpuSeconds(pid);
    if (s !== undefined) out.set(pid, s);
  }
  return out;
}

/**
 * CPU seconds spent between two cpuSecondsOf snapshots: processes that
 * started in between count from zero; processes that ended in between
 * (an idle pool connection closed) are lost, never negative.
 */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, s] of after) total += Math.max(0, s - (before.get(pid) ?? 0));
  return total;
}

/** Resident set size now and its high-water mark since the process started, in KiB. */
export function memoryKiB(pid: number): { rss: number; hwm: number; anon: number; file: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    // RssAnon: this process's own memory (heap, stacks, buffers). RssFile: pages of mapped files (the
    // node binary's code above all), which every process mapping the same file shares.
    return { rss: field('VmRSS'), hwm: field('VmHWM'), anon: field('RssAnon'), file: field('RssFile') };
  } catch {
    return undefined;
  }
}

/** A PostgreSQL data directory's postmaster and its backends, read anew at each call (backends come and go). */
export function postgresProcesses(dataDir: string): () => number[] {
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return () => processTree(postmaster);
}

/** `root` and its direct children (a postmaster and its backends). */
export function processTree(root: number): number[] {
  const pids = [root];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f !== undefined && Number(f[1]) === root) pids.push(Number(name));
  }
  return pids;
}

/** Samples VmRSS of one process every `intervalMs` and keeps the maximum. */
export class RssSampler {
  private max = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    const m = memoryKiB(this.pid);
    if (m !== undefined && m.rss > this.max) this.max = m.rss;
  }

  /** Stops sampling; the highest VmRSS seen, KiB. */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.max;
  }
}

/** CPU seconds the whole machine spent busy (not idle or waiting for I/O), all cores together. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal …
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy / clockTicks();
}

/** 1-, 5- and 15-minute load averages. */
export function loadAverage(): [number, number, number] {
  const [a, b, c] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
  return [a ?? 0, b ?? 0, c ?? 0];
}
