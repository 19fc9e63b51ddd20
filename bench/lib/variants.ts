/**
 * One operation against several settings of one sidekey build, in
 * interleaved rounds on one PostgreSQL (TLS, client certificates), a fresh
 * daemon per variant and round, so every variant sees the same machine load
 * and the same database growth. Used by bench/variants.ts (settings from the
 * command line) and bench/audit-durability.ts (the three durability settings).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../../test/support/postgres.js';
import { removeOnExit, spawnTs } from './children.js';
import { measureWindow, type Window } from './measure.js';
import { loadAverage, memoryKiB, postgresProcesses } from './procfs.js';
import { buildSidekey, post, provision, startDaemon } from './sidekey.js';

export const OPS = ['detokenize', 'tokenize', 'tokenize100', 'encrypt'] as const;
export type Op = (typeof OPS)[number];

export interface Variant {
  readonly name: string;
  /** The daemon's environment on top of the bench's (startDaemon). */
  readonly env: Record<string, string>;
  /** Node flags after the image's own (a later flag wins). */
  readonly flags: readonly string[];
}

export interface VariantRun {
  /** `detokenize`: 1 token, hot (the record in the sidecar's cache); `tokenize`, `encrypt`: 1 value; `tokenize100`: 100 values. */
  readonly op: Op;
  readonly variants: readonly Variant[];
  /** Paced open loop at this many requests/s over 64 connections, unless `closed` is set. */
  readonly rate: number;
  /** Closed loop over this many connections. */
  readonly closed?: number;
  readonly rounds: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** A bare hono + AES-GCM server at the same load, first in each round. */
  readonly floor?: boolean;
  /** The Node.js binary (default: the one running the bench). */
  readonly node?: string;
}

export interface VariantRow {
  readonly variant: string;
  readonly round: number;
  readonly rps: number;
  readonly mCpu: number;
  readonly pgMCpu: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly rssMiB: number;
  readonly errors: number;
  /** Group-commit transactions per 1,000 requests (the daemon's /metrics; 0 for the floor). */
  readonly flushesPer1000: number;
  readonly load1: number;
}

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

export async function runVariants(repo: string, run: VariantRun): Promise<VariantRow[]> {
  const build = buildSidekey(repo, 'compiled');
  const pg = await startPostgres();
  const scratch = mkdtempSync(join(tmpdir(), 'sidekey-bench-variants-'));
  removeOnExit(scratch);
  const ctx = { repo, scratch, pgPids: postgresProcesses(pg.dataDir) };
  const load = (url: string, path: string, headers: Record<string, string>, bodies: string[]) => {
    const common = { url, path, headers, bodies, warmupSeconds: run.warmupSeconds, seconds: run.seconds };
    return run.closed === undefined
      ? (['bench/load/http-paced.ts', { ...common, rate: run.rate, connections: 64 }] as const)
      : (['bench/load/http.ts', { ...common, connections: run.closed }] as const);
  };
  const rows: VariantRow[] = [];
  const record = (variant: string, round: number, w: Window, pid: number) => {
    const r = w.result;
    const row: VariantRow = {
      variant,
      round,
      rps: r.ok / r.seconds,
      mCpu: ((w.serverCpu ?? 0) / r.seconds) * 1000,
      pgMCpu: (w.pgCpu / r.seconds) * 1000,
      p50: r.latencyMs.p50,
      p90: r.latencyMs.p90,
      p99: r.latencyMs.p99,
      max: r.latencyMs.max,
      rssMiB: (memoryKiB(pid)?.rss ?? 0) / 1024,
      errors: r.errors,
      flushesPer1000: r.ok === 0 ? 0 : (1000 * (w.metrics?.flushes ?? 0)) / r.ok,
      load1: loadAverage()[0]!,
    };
    rows.push(row);
    log(JSON.stringify(row));
  };
  try {
    const provisioned = provision(build, pg, 'bench', scratch);
    const hot = Array.from({ length: 100 }, (_, i) => `hot-${i}@example.com`);
    const floorBody = JSON.stringify({ tenant: 'bench', field: 'email', values: ['alice@example.com'] });
    for (let round = 0; round < run.rounds; round++) {
      if (run.floor) {
        const server = spawnTs('hono-floor', repo, 'bench/floors/hono.ts', [], run.node ?? process.execPath);
        try {
          const { port } = await server.message<{ port: number }>('ready', 30_000);
          const [script, spec] = load(`http://127.0.0.1:${port}`, '/v1/tokenize', {}, [floorBody]);
          const w = await measureWindow(ctx, `floor-${round}`, script, spec, { pid: server.pid });
          record('floor (bare hono + AES-GCM)', round, w, server.pid!);
        } finally {
          await server.stop();
        }
      }
      for (const v of run.variants) {
        const daemon = await startDaemon({
          build,
          pg,
          provisioned,
          scratch,
          ...(run.node !== undefined && { node: run.node }),
          nodeFlags: v.flags,
          env: v.env,
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
          }[run.op];
          const path = `/v1/${run.op === 'tokenize100' ? 'tokenize' : run.op}`;
          const headers = { 'content-type': 'application/json', 'x-sidekey-org-key': provisioned.ork };
          const [script, spec] = load(daemon.url, path, headers, bodies);
          // The variant's name may hold flags with paths: it names a file here.
          const label = `${run.op}-${v.name.replace(/[^\w.=-]+/g, '_')}-${round}`;
          const w = await measureWindow(ctx, label, script, spec, {
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
  return rows;
}
