/**
 * `npm run soak -- --minutes N [--workers W] [--write-doc]`: the soak of issue 18.
 *
 * One compiled `sidekey serve` process (production NODE_OPTIONS) on the
 * harness PostgreSQL (TLS, client certificates), provisioned through the real
 * CLI, under a mixed closed-loop load of every operation on both transports
 * (bench/soak/load.ts). Meanwhile, on a schedule: `sidekey rotate tek`, an
 * ORK issued, used, revoked and checked to be refused, and a PostgreSQL
 * restart. Every minute it records RSS, V8 heap, open fds, event-loop delay
 * (the daemon's /metrics) and the p99 of each transport, and at the end
 * judges growth against the bounds of bench/soak/verdict.ts: exit status 1
 * when a bound is broken. Writes bench/results/soak-<stamp>.json and, with
 * --write-doc, the table into docs/reliability.md.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { sidekeyClient } from '../test/grpc/support.js';
import { findPostgresBin, OPERATOR_ROLE, postgresEnv, startPostgres } from '../test/support/postgres.js';
import { removeOnExit } from './lib/children.js';
import { machineInfo } from './lib/measure.js';
import { loadAverage } from './lib/procfs.js';
import { buildSidekey, provision, startDaemon } from './lib/sidekey.js';
import { invoke, runLoad, type Target } from './soak/load.js';
import { type Minute, procfs, scrape, Window } from './soak/sample.js';
import { boundsText, judge, markdownTable } from './soak/verdict.js';

const REPO = join(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    workers: { type: 'string', default: '6' },
    'write-doc': { type: 'boolean', default: false },
  },
});
const minutes = Number(args.minutes);
const workers = Number(args.workers);
if (!Number.isInteger(minutes) || minutes < 1 || !Number.isInteger(workers) || workers < 1) {
  console.error('usage: npm run soak -- --minutes N [--workers W] [--write-doc]');
  process.exit(2);
}
const log = (line: string) => process.stderr.write(`soak ${new Date().toISOString()}: ${line}\n`);

// Periods in minutes; short runs still see each event at least once.
const every = {
  rotateTek: Math.min(5, minutes / 3),
  revokeOrk: Math.min(6, minutes / 2.5),
  restartPostgres: Math.min(10, minutes / 2),
};

const loadAtStart = loadAverage();
const scratch = mkdtempSync(join(tmpdir(), 'sidekey-soak-'));
removeOnExit(scratch);
const pg = await startPostgres();
// Taken now: the build is of the working tree as it is at the start.
const pgVersion = execFileSync(join(findPostgresBin(), 'postgres'), ['--version'], {
  encoding: 'utf8',
}).trim();
const machine = machineInfo(REPO, pgVersion, loadAtStart);
const commit = `${machine.commit}${machine.dirtyTree ? ' (with uncommitted changes)' : ''}`;
const build = buildSidekey(REPO, 'compiled');
const tenant = 'soak';
const provisioned = provision(build, pg, tenant, scratch);
const daemon = await startDaemon({ build, pg, provisioned, scratch });
log(`daemon pid ${daemon.pid} ready in ${daemon.readyMs.toFixed(0)} ms; ${minutes} min, ${workers} workers`);

const opsEnv = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/tmp',
  SIDEKEY_DATA_DIR: provisioned.opsDir,
  SIDEKEY_LOG_LEVEL: 'error',
  ...postgresEnv(pg, OPERATOR_ROLE),
};
const clis = new Set<ReturnType<typeof spawn>>();
process.once('exit', () => {
  for (const p of clis) p.kill('SIGKILL');
});
/** The real CLI as the operator, without blocking the load (spawnSync would). */
function cli(cliArgs: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [...build.command, ...cliArgs], { env: opsEnv });
    clis.add(p);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => {
      stdout += c;
    });
    p.stderr.on('data', (c: Buffer) => {
      stderr += c;
    });
    p.on('exit', (code) => {
      clis.delete(p);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `pg_ctl restart` without blocking the load (the harness's restart() is synchronous). */
function restartPostgres(): Promise<number | null> {
  const pgCtl = join(findPostgresBin(), 'pg_ctl');
  const argv = ['-D', pg.dataDir, '-l', join(dirname(pg.dataDir), 'postgres.log'), '-m', 'fast', '-w'];
  const [exe, full] =
    process.getuid?.() === 0
      ? ['runuser', ['-u', 'postgres', '--', pgCtl, ...argv, 'restart']]
      : [pgCtl, [...argv, 'restart']];
  return new Promise((resolve) => spawn(exe, full, { stdio: 'ignore' }).on('exit', resolve));
}

const target: Target = {
  url: daemon.url,
  grpc: sidekeyClient(daemon.grpcSocket),
  tenant,
  ork: provisioned.ork,
};
let window = new Window();
const note = (e: string) => {
  window.events.push(e);
  log(e);
};
const revocationsMs: number[] = [];
const startedAt = Date.now();
const endAt = startedAt + minutes * 60_000;
const running = () => Date.now() < endAt && daemon.child.proc.exitCode === null;

async function rotateTek(): Promise<void> {
  // The fleet wait is the TEK cache TTL (5 min) by default; the one sidecar here hears the NOTIFY.
  const r = await cli(['rotate', 'tek', '--tenant', tenant, '--propagation-seconds', '10']);
  note(r.code === 0 ? 'rotate tek' : `rotate tek FAILED: ${r.stderr.trim()}`);
}

async function revokeOrkCycle(): Promise<void> {
  const issued = await cli(['ork', 'issue', '--tenant', tenant, '--label', 'soak-victim']);
  const orkId = /issued ORK ([0-9a-f]{32})/.exec(issued.stderr)?.[1];
  const ork = issued.stdout.trim();
  if (issued.code !== 0 || orkId === undefined) return note(`ork issue FAILED: ${issued.stderr.trim()}`);
  const before = await invoke(target, 'http', 'Tokenize', { tenant, field: 'email', values: ['v'] }, ork);
  const revoke = await cli(['ork', 'revoke', '--tenant', tenant, orkId]);
  if (revoke.code !== 0) return note(`ork revoke FAILED: ${revoke.stderr.trim()}`);
  const revokedAt = Date.now();
  for (;;) {
    const r = await invoke(
      target,
      Math.random() < 0.5 ? 'http' : 'grpc',
      'Tokenize',
      {
        tenant,
        field: 'email',
        values: ['v'],
      },
      ork,
    );
    if (r.outcome.code === 'UNAUTHENTICATED') break;
    if (Date.now() - revokedAt > 60_000) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  const ms = Date.now() - revokedAt;
  revocationsMs.push(ms);
  note(`ork revoked (used: ${before.outcome.code}; refused after ${ms} ms)`);
}

async function restartCycle(): Promise<void> {
  note('postgres restart');
  const code = await restartPostgres();
  if (code !== 0) note(`postgres restart FAILED (pg_ctl ${code})`);
}

/** Runs `task` every `periodMin` minutes, first at half a period. */
async function periodically(periodMin: number, task: () => Promise<void>): Promise<void> {
  let next = startedAt + (periodMin * 60_000) / 2;
  while (running()) {
    const wait = next - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, Math.min(wait, 1_000)));
    else {
      await task();
      next += periodMin * 60_000;
    }
  }
}

const table: Minute[] = [];
async function sampler(): Promise<void> {
  await scrape(daemon.url); // resets the event-loop histogram: minute 1 measures minute 1
  for (let m = 1; m <= minutes; m++) {
    const at = startedAt + m * 60_000;
    while (Date.now() < at && daemon.child.proc.exitCode === null) {
      await new Promise((r) => setTimeout(r, Math.min(1_000, at - Date.now())));
    }
    if (daemon.child.proc.exitCode !== null) {
      note(`daemon EXITED (${daemon.child.proc.exitCode}): ${daemon.child.stderr().slice(-500)}`);
      return;
    }
    const gauges = await scrape(daemon.url);
    const closed = window.close(m, gauges, procfs(daemon.pid));
    window = new Window();
    table.push(closed);
    log(
      `minute ${m}: ${closed.ops} ops, p99 http ${closed.httpP99Ms.toFixed(1)} / grpc ${closed.grpcP99Ms.toFixed(1)} ms, ` +
        `RSS ${gauges.rssMiB.toFixed(1)} MiB, heap ${gauges.heapUsedMiB.toFixed(1)} MiB, fds ${gauges.openFds}, ` +
        `loop p99 ${gauges.eventLoopP99Ms.toFixed(1)} ms, load ${loadAverage().join(' ')}, non-OK ${JSON.stringify(closed.codes)}`,
    );
  }
}

const record = (o: Parameters<Window['record']>[0]) => window.record(o);
await Promise.all([
  runLoad(target, { workers, record, running }),
  periodically(every.rotateTek, rotateTek),
  periodically(every.revokeOrk, revokeOrkCycle),
  periodically(every.restartPostgres, restartCycle),
  sampler(),
]);
target.grpc.close();
const cleanExit = await daemon.stop();
await pg.destroy();
build.remove();

const verdict = judge(table, revocationsMs);
if (table.length < minutes) verdict.failures.push(`only ${table.length} of ${minutes} minutes recorded`);
if (!cleanExit) verdict.failures.push('the daemon did not exit cleanly on SIGTERM');
const passed = verdict.failures.length === 0;
const stamp = new Date(startedAt)
  .toISOString()
  .replace(/[:.]/g, '-')
  .replace(/-\d{3}Z$/, 'Z');
const results = join(REPO, 'bench', 'results');
mkdirSync(results, { recursive: true });
const file = join(results, `soak-${stamp}.json`);
writeFileSync(
  file,
  `${JSON.stringify({ startedAt: new Date(startedAt).toISOString(), commit, minutes, workers, every, machine, table, revocationsMs, verdict: { ...verdict, passed } }, null, 2)}\n`,
);
const report = [
  `Run ${new Date(startedAt).toISOString()} at ${commit}, ${minutes} min, ${workers} workers; rotate tek every ${every.rotateTek} min, ORK revocation every ${every.revokeOrk} min, PostgreSQL restart every ${every.restartPostgres} min.`,
  '',
  markdownTable(table),
  '',
  `ORK revocations refused after: ${revocationsMs.map((ms) => `${ms} ms`).join(', ') || 'none'}.`,
  '',
  `Bounds: ${boundsText()}`,
  '',
  `Verdict: **${passed ? 'passed' : 'FAILED'}**${passed ? '' : ` — ${verdict.failures.join('; ')}`}. Baseline ${JSON.stringify(verdict.baseline)}; final ${JSON.stringify(verdict.final)}.`,
].join('\n');
process.stdout.write(`${report}\n\n(${file})\n`);
if (args['write-doc']) {
  const doc = join(REPO, 'docs', 'reliability.md');
  const text = readFileSync(doc, 'utf8');
  const begin = '<!-- soak:begin -->';
  const end = '<!-- soak:end -->';
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${doc} has no ${begin} … ${end} section`);
  writeFileSync(doc, `${text.slice(0, from + begin.length)}\n${report}\n${text.slice(to)}`);
  log(`table written to ${doc}`);
}
process.exit(passed ? 0 : 1);
