/** The benchmark's results: their shape, the stdout table and docs/performance.md. */

import type { FootprintResults } from '../footprint.js';
import { footprintMarkdown } from './footprint-report.js';
import type { ProfileSummary } from './profile.js';

export type Profiled = ProfileSummary & { readonly cleanExit: boolean; readonly requestsPerSecond: number };

import type { Latency } from './protocol.js';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly postgres: string;
  readonly date: string;
  readonly commit: string;
  readonly dirtyTree: boolean;
  readonly loadAverageAtStart: readonly number[];
}

export interface Measurement {
  readonly id: string;
  readonly title: string;
  readonly kind: 'floor' | 'sidekey';
  /** How the load was applied (connections, rate, concurrency). */
  readonly load: string;
  readonly valuesPerRequest: number;
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly valuesPerSecond: number;
  readonly latencyMs: Latency;
  /** CPU of the measured server process (sidekey or the floor server), µs per request and per value. */
  readonly cpuUsPerRequest?: number;
  readonly cpuUsPerValue?: number;
  /** CPU of every PostgreSQL process, µs per request. */
  readonly pgCpuUsPerRequest?: number;
  /** Cores used by the server process and by the load generator during the window. */
  readonly serverCores?: number;
  readonly generatorCores: number;
  readonly pgCores?: number;
  /** Cores used by every other process on the machine (not the server, generator or PostgreSQL). */
  readonly otherCores: number;
  /** sidekey's V8 heap and external memory at the end of the window (prom-client gauges). */
  readonly heapMiB?: { readonly used: number; readonly total: number; readonly external: number };
  /** Highest VmRSS sampled (every 100 ms) during the window, MiB. */
  readonly peakRssMiB?: number;
  readonly kms?: {
    readonly wired: boolean;
    /** wrap + unwrap calls per 1,000 requests. */
    readonly keyCallsPer1000: number;
    readonly keyCalls: number;
    readonly healthCalls: number;
    readonly keyCacheMissesPer1000: number;
  };
  readonly writer?: { readonly flushes: number; readonly rowsPerFlush: number; readonly msPerFlush: number };
  readonly floor?: { readonly id: string; readonly metric: string; readonly ratio: number };
  readonly budget?: { readonly text: string; readonly pass: boolean };
  readonly details?: Record<string, unknown>;
}

export interface Budget {
  readonly name: string;
  readonly rule: string;
  readonly measured: string;
  readonly pass: boolean | undefined;
}

export interface Results {
  readonly version: 1;
  readonly mode: 'quick' | 'full';
  readonly machine: Machine;
  readonly settings: Record<string, unknown>;
  readonly cryptoFloor: readonly { name: string; opsPerSecond: number; microsPerOp: number }[];
  readonly measurements: readonly Measurement[];
  readonly startToReady: {
    readonly compiled: { readonly samplesMs: readonly number[]; readonly medianMs: number };
    readonly tsx?: { readonly samplesMs: readonly number[]; readonly medianMs: number };
  };
  readonly peakRss: { readonly sampledMiB: number; readonly vmHwmMiB: number };
  readonly kmsWired: boolean;
  readonly budgets: readonly Budget[];
  /** Of HTTP tokenize with 1 value per request… */
  readonly profile?: Profiled;
  /** …and with 100 values per request. */
  readonly profile100?: Profiled;
  /** Per-pod footprint at 1,000 req/s (issue 15, bench/footprint.ts). */
  readonly footprint?: FootprintResults;
  readonly notes: readonly string[];
}

const n0 = (v: number | undefined) => (v === undefined ? '–' : Math.round(v).toLocaleString('en-US'));
const n2 = (v: number | undefined) =>
  v === undefined ? '–' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);

interface Column {
  readonly head: string;
  readonly cell: (m: Measurement) => string;
}

