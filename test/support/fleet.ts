/**
 * A fleet for integration tests (DESIGN.md "Fleet"): one harness PostgreSQL,
 * the schema created by the real `sidekey migrate` as the operator
 * certificate, tenants and ORKs provisioned through the real CLI (operator
 * certificate too), and sidecars — in-process daemons or spawned `sidekey`
 * processes — that log in with the sidecar certificate.
 *
 * With the local development KMS the KEK is a file in the data directory. The
 * operator's data directory holds it (created by `migrate`); every sidecar
 * gets its own data directory (its gRPC socket lives there) with a 0600 copy
 * of that file, as a fleet would share one KMS key.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_KEK_FILE } from '../../src/kms/factory.js';
import { type CliResult, sidekey } from './cli.js';
import { capturedLogs, startTestDaemon, type TestDaemon } from './daemon.js';
import {
  OPERATOR_ROLE,
  type PostgresOptions,
  postgresEnv,
  SIDECAR_ROLE,
  startPostgres,
  type TestPostgres,
} from './postgres.js';
import { type Child, freePort, spawnSidekey, waitServing } from './process.js';
import { until } from './wait.js';

export { until } from './wait.js';
export { postgresEnv };

export interface IssuedOrk {
  readonly ork: string;
  readonly orkId: string;
}

export interface SpawnedSidecar {
  readonly child: Child;
  readonly url: string;
  readonly dataDir: string;
  /** SIGTERM and wait for the exit (SIGKILL after a grace period). */
  stop(): Promise<void>;
}

export interface SidecarOptions {
  /**
   * Return only once the sidecar's key event listener is connected (default
   * true; false when PostgreSQL is down on purpose). Until then a sidecar
   * would miss announcements, and the listener's first connection clears
   * every cached key, which races with the first calls (reported: a clear
   * during a tenant-key load fails that call with INTERNAL — see the todo
   * test in test/postgres/fleet.test.ts).
   */
  readonly waitForKeyEvents?: boolean;
}

const LISTENER_CONNECTED =
  /"state":"connected".*"msg":"key event listener"|"msg":"key event listener".*"state":"connected"/;

/** Whether an in-process sidecar's key event listener (re)connected in `capturedLogs` after index `mark`. */
export function keyEventsConnectedSince(mark: number): boolean {
  return capturedLogs.slice(mark).some((line) => LISTENER_CONNECTED.test(line));
}

export interface Fleet {
  readonly pg: TestPostgres;
  /** The operator's data directory: the local KEK every sidecar shares. */
  readonly opsDir: string;
  /** Runs the real CLI as the operator (operator certificate). */
  ops(args: string[]): Promise<CliResult>;
  createTenant(tenant: string): Promise<void>;
  issueOrk(tenant: string, label?: string): Promise<IssuedOrk>;
  revokeOrk(tenant: string, orkId: string): Promise<void>;
  /** A fresh data directory for one sidecar, holding a copy of the shared KEK. */
  sidecarDataDir(): string;
  /** The environment of a sidecar on this fleet's PostgreSQL (sidecar certificate). */
  sidecarEnv(dataDir: string, extra?: Record<string, string>): Record<string, string>;
  /** An in-process daemon (the real composition root), logs captured like every test daemon. */
  startSidecar(extra?: Record<string, string>, options?: SidecarOptions): Promise<TestDaemon>;
  /** A separate `sidekey serve` process. */
  spawnSidecar(extra?: Record<string, string>, options?: SidecarOptions): Promise<SpawnedSidecar>;
  /** Stops every sidecar started here, then PostgreSQL, and removes every file. */
  destroy(): Promise<void>;
}

