/**
 * Floor: PostgreSQL multi-row insert rate over the same mutual-TLS
 * connection sidekey uses — the sidecar role's client certificate, the same
 * pool (src/store openPostgresSqlClient: same TLS options, same pool size,
 * same statement timeout) and the same statement shape as the store's
 * group-commit write (one transaction, `insert … select … from unnest(…)`
 * with the envelope as hex, `on conflict (token) do nothing`), into a scratch
 * table shaped like sidekey_tokens (same columns, primary key and index).
 * `concurrency` transactions of `batch` rows in flight (closed loop), or,
 * with `rate`, one transaction due every 1/rate s (paced open loop, latency
 * from the due time; the pool's 10 connections bound what is in flight) — the
 * latency of a durable commit at that pace. A separate process, speaking the
 * load-generator protocol (warm / go / result).
 *
 *   node --import tsx bench/floors/pg-insert.ts <spec.json>
 */
import { randomBytes } from 'node:crypto';
import { openPostgresSqlClient } from '../../src/store/postgres.js';
import type { PostgresConnectionConfig } from '../../src/store/postgres-connection.js';
import { emit, LatencyRecorder, readSpec, waitGo } from '../lib/protocol.js';

export interface PgInsertSpec {
  readonly connection: PostgresConnectionConfig;
  readonly table: string;
  readonly batch: number;
  readonly concurrency: number;
  /** Plaintext bytes per value; the envelope is 45 bytes more (format, salt, nonce, tag). */
  readonly valueBytes: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
  /** Paced open loop: transactions per second. */
  readonly rate?: number;
}

const spec = await readSpec<PgInsertSpec>();
if (!/^[a-z_][a-z0-9_]*$/.test(spec.table)) throw new Error('bad table name');
const client = await openPostgresSqlClient(spec.connection);
const sql = `insert into ${spec.table} (token, tenant, field, ork_id, tek_version, envelope)
  select token, tenant, field, ork_id, tek_version, decode(envelope, 'hex')
    from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[])
         as u(token, tenant, field, ork_id, tek_version, envelope)
  on conflict (token) do nothing`;
const orkId = randomBytes(16).toString('hex');

function batchParams(): unknown[] {
  const tokens: string[] = [];
  const envelopes: string[] = [];
  const per = 16 + 45 + spec.valueBytes;
  const bytes = randomBytes(spec.batch * per);
  for (let i = 0; i < spec.batch; i++) {
    const at = i * per;
    tokens.push(`tok_${bytes.toString('base64url', at, at + 16)}`);
    envelopes.push(bytes.toString('hex', at + 16, at + per));
  }
  const fill = <T>(v: T) => new Array<T>(spec.batch).fill(v);
  return [tokens, fill('bench'), fill('email'), fill(orkId), fill(1), envelopes];
}

async function run(seconds: number, record: LatencyRecorder | undefined) {
  const deadline = performance.now() + seconds * 1000;
  let batches = 0;
  let errors = 0;
  let firstError: string | undefined;
  const worker = async () => {
    while (performance.now() < deadline) {
      const params = batchParams();
      const t0 = performance.now();
      try {
        await client.transaction((tx) => tx.query(sql, params));
        record?.record(performance.now() - t0);
        batches++;
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  return { batches, errors, firstError };
}

/** One transaction due every 1/rate s; latency from its due time. */
async function paced(rate: number, seconds: number, record: LatencyRecorder | undefined) {
  const total = Math.round(rate * seconds);
  const intervalMs = 1000 / rate;
  const start = performance.now();
  let batches = 0;
  let errors = 0;
  let firstError: string | undefined;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + i * intervalMs;
    const wait = due - performance.now();
    if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      client
        .transaction((tx) => tx.query(sql, batchParams()))
        .then(
          () => {
            record?.record(performance.now() - due);
            batches++;
          },
          (err: unknown) => {
            errors++;
            firstError ??= (err as Error).message;
          },
        ),
    );
  }
  await Promise.all(pending);
  return { batches, errors, firstError };
}

const go = (seconds: number, record: LatencyRecorder | undefined) =>
  spec.rate === undefined ? run(seconds, record) : paced(spec.rate, seconds, record);

if (spec.warmupSeconds > 0) await go(spec.warmupSeconds, undefined);
emit({ event: 'warm' });
await waitGo();
const latencies = new LatencyRecorder();
const started = performance.now();
const r = await go(spec.seconds, latencies);
emit({
  event: 'result',
  ok: r.batches,
  errors: r.errors,
  seconds: (performance.now() - started) / 1000,
  latencyMs: latencies.summary(),
  details: {
    batch: spec.batch,
    concurrency: spec.concurrency,
    ...(spec.rate !== undefined && { rate: spec.rate }),
    ...(r.firstError !== undefined && { firstError: r.firstError }),
  },
});
await client.close();
process.exit(0);