const COLUMNS: Column[] = [
  { head: 'scenario', cell: (m) => m.title },
  { head: 'req/s', cell: (m) => n0(m.requestsPerSecond) },
  { head: 'errors', cell: (m) => n0(m.errors) },
  { head: 'values/s', cell: (m) => n0(m.valuesPerSecond) },
  { head: 'p50 ms', cell: (m) => n2(m.latencyMs.p50) },
  { head: 'p99 ms', cell: (m) => n2(m.latencyMs.p99) },
  { head: 'max ms', cell: (m) => n2(m.latencyMs.max) },
  { head: 'CPU µs/req', cell: (m) => n2(m.cpuUsPerRequest) },
  { head: 'CPU µs/value', cell: (m) => (m.valuesPerRequest > 1 ? n2(m.cpuUsPerValue) : '') },
  { head: 'PG CPU µs/req', cell: (m) => n2(m.pgCpuUsPerRequest) },
  {
    head: 'cores srv/gen/pg/other',
    cell: (m) => `${n2(m.serverCores)}/${n2(m.generatorCores)}/${n2(m.pgCores)}/${n2(m.otherCores)}`,
  },
  { head: 'peak RSS MiB', cell: (m) => n2(m.peakRssMiB) },
  {
    head: 'heap used/total MiB',
    cell: (m) => (m.heapMiB === undefined ? '' : `${n2(m.heapMiB.used)}/${n2(m.heapMiB.total)}`),
  },
  {
    head: 'KMS/1k',
    cell: (m) => (m.kms === undefined ? '' : m.kms.wired ? n2(m.kms.keyCallsPer1000) : 'n/a'),
  },
  { head: 'key miss/1k', cell: (m) => (m.kms === undefined ? '' : n2(m.kms.keyCacheMissesPer1000)) },
  { head: 'rows/flush', cell: (m) => (m.writer === undefined ? '' : n2(m.writer.rowsPerFlush)) },
  { head: 'ms/flush', cell: (m) => (m.writer === undefined ? '' : n2(m.writer.msPerFlush)) },
  {
    head: 'ratio to floor',
    cell: (m) => (m.floor === undefined ? '' : `${m.floor.ratio.toFixed(2)} × ${m.floor.id}`),
  },
  { head: 'budget', cell: (m) => m.budget?.text ?? '' },
  { head: 'result', cell: (m) => (m.budget === undefined ? '' : m.budget.pass ? 'PASS' : 'FAIL') },
];

