/**
 * `npm run bench -- --compare <git-ref> [--quick] [--only a,b] [--rounds N] [--after <git-ref>]`:
 * before/after numbers for one optimisation, measured side by side in one run.
 *
 * "before" is sidekey as committed at <git-ref> (git archive into a temporary
 * directory, compiled with tsc like the working tree); "after" is the working
 * tree, uncommitted changes included. One PostgreSQL (the same harness as the
 * full benchmark); each build is provisioned through its own CLI with its own
 * tenant and ORK (one shared KEK), and one daemon of each runs for the whole
 * comparison with the same settings. Every selected scenario then runs in
 * short interleaved rounds, before and after alternating in the Thue–Morse
 * order (B A A B A B B A …), each round its own warm-up and window, so drift
 * and noise on the machine land on both sides alike.
 *
 * Prints a plain-text table (≤ 100 columns, for a commit message) and writes
 * bench/results/compare-<stamp>.json; docs/performance.md and latest.json are
 * not touched. The floors (bare hono, bare grpc-js) are not run: they are the
 * same code on both sides — `npm run bench` has them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPostgresBin, startPostgres } from '../test/support/postgres.js';
import { removeOnExit } from './lib/children.js';
import { type MeasureContext, machineInfo, measureWindow, median, toMeasurement } from './lib/measure.js';
import { loadAverage, memoryKiB, postgresProcesses } from './lib/procfs.js';
import type { Machine, Measurement } from './lib/report.js';
import {
  type Build,
  buildSidekey,
  buildSidekeyAt,
  type Daemon,
  type Provisioned,
  post,
  provision,
  type RefBuild,
  startDaemon,
} from './lib/sidekey.js';

export interface CompareOptions {
  readonly repo: string;
  readonly ref: string;
  /** The "after" side at a git ref too (an A/A check of the harness: the same ref twice); default: the working tree. */
  readonly after?: string;
  readonly quick: boolean;
  /** Comma-separated substrings of scenario ids. */
  readonly only?: string;
  readonly seconds?: string;
  readonly warmup?: string;
  readonly rounds?: string;
  /** Run both daemons without the production NODE_OPTIONS (heap flags), as the footprint rows do (issue 15). */
  readonly noHeapFlags?: boolean;
}

type SideName = 'before' | 'after';

interface Side {
  readonly name: SideName;
  readonly build: Build;
  readonly provisioned: Provisioned;
  readonly daemon: Daemon;
  /** 100 tokens minted by this side's daemon, for detokenize-hot. */
  readonly hot: readonly string[];
}

interface Scenario {
  /** The same ids as the full benchmark's measurements. */
  readonly id: string;
  readonly title: string;
  /** For the table (≤ 18 characters). */
  readonly short: string;
  readonly valuesPerRequest: number;
  readonly load: string;
  readonly script:
    | 'bench/load/http.ts'
    | 'bench/load/http-paced.ts'
    | 'bench/load/grpc.ts'
    | 'bench/load/grpc-paced.ts';
  /** Open loop: compared on latency (and its spread), not throughput. */
  readonly fixedRate?: boolean;
  spec(side: Side): Record<string, unknown>;
}

interface SideSummary {
  readonly rounds: number;
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  /** All the side's rounds together: requests / seconds. */
  readonly requestsPerSecond: number;
  readonly valuesPerSecond: number;
  /** Median over the side's rounds (the mean of two). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** sidekey CPU (all threads) over every round / requests. */
  readonly cpuUsPerRequest: number | undefined;
  readonly pgCpuUsPerRequest: number | undefined;
  /** Highest VmRSS sampled in any round. */
  readonly peakRssMiB: number | undefined;
  readonly roundRequestsPerSecond: readonly number[];
  readonly roundP99Ms: readonly number[];
  /** (max − min) / mean of the rounds, %: of req/s (closed loop) or of p99 (fixed rate). */
  readonly spreadPercent: number;
}

