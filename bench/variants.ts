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
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from './lib/measure.js';
import { loadAverage } from './lib/procfs.js';
import { OPS, type Op, runVariants, type Variant, type VariantRow } from './lib/variants.js';

const REPO = join(import.meta.dirname, '..');
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

/** As the image runs it: no NODE_OPTIONS (its flags are on the command line). */
const variants: Variant[] = args.variants.split(';').map((name) => {
  const env: Record<string, string> = { NODE_OPTIONS: '' };
  let flags: string[] = [];
  for (const kv of name === 'default' ? [] : name.split(',')) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new Error(`variant "${name}": "${kv}" is not KEY=VALUE`);
    if (kv.slice(0, i) === 'flags') flags = kv.slice(i + 1).split(' ');
    else env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return { name, env, flags };
});

/** The runtime the daemons ran on, recorded with the results (`--node` or this one). */
const nodeVersion = execFileSync(args.node ?? process.execPath, ['--version'], { encoding: 'utf8' }).trim();
const loadAtStart = loadAverage();
process.stderr.write(`bench: load average at start: ${loadAtStart.join(' ')}\n`);
const rows = await runVariants(REPO, {
  op,
  variants,
  rate,
  ...(closed !== undefined && { closed }),
  rounds,
  seconds,
  warmupSeconds: 1,
  floor: args.floor,
  ...(args.node !== undefined && { node: args.node }),
});

const names = [...new Set(rows.map((r) => r.variant))];
const lines = [
  `${op}, ${closed === undefined ? `paced ${rate} req/s` : `closed loop, ${closed} connections`}, ${seconds} s x ${rounds} interleaved rounds, Node.js ${nodeVersion}; load average at start ${loadAtStart.join(' ')}`,
  '| variant | req/s | sidekey mCPU | PostgreSQL mCPU | p50 ms | p99 ms | RSS MiB | errors | mCPU per round |',
  '|---|---|---|---|---|---|---|---|---|',
];
for (const name of names) {
  const mine = rows.filter((r) => r.variant === name);
  const m = (f: (r: VariantRow) => number) => median(mine.map(f));
  lines.push(
    `| ${name} | ${m((r) => r.rps).toFixed(0)} | ${m((r) => r.mCpu).toFixed(0)} | ${m((r) => r.pgMCpu).toFixed(0)} | ${m((r) => r.p50).toFixed(2)} | ${m((r) => r.p99).toFixed(2)} | ${m((r) => r.rssMiB).toFixed(1)} | ${mine.reduce((a, r) => a + r.errors, 0)} | ${mine.map((r) => r.mCpu.toFixed(0)).join(' ')} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
writeFileSync(
  join(REPO, 'bench', 'results', `variants-${stamp}.json`),
  `${JSON.stringify({ op, node: nodeVersion, rate: closed === undefined ? rate : null, closed: closed ?? null, seconds, rounds, loadAtStart, variants, rows }, null, 2)}\n`,
);