export function textTable(ms: readonly Measurement[]): string {
  const rows = [COLUMNS.map((c) => c.head), ...ms.map((m) => COLUMNS.map((c) => c.cell(m)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** `numeric`: which columns are right-aligned (default: all but the first). */
function mdTable(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  numeric: (i: number) => boolean = (i) => i > 0,
): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  return [
    `| ${head.map(esc).join(' | ')} |`,
    `|${head.map((_, i) => (numeric(i) ? '--:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export function budgetsText(budgets: readonly Budget[]): string {
  const w = Math.max(...budgets.map((b) => b.name.length));
  return budgets
    .map(
      (b) =>
        `${b.pass === undefined ? 'n/a ' : b.pass ? 'PASS' : 'FAIL'}  ${b.name.padEnd(w)}  ${b.measured}  (budget: ${b.rule})`,
    )
    .join('\n');
}

export function markdown(r: Results): string {
  const m = r.machine;
  const out: string[] = [];
  out.push('# Performance');
  out.push('');
  out.push(
    '<!-- Generated by `npm run bench` (bench/run.ts) from bench/results/latest.json. Edit the generator, not this file. -->',
  );
  out.push('');
  out.push(
    `Measured ${m.date} in ${r.mode === 'quick' ? '`--quick` mode (short windows: indicative)' : 'full mode'}, on one machine, floors and sidekey in the same run, so the ratios survive a noisy machine. ` +
      'Budgets are from issue 6 (a 2-core machine, the load generator on the same machine). ' +
      'Benchmarks are not tests: nothing here is asserted by `npm test`.',
  );
  out.push('');
  out.push('## Machine');
  out.push('');
  out.push(
    mdTable(
      ['', ''],
      [
        ['CPU', m.cpu],
        ['cores', String(m.cores)],
        ['memory', `${m.memoryGiB.toFixed(1)} GiB`],
        ['kernel', m.kernel],
        ['Node.js', m.node],
        ['PostgreSQL', m.postgres],
        ['load average at start', m.loadAverageAtStart.join(' ')],
        ['sidekey', `${m.commit}${m.dirtyTree ? ' (with uncommitted changes)' : ''}`],
        [
          'settings',
          Object.entries(r.settings)
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(', '),
        ],
      ],
      () => false,
    ),
  );
  out.push('');
  out.push('## Budgets');
  out.push('');
  out.push(
    mdTable(
      ['budget', 'rule', 'measured', 'result'],
      r.budgets.map((b) => [
        b.name,
        b.rule,
        b.measured,
        b.pass === undefined ? 'n/a' : b.pass ? 'PASS' : 'FAIL',
      ]),
      () => false,
    ),
  );
  out.push('');
  out.push('## Scenarios');
  out.push('');
  out.push(
    'Throughput is over the measured window (after a warm-up). Latency: successful requests, as seen by the load generator. ' +
      '**CPU µs/req** is the user+system time of the server process (sidekey or the floor server, all threads, from /proc) divided by the requests served; ' +
      '**PG CPU** the same for every PostgreSQL process; **cores srv/gen/pg/other** the cores used by the server, the load generator, PostgreSQL and every other process on the machine (other work skews a run: compare ratios, not absolutes). ' +
      '**peak RSS**: highest VmRSS of the server sampled every 100 ms; **heap**: V8 heap used/total at the end of the window. ' +
      '**KMS/1k**: KMS wrap+unwrap calls per 1,000 requests (`sidekey_kms_calls_total`); **key miss/1k**: key-cache misses per 1,000 requests; **rows/flush** and **ms/flush**: token and audit rows per group commit and its mean duration (flushes run one at a time).',
  );
  out.push('');
  out.push(
    mdTable(
      COLUMNS.map((c) => c.head),
      r.measurements.map((x) => COLUMNS.map((c) => c.cell(x))),
      (i) => i > 0 && i < COLUMNS.length - 3,
    ),
  );
  out.push('');
  for (const x of r.measurements) out.push(`- **${x.title}**: ${x.load}.`);
  out.push('');
  out.push('## In-process crypto floor (one core)');
  out.push('');
  out.push(
    mdTable(
      ['operation', 'ops/s', 'µs/op'],
      r.cryptoFloor.map((c) => [c.name, n0(c.opsPerSecond), c.microsPerOp.toFixed(2)]),
    ),
  );
  out.push('');
  out.push('## Start to ready');
  out.push('');
  const s = r.startToReady;
  out.push(
    `From spawning \`sidekey serve\` (local KMS, PostgreSQL reachable) to the first 200 of \`/readyz\`, polled every 10 ms: ` +
      `compiled (as the image runs it) median **${s.compiled.medianMs.toFixed(0)} ms** (${s.compiled.samplesMs.map((v) => v.toFixed(0)).join(', ')})` +
      (s.tsx === undefined
        ? '.'
        : `; from the sources through tsx (\`bin/sidekey.js\` in a checkout) median ${s.tsx.medianMs.toFixed(0)} ms (${s.tsx.samplesMs.map((v) => v.toFixed(0)).join(', ')}).`),
  );
  out.push('');
  out.push(
    `Peak RSS of sidekey under load: ${r.peakRss.sampledMiB.toFixed(1)} MiB sampled during the windows; VmHWM (since process start) ${r.peakRss.vmHwmMiB.toFixed(1)} MiB.`,
  );
  out.push('');
  if (r.profile !== undefined) out.push(...profileSection(r.profile, 1));
  if (r.profile100 !== undefined) out.push(...profileSection(r.profile100, 100));
  if (r.footprint !== undefined) {
    out.push(
      footprintMarkdown(
        r.footprint,
        m.date,
        `${m.commit}${m.dirtyTree ? ' (with uncommitted changes)' : ''}`,
      ),
      '',
    );
  }
  if (r.notes.length > 0) {
    out.push('## Notes');
    out.push('');
    for (const n of r.notes) out.push(`- ${n}`);
    out.push('');
  }
  out.push('## Method');
  out.push('');
  out.push(
    [
      '- One PostgreSQL 15 from the test harness (`test/support/postgres.ts`): TLS on, logins by client certificate only, fsync on. ',
      '  The schema, tenant and ORK are made by the real CLI (`sidekey migrate`, `tenant create`, `ork issue`) with the operator certificate; ',
      "  each daemon is a separate `sidekey serve` process with `SIDEKEY_STORE=postgres`, the sidecar certificate and the local KMS (a copy of the operator's `kek.key`), ",
      '  compiled with `tsc` as the container image runs it. Its stdout (operational log and the audit stream) goes to /dev/null.',
      '- Load generators are separate processes: autocannon (programmatic API, keep-alive, 1 request in flight per connection) for HTTP, ',
      '  a @grpc/grpc-js client (one channel, N calls in flight, request serialized once) for gRPC. Each warms up, then the orchestrator samples ',
      '  /proc and `/metrics`, then the measured window runs.',
      '- Floors, in the same run: a bare hono server on @hono/node-server doing one AES-256-GCM per request (`bench/floors/hono.ts`); ',
      '  a bare grpc-js server on a unix socket answering Tokenize with its input (`bench/floors/grpc.ts`); ',
      '  PostgreSQL 100-row inserts over the same mTLS pool, statement shape and concurrency as the HTTP 100-value scenario (`bench/floors/pg-insert.ts`; ',
      '  token rows only, where sidekey also writes its audit rows in the same transaction); in-process crypto (`bench/floors/crypto.ts`).',
      '- Detokenize hot: 100 tokens, each read over and over (record cache hits). Detokenize cold: tokens minted before a restart of the daemon, ',
      '  each read exactly once afterwards (every lookup goes to PostgreSQL); one warm-up request after the restart loads the keys, so "cold" means ',
      '  cold records, warm keys. Reveals wait for their audit event to be durable (`SIDEKEY_AUDIT_DURABLE_REVEAL`, default on).',
      '- Fixed rate: `bench/load/http-paced.ts`, a true open loop: request i is due at start + i/rate, sent over a keep-alive agent, and its latency ',
      "  is measured from its due time (coordinated-omission correct). Not autocannon's `overallRate`: that resets a per-connection quota every second, ",
      '  so each second starts with a burst of the whole quota and the latency measured is the time to drain the burst. The bare hono floor is ',
      '  measured at the same pace, for the latency of the loopback and the generator themselves.',
      '- The CPU profiles (tokenize with 1 and with 100 values) come from two more daemon runs with `node --cpu-prof`, each stopped with SIGTERM so the profile is written.',
      "- Every daemon runs with the node flags of the image (the Dockerfile's ENTRYPOINT, `imageNodeFlags` in bench/lib/sidekey.ts); the rows above also with the `NODE_OPTIONS` of an injected sidecar (its heap limit), the footprint rows without it (issue 15: the memory V8 takes by itself).",
    ].join('\n'),
  );
  out.push('');
  out.push(
    'Where the budgets are missed, why (with the profile), what has been done and what is next: ' +
      '[performance-gaps.md](performance-gaps.md) (written by hand; dated).',
  );
  out.push('');
  out.push('## Reproduce');
  out.push('');
  out.push('```sh');
  out.push('npm run bench -- --quick   # under two minutes: short windows, indicative numbers');
  out.push('npm run bench              # longer windows (about five minutes)');
  out.push('npm run bench -- --compare HEAD~1 --quick --only tokenize-1,detokenize   # before/after');
  out.push(
    'npm run bench -- --footprint --quick   # only the per-pod footprint at 1,000 req/s, Node 20 and 24',
  );
  out.push(
    'npm run bench -- --compare HEAD~1 --quick --no-heap-flags --only detokenize-hot-1000,tokenize-1000   # footprint before/after',
  );
  out.push('```');
  out.push('');
  out.push(
    'Needs PostgreSQL binaries under /usr/lib/postgresql/<version>/bin (`.ci/postgres-install.sh`). Results: `bench/results/<timestamp>.json` and ' +
      '`bench/results/latest.json`; the profile `bench/results/*.cpuprofile` (open it in Chrome DevTools or speedscope). ' +
      'Options: `--no-profile`, `--no-tsx-start` (skip the start-time samples from the sources), `--seconds N`, `--warmup N`.',
  );
  out.push('');
  out.push(
    'To land an optimisation with numbers, `--compare <git-ref>` measures sidekey at `<git-ref>` (before: `git archive` into a temporary directory, ' +
      'compiled the same way; `npm ci` of its own only when package-lock.json differs) against the working tree, uncommitted changes included (after), in one run: ' +
      'one PostgreSQL, one daemon per side with its own tenant and ORK and the same settings, every scenario in short interleaved rounds ' +
      '(B A A B …, `--rounds N`, default 8, 4 with `--quick`) so noise on the machine lands on both sides. `--only a,b` picks scenarios by substring of their id ' +
      '(`tokenize-1` does not pick `tokenize-100`). It prints a table for the commit message and writes `bench/results/compare-<timestamp>.json`; ' +
      'it runs no floors and leaves this page alone.',
  );
  out.push('');
  out.push(
    'To compare settings of one build (environment variables, node flags, a runtime), ' +
      "`node --import tsx bench/variants.ts --op detokenize|tokenize|tokenize100|encrypt --variants 'default;KEY=VALUE;flags=--a-node-flag' " +
      '[--rate R | --closed C] [--rounds K] [--seconds N] [--floor] [--node <bin>]` runs one operation paced (or closed-loop) against a fresh daemon per ' +
      'variant and round, interleaved on one PostgreSQL, and prints req/s, sidekey and PostgreSQL mCPU, p50/p99 and RSS per variant ' +
      '(`bench/results/variants-<timestamp>.json`).',
  );
  out.push('');
  return out.join('\n');
}

function profileSection(p: Profiled, values: number): string[] {
  const out: string[] = [];
  out.push(`## CPU profile of HTTP tokenize (${values} value${values > 1 ? 's' : ''} per request)`);
  out.push('');
  out.push(
    `\`node --cpu-prof\` of a separate sidekey process under the tokenize-${values} load (${n0(p.requestsPerSecond)} req/s while profiled; ` +
      `measured window only: ${p.busyMs} ms busy of ${p.totalMs} ms, ${p.samples} samples; profile \`${p.file.replace(/^.*\/bench\//, 'bench/')}\`, not committed; ` +
      `clean exit on SIGTERM: ${p.cleanExit ? 'yes' : 'NO'}). Percentages are of busy (non-idle) time.`,
  );
  out.push('');
  const tables: [string, string, readonly { name: string; ms: number; percent: number }[]][] = [
    ['Top self time, by function:', 'self ms', p.topSelf],
    ['Self time by file or package:', 'self ms', p.topSelfByFile],
    [
      "Inclusive time of sidekey's own functions (lines are of the compiled JavaScript):",
      'inclusive ms',
      p.topInclusiveSidekey,
    ],
  ];
  for (const [title, msHead, entries] of tables) {
    out.push(title, '');
    out.push(
      mdTable(
        [title.startsWith('Self time by file') ? 'file or package' : 'function', msHead, '%'],
        entries.map((e) => [e.name, e.ms.toFixed(1), e.percent.toFixed(1)]),
      ),
      '',
    );
  }
  return out;
}