const FIELD = 'email';
/** As in bench/run.ts. */
const C1 = 32;
const C100 = 10;
const FIXED_RATE = 2000;
const FIXED_RATE_CONNECTIONS = 64;
/** The per-pod footprint rate (issue 15, bench/footprint.ts). */
const POD_RATE = 1000;
/** Same length, so both sides send bodies of the same size. */
const TENANTS: Record<SideName, string> = { before: 'bench-old', after: 'bench-new' };

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** Thue–Morse: 0 → before, 1 → after; every prefix of length 2^k is balanced for linear and quadratic drift. */
export function roundOrder(rounds: number): SideName[] {
  return Array.from({ length: rounds }, (_, i) => {
    let bits = 0;
    for (let v = i; v > 0; v >>= 1) bits += v & 1;
    return bits % 2 === 0 ? 'before' : 'after';
  });
}

/**
 * `filter` occurs in `id` (case-insensitive); a filter ending in a digit
 * must end a number there, so `tokenize-1` picks tokenize-1 and
 * tokenize-1-fixed but not tokenize-100.
 */
export function matchesFilter(id: string, filter: string): boolean {
  const f = filter.toLowerCase();
  for (let i = id.indexOf(f); i >= 0; i = id.indexOf(f, i + 1)) {
    const next = id[i + f.length];
    if (!(/\d$/.test(f) && next !== undefined && /\d/.test(next))) return true;
  }
  return false;
}

