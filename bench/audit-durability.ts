/**
 * `node --import tsx bench/audit-durability.ts [--seconds N] [--rate R] [--rounds K]`:
 * the measurement behind ADR-17 and ADR-20. Hot detokenize (1 token, the
 * record in the sidecar's cache) at a paced rate against one sidekey build on
 * a real PostgreSQL (TLS, client certificates), with the reveal's audit event
 * made durable in the store (SIDEKEY_AUDIT_DURABILITY=store) or in the local
 * spool (=spool), synced before each answer (SIDEKEY_AUDIT_SPOOL_SYNC=each)
 * or written before it and synced every 10 ms (=interval), in interleaved
 * rounds so all see the same machine load. Prints a table and writes
 * bench/results/audit-durability-<stamp>.json. Not a test: nothing here fails a build.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from './lib/measure.js';
import { loadAverage } from './lib/procfs.js';
import { runVariants, type VariantRow } from './lib/variants.js';

const REPO = join(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rate: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
  },
});
const seconds = Number(args.seconds);
const rate = Number(args.rate);
const rounds = Number(args.rounds);
/** The durability settings compared (ADR-17, ADR-20): the store's commit, the spool synced before each answer, the spool written before the answer and synced every 10 ms. */
const modes = ['store', 'spool-each', 'spool-interval'] as const;
const MODE_ENV: Record<(typeof modes)[number], Record<string, string>> = {
  store: { SIDEKEY_AUDIT_DURABILITY: 'store' },
  'spool-each': { SIDEKEY_AUDIT_DURABILITY: 'spool', SIDEKEY_AUDIT_SPOOL_SYNC: 'each' },
  'spool-interval': { SIDEKEY_AUDIT_DURABILITY: 'spool', SIDEKEY_AUDIT_SPOOL_SYNC: 'interval' },
};

const loadAtStart = loadAverage();
process.stderr.write(`bench: load average at start: ${loadAtStart.join(' ')}\n`);
const rows: VariantRow[] = await runVariants(REPO, {
  op: 'detokenize',
  variants: modes.map((mode) => ({ name: mode, env: MODE_ENV[mode], flags: [] })),
  rate,
  rounds,
  seconds,
  warmupSeconds: 2,
});

const fmt = (n: number) => n.toFixed(2);
const lines = [
  `hot detokenize, 1 token, paced ${rate} req/s, ${seconds} s x ${rounds} interleaved rounds; load average at start ${loadAtStart.join(' ')}`,
  '| durability | p50 ms | p90 ms | p99 ms | max ms | sidekey mCPU | PostgreSQL mCPU | transactions per 1,000 reveals | errors |',
  '|---|---|---|---|---|---|---|---|---|',
];
for (const mode of modes) {
  const mine = rows.filter((r) => r.variant === mode);
  const m = (f: (r: VariantRow) => number) => median(mine.map(f));
  lines.push(
    `| ${mode} (median of ${mine.length}) | ${fmt(m((r) => r.p50))} | ${fmt(m((r) => r.p90))} | ${fmt(m((r) => r.p99))} | ${fmt(m((r) => r.max))} | ${m((r) => r.mCpu).toFixed(0)} | ${m((r) => r.pgMCpu).toFixed(0)} | ${m((r) => r.flushesPer1000).toFixed(0)} | ${mine.reduce((a, r) => a + r.errors, 0)} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
writeFileSync(
  join(REPO, 'bench', 'results', `audit-durability-${stamp}.json`),
  `${JSON.stringify({ rate, seconds, rounds, loadAtStart, rows }, null, 2)}\n`,
);
