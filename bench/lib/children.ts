/**
 * Child processes of the benchmark: every one is tracked and killed when the
 * orchestrator exits or is interrupted (Ctrl-C), so no daemon, floor server
 * or load generator outlives a run. Messages from a child are JSON lines on
 * its stdout (protocol.ts). Temporary directories registered with
 * removeOnExit go the same way, right after the processes that use them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';

const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();

function removeTempDirs(): void {
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
      tempDirs.delete(dir);
    } catch {
      // a killed child may still be writing into it: kept for the next attempt (exit)
    }
  }
}

function killAll(): void {
  for (const p of live) {
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
  live.clear();
  removeTempDirs();
}

/**
 * Removes `dir` (recursively) when the benchmark exits or is interrupted;
 * the returned function removes it now (and forgets it).
 */
export function removeOnExit(dir: string): () => void {
  tempDirs.add(dir);
  return () => {
    tempDirs.delete(dir);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
  };
}
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\nbench: ${signal}, stopping every child process\n`);
    killAll();
    process.exitCode = 130;
    // Postgres (test/support/postgres.ts) cleans up on the same signal and re-raises it.
    setTimeout(() => process.exit(130), 2_000).unref();
  });
}

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Waits for the next JSON message whose `event` is `event`. */
  message<T = Record<string, unknown>>(event: string, timeoutMs: number): Promise<T>;
  /** Writes one line to the child's stdin. */
  send(line: string): void;
  /** The last few KiB of stderr (for error messages). */
  stderr(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Signals the child (default SIGTERM), waits for it, SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** `messages`: stdout carries protocol lines; `ignore`: stdout goes to /dev/null. */
  readonly stdout?: 'messages' | 'ignore';
}

const STDERR_TAIL = 16 * 1024;

export function spawnChild(name: string, command: string, args: string[], opts: SpawnOptions = {}): Child {
  const proc = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env ?? (process.env as Record<string, string>),
    stdio: ['pipe', opts.stdout === 'ignore' ? 'ignore' : 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`could not start ${name}`);
  live.add(proc);
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-STDERR_TAIL);
  });
  proc.stdin!.on('error', () => {}); // the child may be gone already
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => {
      live.delete(proc);
      resolve({ code, signal });
    }),
  );
  const queue: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  if (proc.stdout) {
    createInterface({ input: proc.stdout }).on('line', (line) => {
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        return; // not a protocol line
      }
      if (typeof msg === 'object' && msg !== null) {
        queue.push(msg as Record<string, unknown>);
        for (const w of waiters) w();
      }
    });
  }
  let exitedYet = false;
  void exited.then(() => {
    exitedYet = true;
    for (const w of waiters) w();
  });

  return {
    name,
    proc,
    pid: proc.pid,
    exited,
    stderr: () => stderr,
    send: (line) => {
      proc.stdin!.write(`${line}\n`);
    },
    message<T>(event: string, timeoutMs: number): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const check = () => {
          const i = queue.findIndex((m) => m.event === event);
          if (i >= 0) {
            const [m] = queue.splice(i, 1);
            done();
            resolve(m as T);
          } else if (exitedYet) {
            done();
            reject(new Error(`${name} exited before "${event}": ${stderr.trim().slice(-2000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: no "${event}" within ${timeoutMs} ms: ${stderr.trim().slice(-2000)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.stdin!.end();
      proc.kill(signal);
      const killer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** `node --import tsx <script> …args` from the repository root. */
export function spawnTs(
  name: string,
  root: string,
  script: string,
  args: string[] = [],
  node: string = process.execPath,
): Child {
  return spawnChild(name, node, ['--import', 'tsx', script, ...args], { cwd: root });
}
