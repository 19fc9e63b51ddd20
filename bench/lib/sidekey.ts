/**
 * sidekey for the benchmark: compiled as production runs it (tsc, like the
 * container image), provisioned on the harness PostgreSQL through the real
 * CLI with the operator certificate, and served by separate `sidekey serve`
 * processes logging in with the sidecar certificate.
 *
 * The build goes to a temporary directory (never to dist/, which
 * bin/sidekey.js would prefer over the sources for every test run); it gets
 * symlinks to node_modules and proto/ so modules and the contract resolve as
 * in the image.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RESOURCES } from '../../k8s-sidecar/annotations.js';
import { parseQuantity } from '../../k8s-sidecar/quantity.js';
import { nodeOptionsFor } from '../../k8s-sidecar/sidecar.js';
import { OPERATOR_ROLE, postgresEnv, SIDECAR_ROLE, type TestPostgres } from '../../test/support/postgres.js';
import { freePort } from '../../test/support/process.js';
import { type Child, removeOnExit, spawnChild } from './children.js';

export interface Build {
  /** The command line that runs `sidekey` (node + script). */
  readonly command: readonly string[];
  readonly mode: 'compiled' | 'tsx';
  /** Prefix of file URLs in profiles (the build directory). */
  readonly root: string;
  /** The node flags of the image's ENTRYPOINT (Dockerfile): every daemon runs with them, as in a pod. */
  readonly nodeFlags: readonly string[];
  remove(): void;
}

/**
 * The flags between `node` and the script in the Dockerfile's ENTRYPOINT
 * (`["node", "--flag", …, "/app/bin/sidekey.js"]`): part of how the image
 * runs sidekey, so part of what is measured (ADR-19). None when there is no
 * Dockerfile (an old ref) or no such line.
 */
export function imageNodeFlags(repo: string): string[] {
  const file = join(repo, 'Dockerfile');
  if (!existsSync(file)) return [];
  const m = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(file, 'utf8'));
  if (m === null) return [];
  const argv = JSON.parse(m[1]!) as string[];
  return argv[0] === 'node' ? argv.slice(1).filter((a) => a.startsWith('--')) : [];
}

export function buildSidekey(repo: string, mode: 'compiled' | 'tsx'): Build {
  if (mode === 'tsx') {
    return {
      command: [join(repo, 'bin', 'sidekey.js')],
      mode,
      root: repo,
      nodeFlags: imageNodeFlags(repo),
      remove: () => {},
    };
  }
  const out = mkdtempSync(join(tmpdir(), 'sidekey-bench-build-'));
  const remove = removeOnExit(out);
  const tsc = join(repo, 'node_modules', '.bin', 'tsc');
  const r = spawnSync(tsc, ['-p', join(repo, 'tsconfig.build.json'), '--outDir', out], {
    cwd: repo,
    encoding: 'utf8',
  });
  const main = join(out, 'src', 'cli', 'main.js');
  if (!existsSync(main)) {
    remove();
    throw new Error(`tsc produced no ${main}: ${r.stdout}${r.stderr}`);
  }
  // Type errors (another engineer's work in progress) do not stop the emit; say so.
  if (r.status !== 0) process.stderr.write(`bench: tsc reported errors (emitted anyway):\n${r.stdout}\n`);
  symlinkSync(join(repo, 'node_modules'), join(out, 'node_modules'));
  symlinkSync(join(repo, 'proto'), join(out, 'proto'));
  copyFileSync(join(repo, 'package.json'), join(out, 'package.json'));
  return { command: [main], mode, root: out, nodeFlags: imageNodeFlags(repo), remove };
}

export interface RefBuild extends Build {
  /** The full commit hash `ref` resolved to. */
  readonly commit: string;
  /** package-lock.json differs between `ref` and the working tree (its own `npm ci` ran). */
  readonly lockfileChanged: boolean;
}

