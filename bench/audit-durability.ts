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
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startPostgres } from '../test/support/postgres.js';
import { removeOnExit } from './lib/children.js';
import { measureWindow, median, type Window } from './lib/measure.js';
import { loadAverage, postgresProcesses } from './lib/procfs.js';
import { buildSidekey, post, provision, startDaemon } from './lib/sidekey.js';

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
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

const loadAtStart = loadAverage();
log(`load average at start: ${loadAtStart.join(' ')}`);
const build = buildSidekey(REPO, 'compiled');
const pg = await startPostgres();
const scratch = mkdtempSync(join(tmpdir(), 'sidekey-bench-audit-'));
removeOnExit(scratch);
const ctx = { repo: REPO, scratch, pgPids: postgresProcesses(pg.dataDir) };

interface Row {
  readonly mode: (typeof modes)[number];
  readonly round: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mCpu: number;
  readonly pgMCpu: number;
  readonly ok: number;
  readonly errors: number;
  /** Group-commit transactions per 1,000 reveals (sidekey's /metrics). */
  readonly flushesPer1000: number;
  readonly load1: number;
}
const rows: Row[] = [];
try {
  const provisioned = provision(build, pg, 'bench', scratch);
  const values = Array.from({ length: 100 }, (_, i) => `hot-${i}@example.com`);
  for (let round = 0; round < rounds; round++) {
    for (const mode of modes) {
      const daemon = await startDaemon({
        build,
        pg,
        provisioned,
        scratch,
        env: MODE_ENV[mode],
      });
      try {
        const t = await post(daemon.url, '/v1/tokenize', provisioned.ork, {
          tenant: 'bench',
          field: 'email',
          values,
        });
        const tokens = (t.body as { tokens: string[] }).tokens;
        // Every record once, so the measured reveals are hot (record cache hits).
        await post(daemon.url, '/v1/detokenize', provisioned.ork, { tenant: 'bench', tokens });
        const w: Window = await measureWindow(
          ctx,
          `hot-detokenize-${mode}-${round}`,
          'bench/load/http-paced.ts',
          {
            url: daemon.url,
            path: '/v1/detokenize',
            headers: { 'content-type': 'application/json', 'x-sidekey-org-key': provisioned.ork },
            bodies: tokens.map((tk) => JSON.stringify({ tenant: 'bench', tokens: [tk] })),
            rate,
            connections: 64,
            warmupSeconds: 2,
            seconds,
          },
          { pid: daemon.pid, metricsUrl: daemon.url },
        );
        const r = w.result;
        const row: Row = {
          mode,
          round,
          p50: r.latencyMs.p50,
          p90: r.latencyMs.p90,
          p99: r.latencyMs.p99,
          max: r.latencyMs.max,
          mCpu: ((w.serverCpu ?? 0) / r.seconds) * 1000,
          pgMCpu: (w.pgCpu / r.seconds) * 1000,
          ok: r.ok,
          errors: r.errors,
          flushesPer1000: r.ok === 0 ? 0 : (1000 * (w.metrics?.flushes ?? 0)) / r.ok,
          load1: loadAverage()[0]!,
        };
        rows.push(row);
        log(JSON.stringify(row));
      } finally {
        await daemon.stop();
      }
    }
  }
} finally {
  await pg.destroy();
  build.remove();
}

const fmt = (n: number) => n.toFixed(2);
const lines = [
  `hot detokenize, 1 token, paced ${rate} req/s, ${seconds} s x ${rounds} interleaved rounds; load average at start ${loadAtStart.join(' ')}`,
  '| durability | p50 ms | p90 ms | p99 ms | max ms | sidekey mCPU | PostgreSQL mCPU | transactions per 1,000 reveals | errors |',
  '|---|---|---|---|---|---|---|---|---|',
];
for (const mode of modes) {
  const mine = rows.filter((r) => r.mode === mode);
  const m = (f: (r: Row) => number) => median(mine.map(f));
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