export async function startFleet(options: PostgresOptions = {}): Promise<Fleet> {
  const pg = await startPostgres(options);
  const dirs: string[] = [];
  const stops: (() => Promise<void>)[] = [];
  const tmp = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
  const opsDir = tmp('sidekey-ops-');
  const opsEnv = { SIDEKEY_DATA_DIR: opsDir, SIDEKEY_LOG_LEVEL: 'error', ...postgresEnv(pg, OPERATOR_ROLE) };
  const ops = (args: string[]) => sidekey(args, opsEnv);
  const must = async (args: string[]) => {
    const r = await ops(args);
    assert.equal(r.code, 0, `sidekey ${args.join(' ')}: ${r.stderr}`);
    return r;
  };

  const sidecarDataDir = () => {
    const dir = tmp('sidekey-sidecar-');
    copyFileSync(join(opsDir, LOCAL_KEK_FILE), join(dir, LOCAL_KEK_FILE));
    return dir;
  };
  const sidecarEnv = (dataDir: string, extra: Record<string, string> = {}) => ({
    SIDEKEY_DATA_DIR: dataDir,
    ...postgresEnv(pg, SIDECAR_ROLE),
    ...extra,
  });

  try {
    await must(['migrate', '--sidecar-role', SIDECAR_ROLE]);
  } catch (err) {
    await pg.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    throw err;
  }

  return {
    pg,
    opsDir,
    ops,
    async createTenant(tenant) {
      await must(['tenant', 'create', tenant]);
    },
    async issueOrk(tenant, label = 'test') {
      const r = await must(['ork', 'issue', '--tenant', tenant, '--label', label]);
      const orkId = /issued ORK ([0-9a-f]{32})/.exec(r.stderr)?.[1];
      assert.ok(orkId !== undefined, `no ORK id in: ${r.stderr}`);
      return { ork: r.stdout.trim(), orkId };
    },
    async revokeOrk(tenant, orkId) {
      await must(['ork', 'revoke', '--tenant', tenant, orkId]);
    },
    sidecarDataDir,
    sidecarEnv,
    async startSidecar(extra = {}, { waitForKeyEvents = true } = {}) {
      const dataDir = sidecarDataDir();
      const mark = capturedLogs.length;
      const d = await startTestDaemon(sidecarEnv(dataDir, extra), { dataDir });
      stops.push(() => d.stop());
      if (waitForKeyEvents) {
        await until('the key event listener of the sidecar', () => keyEventsConnectedSince(mark));
      }
      return d;
    },
    async spawnSidecar(extra = {}, { waitForKeyEvents = true } = {}) {
      const dataDir = sidecarDataDir();
      const port = await freePort();
      const child = spawnSidekey(
        ['serve'],
        sidecarEnv(dataDir, { SIDEKEY_HTTP_PORT: String(port), SIDEKEY_LOG_LEVEL: 'info', ...extra }),
      );
      const stop = async () => {
        if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
        child.proc.kill('SIGTERM');
        const killer = setTimeout(() => child.proc.kill('SIGKILL'), 10_000);
        await child.exited;
        clearTimeout(killer);
      };
      stops.push(stop);
      try {
        await waitServing(child);
        if (waitForKeyEvents) {
          await until('the key event listener of the sidecar', () => LISTENER_CONNECTED.test(child.stdout));
        }
      } catch (err) {
        await stop();
        throw err;
      }
      return { child, url: `http://127.0.0.1:${port}`, dataDir, stop };
    },
    async destroy() {
      for (const stop of stops.reverse()) await stop().catch(() => {});
      await pg.destroy();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** One HTTP result, or `timeout` when no answer came within the deadline. */
export type TimedResult =
  | { readonly status: number; readonly code: string | undefined; readonly body: unknown }
  | { readonly status: 'timeout' | 'network-error'; readonly code: undefined; readonly body: undefined };

/**
 * POST a data call that gives up after `timeoutMs`: tests of outages must
 * prove that no request hangs, so they never wait on a socket unbounded.
 */
export function postWithin(
  url: string,
  path: string,
  ork: string,
  body: unknown,
  timeoutMs: number,
): Promise<TimedResult> {
  return new Promise((resolve) => {
    const payload = JSON.stringify(body);
    let settled = false;
    const settle = (r: TimedResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = request(
      `${url}${path}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-sidekey-org-key': ork },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => settle({ status: 'network-error', code: undefined, body: undefined }));
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            parsed = undefined;
          }
          const code = (parsed as { error?: { code?: string } } | undefined)?.error?.code;
          settle({ status: res.statusCode ?? 0, code, body: parsed });
        });
      },
    );
    const timer = setTimeout(() => {
      settle({ status: 'timeout', code: undefined, body: undefined });
      req.destroy();
    }, timeoutMs);
    req.on('error', () => settle({ status: 'network-error', code: undefined, body: undefined }));
    req.end(payload);
  });
}