/**
 * sidekey as committed at `ref`, compiled like the working tree: `git archive
 * <ref>` extracted into a temporary directory (the working tree is not
 * touched), with the repository's node_modules symlinked in when
 * package-lock.json is the same, else `npm ci --ignore-scripts
 * --prefer-offline` of its own; then buildSidekey. remove() deletes both.
 */
export function buildSidekeyAt(repo: string, ref: string, log: (line: string) => void): RefBuild {
  const run = (cmd: string, args: string[], cwd: string, timeoutMs: number) =>
    spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 2 ** 20 });
  const rev = run(
    'git',
    ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`],
    repo,
    30_000,
  );
  const commit = rev.stdout?.trim() ?? '';
  if (rev.status !== 0 || !/^[0-9a-f]{40,64}$/.test(commit)) {
    throw new Error(`--compare ${ref}: not a commit of this repository ${rev.stderr ?? ''}`.trim());
  }
  const tree = mkdtempSync(join(tmpdir(), 'sidekey-bench-ref-'));
  const removeTree = removeOnExit(tree);
  try {
    const checkout = join(tree, 'checkout');
    mkdirSync(checkout);
    const tar = join(tree, 'source.tar');
    const archive = run('git', ['archive', '--format=tar', '-o', tar, commit], repo, 120_000);
    if (archive.status !== 0) throw new Error(`git archive ${commit} failed: ${archive.stderr}`);
    const x = run('tar', ['-xf', tar, '-C', checkout], tree, 120_000);
    if (x.status !== 0) throw new Error(`tar -x of git archive ${commit} failed: ${x.stderr}`);
    rmSync(tar);
    // 0: the same, 1: different (or absent on one side).
    const diff = run('git', ['diff', '--quiet', commit, '--', 'package-lock.json'], repo, 30_000);
    const lockfileChanged = diff.status !== 0;
    if (!lockfileChanged) {
      symlinkSync(join(repo, 'node_modules'), join(checkout, 'node_modules'));
    } else {
      log(`package-lock.json differs between ${ref} and the working tree: npm ci of its own (offline first)`);
      const ci = spawnSync('npm', ['ci', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], {
        cwd: checkout,
        stdio: ['ignore', 2, 2],
        timeout: 900_000,
      });
      if (ci.status !== 0)
        throw new Error(`npm ci for ${ref} failed (status ${ci.status}, ${ci.signal ?? ''})`);
    }
    const build = buildSidekey(checkout, 'compiled');
    return {
      ...build,
      commit,
      lockfileChanged,
      remove: () => {
        build.remove();
        removeTree();
      },
    };
  } catch (err) {
    removeTree();
    throw err;
  }
}

/**
 * NODE_OPTIONS of an injected sidecar with the default resources (postgres
 * store): the benchmark measures the memory production sees.
 */
export const PRODUCTION_NODE_OPTIONS = nodeOptionsFor(parseQuantity(DEFAULT_RESOURCES.memoryLimit)!.value);

const baseEnv = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' });

export interface Provisioned {
  /** Holds the local KEK (kek.key) every sidecar copies, as a fleet shares one KMS key. */
  readonly opsDir: string;
  readonly tenant: string;
  readonly ork: string;
}

/**
 * `sidekey migrate`, `tenant create`, `ork issue` as the operator role. With
 * `opsDir`, that operator data directory (and its kek.key) is used again: two
 * builds provisioning one database share one KEK, as a fleet shares one KMS key.
 */
export function provision(
  build: Build,
  pg: TestPostgres,
  tenant: string,
  scratch: string,
  opsDir: string = mkdtempSync(join(scratch, 'ops-')),
  /** More CLI commands to run as the operator once the tenant exists (field policies). */
  then: readonly string[][] = [],
): Provisioned {
  const cli = operatorCli(build, pg, opsDir);
  cli(['migrate', '--sidecar-role', SIDECAR_ROLE]);
  cli(['tenant', 'create', tenant]);
  const ork = cli(['ork', 'issue', '--tenant', tenant, '--label', 'bench']).trim();
  if (ork === '') throw new Error('sidekey ork issue printed no ORK');
  for (const args of then) cli(args);
  return { opsDir, tenant, ork };
}

/** Runs `sidekey <args>` as the operator of `pg` (data directory `opsDir`); returns its stdout, throws on failure. */
export function operatorCli(build: Build, pg: TestPostgres, opsDir: string): (args: string[]) => string {
  const env = {
    ...baseEnv(),
    SIDEKEY_DATA_DIR: opsDir,
    SIDEKEY_LOG_LEVEL: 'error',
    ...postgresEnv(pg, OPERATOR_ROLE),
  };
  return (args) => {
    const r = spawnSync(process.execPath, [...build.command, ...args], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (r.status !== 0) throw new Error(`sidekey ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  };
}

