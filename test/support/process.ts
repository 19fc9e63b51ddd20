/** Runs the real `sidekey` command as a child process (bin/sidekey.js → src via tsx). */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const SIDEKEY_BIN = join(import.meta.dirname, '..', '..', 'bin', 'sidekey.js');

export interface Child {
  readonly proc: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnSidekey(args: string[], env: Record<string, string>): Child {
  const proc = spawn(process.execPath, [SIDEKEY_BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child: Child = {
    proc,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal }))),
  };
  proc.stdout!.on('data', (c: Buffer) => {
    child.stdout += c.toString();
  });
  proc.stderr!.on('data', (c: Buffer) => {
    child.stderr += c.toString();
  });
  return child;
}

export async function runSidekey(args: string[], env: Record<string, string>) {
  const child = spawnSidekey(args, env);
  const { code } = await child.exited;
  return { code, stdout: child.stdout, stderr: child.stderr };
}

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Waits until the child logs that it serves (or exits). */
export async function waitServing(child: Child, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!child.stdout.includes('"msg":"serving"')) {
    if (child.proc.exitCode !== null) throw new Error(`sidekey exited early: ${child.stderr}`);
    if (Date.now() - started > timeoutMs) throw new Error(`sidekey did not start: ${child.stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