function scenarios(repo: string): Scenario[] {
  const one = ['alice.wonderland@example.com'];
  const hundred = Array.from({ length: 100 }, (_, i) => `user${String(i).padStart(4, '0')}.name@example.com`);
  const headers = (s: Side) => ({ 'x-sidekey-org-key': s.provisioned.ork });
  const http = (s: Side, path: string, bodies: string[], extra: Record<string, unknown> = {}) => ({
    url: s.daemon.url,
    path,
    headers: headers(s),
    bodies,
    connections: C1,
    ...extra,
  });
  const grpc = (s: Side, values: string[], concurrency: number) => ({
    socket: s.daemon.grpcSocket,
    protoRoot: join(repo, 'proto'),
    method: 'Tokenize',
    request: { tenant: s.provisioned.tenant, field: FIELD, values },
    metadata: headers(s),
    concurrency,
  });
  const tokenize = (s: Side, values: string[]) =>
    JSON.stringify({ tenant: s.provisioned.tenant, field: FIELD, values });
  return [
    {
      id: 'http-tokenize-1',
      title: 'HTTP tokenize, 1 value/req',
      short: 'HTTP tokenize-1',
      valuesPerRequest: 1,
      load: `autocannon, ${C1} connections`,
      script: 'bench/load/http.ts',
      spec: (s) => http(s, '/v1/tokenize', [tokenize(s, one)]),
    },
    {
      id: 'http-tokenize-100',
      title: 'HTTP tokenize, 100 values/req',
      short: 'HTTP tokenize-100',
      valuesPerRequest: 100,
      load: `autocannon, ${C100} connections`,
      script: 'bench/load/http.ts',
      spec: (s) => http(s, '/v1/tokenize', [tokenize(s, hundred)], { connections: C100 }),
    },
    {
      id: 'http-detokenize-hot',
      title: 'HTTP detokenize, 1 token, hot',
      short: 'HTTP detok hot',
      valuesPerRequest: 1,
      load: `autocannon, ${C1} connections, 100 tokens read over and over (record cache hits)`,
      script: 'bench/load/http.ts',
      spec: (s) =>
        http(
          s,
          '/v1/detokenize',
          s.hot.map((t) => JSON.stringify({ tenant: s.provisioned.tenant, tokens: [t] })),
        ),
    },
    {
      id: 'http-encrypt-1',
      title: 'HTTP encrypt, 1 value/req',
      short: 'HTTP encrypt-1',
      valuesPerRequest: 1,
      load: `autocannon, ${C1} connections`,
      script: 'bench/load/http.ts',
      spec: (s) =>
        http(s, '/v1/encrypt', [
          JSON.stringify({ tenant: s.provisioned.tenant, field: FIELD, plaintexts: one }),
        ]),
    },
    {
      id: 'grpc-tokenize-1',
      title: 'gRPC tokenize, 1 value/req',
      short: 'gRPC tokenize-1',
      valuesPerRequest: 1,
      load: `grpc-js client, one channel, ${C1} calls in flight`,
      script: 'bench/load/grpc.ts',
      spec: (s) => grpc(s, one, C1),
    },
    {
      id: 'grpc-tokenize-100',
      title: 'gRPC tokenize, 100 values/req',
      short: 'gRPC tokenize-100',
      valuesPerRequest: 100,
      load: `grpc-js client, one channel, ${C100} calls in flight`,
      script: 'bench/load/grpc.ts',
      spec: (s) => grpc(s, hundred, C100),
    },
    {
      id: 'http-tokenize-1-fixed',
      title: `HTTP tokenize, 1 value @ ${FIXED_RATE} req/s`,
      short: `HTTP tok-1 @${FIXED_RATE}/s`,
      valuesPerRequest: 1,
      load: `paced open loop at ${FIXED_RATE} req/s over up to ${FIXED_RATE_CONNECTIONS} connections, latency from the due time`,
      script: 'bench/load/http-paced.ts',
      fixedRate: true,
      spec: (s) =>
        http(s, '/v1/tokenize', [tokenize(s, one)], {
          connections: FIXED_RATE_CONNECTIONS,
          rate: FIXED_RATE,
        }),
    },
    // The per-pod footprint (issue 15): paced at 1,000 req/s, compared on CPU µs/req (= mCPU at this rate) and p99.
    ...(
      [
        ['detokenize-hot', 'detok hot', '/v1/detokenize'],
        ['tokenize', 'tokenize', '/v1/tokenize'],
        ['encrypt', 'encrypt', '/v1/encrypt'],
      ] as const
    ).map(
      ([op, short, path]): Scenario => ({
        id: `http-${op}-${POD_RATE}`,
        title: `HTTP ${op.replace('-', ' ')} @ ${POD_RATE} req/s`,
        short: `HTTP ${short} @${POD_RATE}`,
        valuesPerRequest: 1,
        load: `paced open loop at ${POD_RATE} req/s over up to ${FIXED_RATE_CONNECTIONS} connections, latency from the due time`,
        script: 'bench/load/http-paced.ts',
        fixedRate: true,
        spec: (s) =>
          http(
            s,
            path,
            op === 'detokenize-hot'
              ? s.hot.map((t) => JSON.stringify({ tenant: s.provisioned.tenant, tokens: [t] }))
              : op === 'tokenize'
                ? [tokenize(s, one)]
                : [JSON.stringify({ tenant: s.provisioned.tenant, field: FIELD, plaintexts: one })],
            { connections: FIXED_RATE_CONNECTIONS, rate: POD_RATE },
          ),
      }),
    ),
    {
      id: `grpc-detokenize-hot-${POD_RATE}`,
      title: `gRPC detokenize hot @ ${POD_RATE} req/s`,
      short: `gRPC detok hot @${POD_RATE}`,
      valuesPerRequest: 1,
      load: `paced open loop at ${POD_RATE} req/s on one channel, latency from the due time`,
      script: 'bench/load/grpc-paced.ts',
      fixedRate: true,
      spec: (s) => ({
        socket: s.daemon.grpcSocket,
        protoRoot: join(repo, 'proto'),
        method: 'Detokenize',
        requests: s.hot.map((t) => ({ tenant: s.provisioned.tenant, tokens: [t] })),
        metadata: headers(s),
        rate: POD_RATE,
      }),
    },
  ];
}