export interface Daemon {
  readonly child: Child;
  readonly pid: number;
  readonly url: string;
  readonly grpcSocket: string;
  readonly dataDir: string;
  /** Milliseconds from spawn to the first 200 of /readyz. */
  readonly readyMs: number;
  /** performance.now() of the spawn. */
  readonly spawnedAt: number;
  /** SIGTERM, wait (SIGKILL after a grace period); true when it exited by itself with status 0. */
  stop(): Promise<boolean>;
}

export interface DaemonOptions {
  readonly build: Build;
  readonly pg: TestPostgres;
  readonly provisioned: Provisioned;
  readonly scratch: string;
  readonly nodeFlags?: readonly string[];
  /** The Node.js binary (default: the one running the benchmark), e.g. Node 24 for the footprint rows. */
  readonly node?: string;
  readonly env?: Record<string, string>;
  readonly readyTimeoutMs?: number;
}

/** Spawns `sidekey serve` with a fresh data directory and waits for /readyz (polled every 10 ms). */
export async function startDaemon(o: DaemonOptions): Promise<Daemon> {
  const dataDir = mkdtempSync(join(o.scratch, 'sidecar-'));
  copyFileSync(join(o.provisioned.opsDir, 'kek.key'), join(dataDir, 'kek.key'));
  const port = await freePort();
  const grpcSocket = join(dataDir, 'sidekey.sock');
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  // Audit events and logs go to /dev/null: their serialization is measured, a log pipeline is not.
  const child = spawnChild(
    'sidekey',
    o.node ?? process.execPath,
    [...o.build.nodeFlags, ...(o.nodeFlags ?? []), ...o.build.command, 'serve'],
    {
      env: {
        ...baseEnv(),
        ...postgresEnv(o.pg, SIDECAR_ROLE),
        SIDEKEY_DATA_DIR: dataDir,
        SIDEKEY_HTTP_PORT: String(port),
        SIDEKEY_GRPC_SOCKET: grpcSocket,
        SIDEKEY_LOG_LEVEL: 'warn',
        NODE_OPTIONS: PRODUCTION_NODE_OPTIONS,
        ...o.env,
      },
      stdout: 'ignore',
    },
  );
  const deadline = started + (o.readyTimeoutMs ?? 30_000);
  let readyMs: number | undefined;
  while (readyMs === undefined) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) {
      throw new Error(`sidekey exited during start: ${child.stderr().slice(-2000)}`);
    }
    if (performance.now() > deadline) {
      await child.stop('SIGKILL');
      throw new Error(`sidekey was not ready within ${o.readyTimeoutMs ?? 30_000} ms: ${child.stderr()}`);
    }
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) readyMs = performance.now() - started;
    } catch {
      // not listening yet
    }
    if (readyMs === undefined) await new Promise((r) => setTimeout(r, 10));
  }
  return {
    child,
    pid: child.pid,
    url,
    grpcSocket,
    dataDir,
    readyMs,
    spawnedAt: started,
    async stop() {
      await child.stop('SIGTERM', 15_000);
      const { code, signal } = await child.exited;
      rmSync(dataDir, { recursive: true, force: true });
      return code === 0 && signal === null;
    },
  };
}

/** POST a JSON body to the daemon; returns status and parsed body. */
export async function post(
  url: string,
  path: string,
  ork: string,
  body: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-sidekey-org-key': ork },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed };
}
