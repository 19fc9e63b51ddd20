/**
 * `node --import tsx bench/variants.ts --op <op> --variants '<v1>;<v2>;…'
 *   [--rate R | --closed C] [--rounds K] [--seconds N] [--floor] [--node <bin>]`
 *
 * One operation against several settings of the same sidekey build, in
 * interleaved rounds on one PostgreSQL (TLS, client certificates), a fresh
 * daemon per variant and round, so every variant sees the same machine load
 * and the same database growth. `--compare` (bench/compare.ts) compares two
 * builds; this compares settings of one: environment variables and node
 * flags. Not a test: nothing here fails a build.
 *
 * - `--op`: `detokenize` (1 token, hot: the record in the sidecar's cache),
 *   `tokenize` (1 value), `tokenize100` (100 values), `encrypt` (1 value).
 * - `--variants`: `;`-separated; each variant is `,`-separated `KEY=VALUE`
 *   environment settings for the daemon, plus `flags=<node flags>`
 *   (space-separated, after the image's own, so a later flag wins);
 *   `default` is the daemon as the image runs it. Example:
 *   `default;SIDEKEY_AUDIT_DURABILITY=store;flags=--max-semi-space-size=3`.
 * - `--rate R`: paced open loop, R requests/s over 64 connections, latency
 *   from each request's due time (default 1000). `--closed C`: closed loop
 *   over C connections (saturation at that concurrency).
 * - `--floor`: a bare hono + AES-GCM server at the same load, first in each
 *   round (bench/floors/hono.ts).
 *
 * Prints the median per variant (requests/s, sidekey and PostgreSQL mCPU,
 * p50/p99, RSS after the window) with every round's CPU, and writes
 * bench/results/variants-<stamp>.json.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startPostgres } from '../test/support/postgres.js';
import { removeOnExit, spawnTs } from './lib/children.js';
import { measureWindow, median, type Window } from './lib/measure.js';
import { loadAverage, memoryKiB, postgresProcesses } from './lib/procfs.js';
import { buildSidekey, post, provision, startDaemon } from './lib/sidekey.js';

const REPO = join(import.meta.dirname, '..');
const OPS = ['detokenize', 'tokenize', 'tokenize100', 'encrypt'] as const;
type Op = (typeof OPS)[number];
const { values: args } = parseArgs({
  options: {
    op: { type: 'string', default: 'detokenize' },
    variants: { type: 'string', default: 'default' },
    rate: { type: 'string' },
    closed: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '8' },
    floor: { type: 'boolean', default: false },
    node: { type: 'string' },
  },
});
const op = args.op as Op;
if (!OPS.includes(op)) throw new Error(`--op must be one of ${OPS.join(', ')}`);
if (args.rate !== undefined && args.closed !== undefined)
  throw new Error('--rate and --closed exclude each other');
const closed = args.closed === undefined ? undefined : Number(args.closed);
const rate = Number(args.rate ?? 1000);
const rounds = Number(args.rounds);
const seconds = Number(args.seconds);

interface Variant {
  readonly name: string;
  readonly env: Record<string, string>;
  readonly flags: readonly string[];
}
const variants: Variant[] = args.variants.split(';').map((name) => {
  const env: Record<string, string> = {};
  let flags: string[] = [];
  for (const kv of name === 'default' ? [] : name.split(',')) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new Error(`variant "${name}": "${kv}" is not KEY=VALUE`);
    if (kv.slice(0, i) === 'flags') flags = kv.slice(i + 1).split(' ');
    else env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return { name, env, flags };
});

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const loadAtStart = loadAverage();
log(`load average at start: ${loadAtStart.join(' ')}`);
const build = buildSidekey(REPO, 'compiled');
const pg = await startPostgres();
const scratch = mkdtempSync(join(tmpdir(), 'sidekey-bench-variants-'));
removeOnExit(scratch);
const ctx = { repo: REPO, scratch, pgPids: postgresProcesses(pg.dataDir) };

const load = (url: string, path: string, headers: Record<string, string>, bodies: string[]) =>
  closed === undefined
    ? ([
        'bench/load/http-paced.ts',
        { url, path, headers, bodies, rate, connections: 64, warmupSeconds: 1, seconds },
      ] as const)
    : ([
        'bench/load/http.ts',
        { url, path, headers, bodies, connections: closed, warmupSeconds: 1, seconds },
      ] as const);

interface Row {
  readonly variant: string;
  readonly round: number;
  readonly rps: number;
  readonly mCpu: number;
  readonly pgMCpu: number;
  readonly p50: number;
  readonly p99: number;
  readonly rssMiB: number;
  readonly errors: number;
}
const rows: Row[] = [];
function record(variant: string, round: number, w: Window, pid: number): void {
  const r = w.result;
  const row: Row = {
    variant,
    round,
    rps: r.ok / r.seconds,
    mCpu: ((w.serverCpu ?? 0) / r.seconds) * 1000,
    pgMCpu: (w.pgCpu / r.seconds) * 1000,
    p50: r.latencyMs.p50,
    p99: r.latencyMs.p99,
    rssMiB: (memoryKiB(pid)?.rss ?? 0) / 1024,
    errors: r.errors,
  };
  rows.push(row);
  log(JSON.stringify(row));
}

try {
  const provisioned = provision(build, pg, 'bench', scratch);
  const hot = Array.from({ length: 100 }, (_, i) => `hot-${i}@example.com`);
  const floorBody = JSON.stringify({ tenant: 'bench', field: 'email', values: ['alice@example.com'] });
  for (let round = 0; round < rounds; round++) {
    if (args.floor) {
      const server = spawnTs('hono-floor', REPO, 'bench/floors/hono.ts', [], args.node ?? process.execPath);
      try {
        const { port } = await server.message<{ port: number }>('ready', 30_000);
        const [script, spec] = load(`http://127.0.0.1:${port}`, '/v1/tokenize', {}, [floorBody]);
        const w = await measureWindow(ctx, `floor-${round}`, script, spec, { pid: server.pid });
        record('floor (bare hono + AES-GCM)', round, w, server.pid!);
      } finally {
        await server.stop();
      }
    }
    for (const v of variants) {
      const daemon = await startDaemon({
        build,
        pg,
        provisioned,
        scratch,
        ...(args.node !== undefined && { node: args.node }),
        nodeFlags: v.flags,
        env: { NODE_OPTIONS: '', ...v.env },
      });
      try {
        const t = await post(daemon.url, '/v1/tokenize', provisioned.ork, {
          tenant: 'bench',
          field: 'email',
          values: hot,
        });
        const tokens = (t.body as { tokens?: string[] }).tokens;
        if (t.status !== 200 || tokens === undefined)
          throw new Error(
            `variant "${v.name}": the warm-up tokenize answered ${t.status} ${JSON.stringify(t.body)}`,
          );
        // Every record read once, so the measured reveals are cache hits.
        await post(daemon.url, '/v1/detokenize', provisioned.ork, { tenant: 'bench', tokens });
        const bodies = {
          detokenize: tokens.map((tk) => JSON.stringify({ tenant: 'bench', tokens: [tk] })),
          tokenize: [JSON.stringify({ tenant: 'bench', field: 'email', values: ['alice@example.com'] })],
          tokenize100: [
            JSON.stringify({
              tenant: 'bench',
              field: 'email',
              values: Array.from({ length: 100 }, (_, i) => `user-${i}@example.com`),
            }),
          ],
          encrypt: [JSON.stringify({ tenant: 'bench', field: 'email', plaintexts: ['alice@example.com'] })],
        }[op];
        const path = `/v1/${op === 'tokenize100' ? 'tokenize' : op}`;
        const headers = { 'content-type': 'application/json', 'x-sidekey-org-key': provisioned.ork };
        const [script, spec] = load(daemon.url, path, headers, bodies);
        const w = await measureWindow(ctx, `${op}-${round}`, script, spec, {
          pid: daemon.pid,
          metricsUrl: daemon.url,
        });
        record(v.name, round, w, daemon.pid);
      } finally {
        await daemon.stop();
      }
    }
  }
} finally {
  await pg.destroy();
  build.remove();
}

const names = [...new Set(rows.map((r) => r.variant))];
const lines = [
  `${op}, ${closed === undefined ? `paced ${rate} req/s` : `closed loop, ${closed} connections`}, ${seconds} s x ${rounds} interleaved rounds; load average at start ${loadAtStart.join(' ')}`,
  '| variant | req/s | sidekey mCPU | PostgreSQL mCPU | p50 ms | p99 ms | RSS MiB | errors | mCPU per round |',
  '|---|---|---|---|---|---|---|---|---|',
];
for (const name of names) {
  const mine = rows.filter((r) => r.variant === name);
  const m = (f: (r: Row) => number) => median(mine.map(f));
  lines.push(
    `| ${name} | ${m((r) => r.rps).toFixed(0)} | ${m((r) => r.mCpu).toFixed(0)} | ${m((r) => r.pgMCpu).toFixed(0)} | ${m((r) => r.p50).toFixed(2)} | ${m((r) => r.p99).toFixed(2)} | ${m((r) => r.rssMiB).toFixed(1)} | ${mine.reduce((a, r) => a + r.errors, 0)} | ${mine.map((r) => r.mCpu.toFixed(0)).join(' ')} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
writeFileSync(
  join(REPO, 'bench', 'results', `variants-${stamp}.json`),
  `${JSON.stringify({ op, rate: closed === undefined ? rate : null, closed: closed ?? null, seconds, rounds, loadAtStart, variants, rows }, null, 2)}\n`,
);