function summarize(scenario: Scenario, ms: readonly Measurement[]): SideSummary {
  const requests = ms.reduce((a, m) => a + m.requests, 0);
  const seconds = ms.reduce((a, m) => a + m.seconds, 0);
  const perReq = (pick: (m: Measurement) => number | undefined) => {
    if (requests === 0 || ms.some((m) => pick(m) === undefined)) return undefined;
    return ms.reduce((a, m) => a + pick(m)! * m.requests, 0) / requests;
  };
  const rss = ms.map((m) => m.peakRssMiB).filter((v): v is number => v !== undefined);
  const rps = ms.map((m) => m.requestsPerSecond);
  const p99 = ms.map((m) => m.latencyMs.p99);
  const spreadOf = (xs: readonly number[]) => {
    const mean = xs.reduce((a, v) => a + v, 0) / Math.max(1, xs.length);
    return mean > 0 ? (100 * (Math.max(...xs) - Math.min(...xs))) / mean : 0;
  };
  return {
    rounds: ms.length,
    requests,
    errors: ms.reduce((a, m) => a + m.errors, 0),
    seconds,
    requestsPerSecond: seconds > 0 ? requests / seconds : 0,
    valuesPerSecond: seconds > 0 ? (requests * scenario.valuesPerRequest) / seconds : 0,
    p50Ms: median(ms.map((m) => m.latencyMs.p50)),
    p99Ms: median(p99),
    maxMs: Math.max(...ms.map((m) => m.latencyMs.max)),
    cpuUsPerRequest: perReq((m) => m.cpuUsPerRequest),
    pgCpuUsPerRequest: perReq((m) => m.pgCpuUsPerRequest),
    peakRssMiB: rss.length > 0 ? Math.max(...rss) : undefined,
    roundRequestsPerSecond: rps,
    roundP99Ms: p99,
    spreadPercent: spreadOf(scenario.fixedRate === true ? p99 : rps),
  };
}

const METRICS = [
  'requestsPerSecond',
  'valuesPerSecond',
  'p50Ms',
  'p99Ms',
  'cpuUsPerRequest',
  'pgCpuUsPerRequest',
  'peakRssMiB',
] as const;
type Metric = (typeof METRICS)[number];

function changes(before: SideSummary, after: SideSummary): Record<Metric, number | undefined> {
  const out = {} as Record<Metric, number | undefined>;
  for (const k of METRICS) {
    const b = before[k];
    const a = after[k];
    out[k] = a === undefined || b === undefined || b === 0 ? undefined : (100 * (a - b)) / b;
  }
  return out;
}

interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly short: string;
  readonly load: string;
  readonly fixedRate: boolean;
  readonly rounds: readonly {
    readonly round: number;
    readonly side: SideName;
    readonly measurement: Measurement;
  }[];
  readonly before: SideSummary;
  readonly after: SideSummary;
  /** after vs before, % of before. */
  readonly changePercent: Record<Metric, number | undefined>;
  /** The primary metric (req/s, or p99 at a fixed rate) moved less than either side's own round-to-round spread. */
  readonly withinNoise: boolean;
}

// ---------------------------------------------------------------------------
// The table

const int = (v: number) => Math.round(v).toLocaleString('en-US');
const dec = (v: number | undefined) =>
  v === undefined
    ? '–'
    : v >= 1000
      ? int(v)
      : v >= 100
        ? v.toFixed(0)
        : v >= 10
          ? v.toFixed(1)
          : v.toFixed(2);
const pct = (v: number | undefined) =>
  v === undefined || !Number.isFinite(v) ? '–' : `${v >= 0 ? '+' : '-'}${Math.abs(v).toFixed(1)}%`;

export function compareTable(header: readonly string[], rs: readonly ScenarioResult[]): string {
  const head = [
    'scenario',
    'side',
    'req/s',
    'values/s',
    'p50 ms',
    'p99 ms',
    'CPU µs/req',
    'RSS MiB',
    'spread',
  ];
  const rows: string[][] = [];
  for (const r of rs) {
    const side = (name: SideName, s: SideSummary) => [
      name === 'before' ? r.short : '',
      name,
      int(s.requestsPerSecond),
      int(s.valuesPerSecond),
      dec(s.p50Ms),
      dec(s.p99Ms),
      dec(s.cpuUsPerRequest),
      dec(s.peakRssMiB),
      `${s.spreadPercent.toFixed(1)}%`,
    ];
    rows.push(side('before', r.before), side('after', r.after));
    const c = r.changePercent;
    rows.push([
      '',
      'change',
      pct(c.requestsPerSecond),
      pct(c.valuesPerSecond),
      pct(c.p50Ms),
      pct(c.p99Ms),
      pct(c.cpuUsPerRequest),
      pct(c.peakRssMiB),
      r.withinNoise ? 'noise' : '',
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: readonly string[]) =>
    row
      .map((v, i) => (i < 2 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [...header, '', line(head), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------

export async function runCompare(o: CompareOptions): Promise<void> {
  const wallStart = performance.now();
  const results = join(o.repo, 'bench', 'results');
  const all = scenarios(o.repo);
  const filters = (o.only ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '');
  const selected =
    filters.length === 0 ? all : all.filter((s) => filters.some((f) => matchesFilter(s.id, f)));
  if (selected.length === 0) {
    throw new Error(
      `--only ${o.only}: no scenario matches; scenario ids: ${all.map((s) => s.id).join(', ')}`,
    );
  }
  const seconds = Number(o.seconds ?? (o.quick ? 3 : 8));
  const warmup = Number(o.warmup ?? 1);
  const rounds = Number(o.rounds ?? (o.quick ? 4 : 8));
  if (!(seconds > 0 && seconds <= 600 && warmup >= 0 && warmup <= 600)) {
    throw new Error('--seconds must be in (0, 600] and --warmup in [0, 600]');
  }
  if (!(Number.isInteger(rounds) && rounds >= 4 && rounds <= 64 && rounds % 2 === 0)) {
    throw new Error(
      '--rounds must be an even number from 4 to 64 (two rounds or more per side, for the spread)',
    );
  }
  const order = roundOrder(rounds);
  /** Each daemon is exercised over HTTP before the first round, so neither side meets its first window cold. */
  const primeSeconds = o.quick ? 2 : 5;
  const stamp = new Date()
    .toISOString()
    .replaceAll(':', '-')
    .replace(/\.\d+Z$/, 'Z');
  const loadAtStart = loadAverage();

  log(
    `compare: before = ${o.ref}, after = ${o.after ?? 'the working tree'}; ${selected.map((s) => s.id).join(', ')}; ` +
      `${rounds} rounds each (${order.map((s) => (s === 'before' ? 'B' : 'A')).join('')}) of ${seconds} s after ${warmup} s warm-up`,
  );
  if (loadAtStart[0] > 1)
    log(`the machine is busy (load average ${loadAtStart.join(' ')}): expect noisy numbers`);

  mkdirSync(results, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'sidekey-bench-'));
  const removeScratch = removeOnExit(scratch);
  const builds: Build[] = [];
  const daemons: Daemon[] = [];
  let destroyPg: (() => Promise<void>) | undefined;
  try {
    log(`building ${o.ref} (git archive into a temporary directory, tsc)`);
    const beforeBuild: RefBuild = buildSidekeyAt(o.repo, o.ref, log);
    builds.push(beforeBuild);
    log(`building ${o.after ?? 'the working tree'} (tsc)`);
    const afterRef = o.after === undefined ? undefined : buildSidekeyAt(o.repo, o.after, log);
    const afterBuild: Build = afterRef ?? buildSidekey(o.repo, 'compiled');
    builds.push(afterBuild);

    log('starting PostgreSQL (TLS, client-certificate logins)');
    const pg = await startPostgres();
    destroyPg = () => pg.destroy();
    const ctx: MeasureContext = { repo: o.repo, scratch, pgPids: postgresProcesses(pg.dataDir) };
    const pgVersion = execFileSync(join(findPostgresBin(), 'postgres'), ['--version'], {
      encoding: 'utf8',
    }).trim();

    // Before first: its migrations are the older ones; after's migrate brings the schema to its own
    // version, which the before sidecar must accept (sidecars accept a newer, additive schema).
    log(`provisioning through each build's CLI: tenant ${TENANTS.before} (before), ${TENANTS.after} (after)`);
    const provBefore = provision(beforeBuild, pg, TENANTS.before, scratch);
    const provAfter = provision(afterBuild, pg, TENANTS.after, scratch, provBefore.opsDir);

    const sides = {} as Record<SideName, Side>;
    for (const [name, build, provisioned] of [
      ['before', beforeBuild, provBefore],
      ['after', afterBuild, provAfter],
    ] as const) {
      log(`starting the ${name} daemon`);
      const daemon = await startDaemon({
        build,
        pg,
        provisioned,
        scratch,
        ...(o.noHeapFlags === true && { env: { NODE_OPTIONS: '' } }),
      });
      daemons.push(daemon);
      sides[name] = { name, build, provisioned, daemon, hot: await mintHot(daemon, provisioned) };
    }
    for (const name of ['before', 'after'] as const) await prime(sides[name], primeSeconds);

    const out: ScenarioResult[] = [];
    const notes: string[] = [];
    for (const sc of selected) {
      const rs: ScenarioResult['rounds'][number][] = [];
      for (const [round, side] of order.entries()) {
        const s = sides[side];
        log(`${sc.id}: round ${round + 1}/${rounds}, ${side}`);
        const w = await measureWindow(
          ctx,
          `${sc.id}-${round}-${side}`,
          sc.script,
          { ...sc.spec(s), warmupSeconds: warmup, seconds },
          { pid: s.daemon.pid, metricsUrl: s.daemon.url },
        );
        const m = toMeasurement(
          {
            id: sc.id,
            title: sc.title,
            kind: 'sidekey',
            load: sc.load,
            valuesPerRequest: sc.valuesPerRequest,
          },
          w,
        );
        if (m.errors > 0) {
          notes.push(
            `${sc.id} round ${round + 1} (${side}): ${m.errors} failed requests (${JSON.stringify(m.details ?? {})}).`,
          );
        }
        rs.push({ round: round + 1, side, measurement: m });
      }
      const pick = (side: SideName) => rs.filter((r) => r.side === side).map((r) => r.measurement);
      const before = summarize(sc, pick('before'));
      const after = summarize(sc, pick('after'));
      const changePercent = changes(before, after);
      const primary = sc.fixedRate === true ? changePercent.p99Ms : changePercent.requestsPerSecond;
      out.push({
        id: sc.id,
        title: sc.title,
        short: sc.short,
        load: sc.load,
        fixedRate: sc.fixedRate === true,
        rounds: rs,
        before,
        after,
        changePercent,
        withinNoise:
          primary === undefined || Math.abs(primary) <= Math.max(before.spreadPercent, after.spreadPercent),
      });
    }

    const memory = Object.fromEntries(
      (['before', 'after'] as const).map((name) => {
        const m = memoryKiB(sides[name].daemon.pid);
        return [name, { rssMiB: (m?.rss ?? 0) / 1024, hwmMiB: (m?.hwm ?? 0) / 1024 }];
      }),
    ) as Record<SideName, { rssMiB: number; hwmMiB: number }>;
    const mach: Machine = machineInfo(o.repo, pgVersion, loadAtStart);
    const subject = (commit: string) =>
      spawnSync('git', ['log', '-1', '--format=%s', commit], {
        cwd: o.repo,
        encoding: 'utf8',
      }).stdout?.trim() ?? '';
    const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 3)}...` : s);
    const atRef = (ref: string, commit: string) =>
      clip(
        `${ref === commit.slice(0, ref.length) ? '' : `${ref} = `}${commit.slice(0, 7)} ${subject(commit)}`,
        92,
      );
    const header = [
      `before: ${atRef(o.ref, beforeBuild.commit)}`,
      `after:  ${
        o.after === undefined || afterRef === undefined
          ? `working tree on ${mach.commit}${mach.dirtyTree ? ' with uncommitted changes' : ' (clean)'}`
          : atRef(o.after, afterRef.commit)
      }`,
      `${o.quick ? 'quick: ' : ''}${rounds} rounds ${order.map((s) => (s === 'before' ? 'B' : 'A')).join('')} ` +
        `of ${warmup} s warm-up + ${seconds} s per scenario, one PostgreSQL, ${mach.cores} cores`,
    ];
    const table = compareTable(header, out);
    const footer = [
      'req/s, values/s: all rounds of a side; p50/p99: median of its rounds; CPU: sidekey user+sys',
      'spread: (max - min) / mean of a side\'s rounds (req/s; p99 at a fixed rate); "noise": the change',
      'is within that spread. Lower is better for p50, p99, CPU and RSS.',
      `Daemons at the end${o.noHeapFlags === true ? ' (no heap flags)' : ''}: RSS before ${memory.before.rssMiB.toFixed(1)} MiB ` +
        `(VmHWM ${memory.before.hwmMiB.toFixed(1)}), after ${memory.after.rssMiB.toFixed(1)} MiB (VmHWM ${memory.after.hwmMiB.toFixed(1)}); load average at start ${loadAtStart.join(' ')}.`,
    ].join('\n');
    const file = join(results, `compare-${stamp}.json`);
    writeFileSync(
      file,
      `${JSON.stringify(
        {
          version: 1,
          kind: 'compare',
          machine: mach,
          before: { ref: o.ref, commit: beforeBuild.commit, lockfileChanged: beforeBuild.lockfileChanged },
          after:
            o.after === undefined || afterRef === undefined
              ? { workingTree: true, commit: mach.commit, dirtyTree: mach.dirtyTree }
              : { ref: o.after, commit: afterRef.commit, lockfileChanged: afterRef.lockfileChanged },
          settings: {
            quick: o.quick,
            windowSeconds: seconds,
            warmupSeconds: warmup,
            rounds,
            order,
            primeSeconds,
            connections1: C1,
            connections100: C100,
            fixedRate: FIXED_RATE,
            fixedRateConnections: FIXED_RATE_CONNECTIONS,
            tenants: TENANTS,
            only: filters,
            noHeapFlags: o.noHeapFlags === true,
          },
          scenarios: out,
          memory,
          notes,
          table: `${table}\n\n${footer}`,
        },
        null,
        2,
      )}\n`,
    );
    process.stdout.write(`\n${table}\n\n${footer}\n\n`);
    for (const n of notes) process.stdout.write(`note: ${n}\n`);
    log(
      `wrote bench/results/compare-${stamp}.json in ${((performance.now() - wallStart) / 1000).toFixed(0)} s`,
    );
  } finally {
    for (const d of daemons) await d.stop().catch(() => false);
    await destroyPg?.().catch(() => undefined);
    for (const b of builds) b.remove();
    removeScratch();
  }
}

/** The detokenize-hot token set of one side (and a round trip, so a broken build stops here). */
async function mintHot(daemon: Daemon, p: Provisioned): Promise<string[]> {
  const values = Array.from({ length: 100 }, (_, i) => `hot${String(i).padStart(4, '0')}@example.com`);
  const t = await post(daemon.url, '/v1/tokenize', p.ork, { tenant: p.tenant, field: FIELD, values });
  const tokens = (t.body as { tokens?: string[] } | undefined)?.tokens;
  if (t.status !== 200 || tokens?.length !== 100) {
    throw new Error(
      `tokenize on ${daemon.url} answered ${t.status}: ${JSON.stringify(t.body).slice(0, 500)}`,
    );
  }
  const d = await post(daemon.url, '/v1/detokenize', p.ork, { tenant: p.tenant, tokens: [tokens[7]] });
  const got = (d.body as { results?: { value?: string }[] } | undefined)?.results?.[0]?.value;
  if (d.status !== 200 || got !== values[7]) {
    throw new Error(
      `detokenize on ${daemon.url} answered ${d.status}: ${JSON.stringify(d.body).slice(0, 500)}`,
    );
  }
  return tokens;
}

/** `seconds` of every HTTP operation from 16 loops in this process, so JIT and caches are warm on both sides. */
async function prime(side: Side, seconds: number): Promise<void> {
  const { daemon, provisioned: p, hot } = side;
  const bodies: [string, unknown][] = [
    ['/v1/tokenize', { tenant: p.tenant, field: FIELD, values: ['prime@example.com'] }],
    ['/v1/detokenize', { tenant: p.tenant, tokens: [hot[0]] }],
    ['/v1/encrypt', { tenant: p.tenant, field: FIELD, plaintexts: ['prime@example.com'] }],
  ];
  const deadline = performance.now() + seconds * 1000;
  let failures = 0;
  await Promise.all(
    Array.from({ length: 16 }, async (_, k) => {
      for (let i = k; performance.now() < deadline; i++) {
        const [path, body] = bodies[i % bodies.length]!;
        const r = await post(daemon.url, path, p.ork, body);
        if (r.status !== 200 && ++failures > 100)
          throw new Error(`${path} on the ${side.name} daemon: ${r.status}`);
      }
    }),
  );
}
