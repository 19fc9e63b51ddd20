/**
 * `npx tsx bench/scale.ts [--rows N] [--audit-rows N]`: the numbers of
 * docs/scale.md, measured on this machine (not CI; it takes minutes and
 * gigabytes). A real PostgreSQL (the test harness: TLS, client
 * certificates), the real schema (migrations 1 … 8), then:
 *
 * - a token table of `--rows` (default 10 000 000) generated in SQL with
 *   rows shaped like sidekey's (a 26-character token, a 32-hex ORK id, an
 *   envelope of 45 + 20 bytes): bytes per row, index sizes; the latency of
 *   sidekey's own statements against it (the group-commit insert of one
 *   token and one audit event; the detokenize lookup of a random, cold
 *   token); the rate of `reencrypt`'s store side (list a batch, replace its
 *   envelopes) — with the default layout, with fillfactor 90, and with the
 *   table hash-partitioned by token (16 partitions);
 * - an audit log of `--audit-rows` (default 10 000 000) events over ten
 *   days: bytes per event, the time to prune one day by dropping its
 *   partition against deleting the same rows.
 *
 * Latencies are medians of sequential calls over the mTLS pool the daemon
 * uses (SqlStore), so they are the database's share of a call; the
 * sidecar's CPU per call is `npm run bench`'s. Prints JSON and writes
 * bench/results/scale-<stamp>.json. Benchmarks are not tests: nothing here
 * fails a build.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { openPostgresStore, type Store } from '../src/store/index.js';
import { migratePostgres } from '../src/store/postgres.js';
import { OPERATOR_ROLE, SIDECAR_ROLE, startPostgres } from '../test/support/postgres.js';
import { loadAverage } from './lib/procfs.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    'audit-rows': { type: 'string', default: '10000000' },
    samples: { type: 'string', default: '2000' },
  },
});
const ROWS = Number(args.rows);
const AUDIT_ROWS = Number(args['audit-rows']);
const SAMPLES = Number(args.samples);
const DAY = 86_400_000;
/** SQL for `n` (a multiple of 16) random bytes, inline (gen_random_uuid is core PostgreSQL). */
const rb = (n: number) => Array.from({ length: n / 16 }, () => 'uuid_send(gen_random_uuid())').join(' || ');

const results: Record<string, unknown> = { rows: ROWS, auditRows: AUDIT_ROWS, loadBefore: loadAverage() };
const log = (m: string) => process.stderr.write(`[${new Date().toISOString()}] ${m}\n`);

async function timed<T>(what: string, fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t = process.hrtime.bigint();
  const value = await fn();
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  log(`${what}: ${seconds.toFixed(1)} s`);
  return { value, seconds };
}

function quantiles(ms: number[]): { p50: number; p99: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => Number(s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(3));
  return { p50: at(0.5), p99: at(0.99) };
}

async function sizes(admin: pg.Client, table: string) {
  const r = await admin.query(
    `select count(*)::bigint as n,
            sum(pg_table_size(c.oid))::bigint as heap, sum(pg_indexes_size(c.oid))::bigint as idx
       from pg_class c
      where c.oid = $1::regclass or c.oid in (select inhrelid from pg_inherits where inhparent = $1::regclass)`,
    [table],
  );
  const rows = Number((await admin.query(`select count(*) as n from ${table}`)).rows[0].n);
  const heap = Number(r.rows[0].heap);
  const idx = Number(r.rows[0].idx);
  return {
    rows,
    heapBytes: heap,
    indexBytes: idx,
    heapBytesPerRow: Math.round(heap / Math.max(1, rows)),
    totalBytesPerRow: Math.round((heap + idx) / Math.max(1, rows)),
  };
}

/** Generates `n` token rows into `table` in chunks (one statement per chunk). */
async function generateTokens(admin: pg.Client, table: string, n: number, orkId: string) {
  const CHUNK = 1_000_000;
  for (let from = 0; from < n; from += CHUNK) {
    const to = Math.min(n, from + CHUNK);
    await admin.query(
      `insert into ${table} (token, tenant, field, ork_id, tek_version, envelope, kind)
       select 'tok_' || translate(encode(${rb(16)}, 'base64'), '+/=', '-_'),
              'bench', 'email', $3, 1, '\\x01'::bytea || ${rb(64)}, 'random'
         from generate_series($1::bigint, $2::bigint - 1)`,
      [from, to, orkId],
    );
    log(`${table}: ${to} rows`);
  }
}

async function sampleTokens(admin: pg.Client, table: string, n: number): Promise<string[]> {
  const r = await admin.query(`select token from ${table} tablesample system (0.1) limit $1`, [n]);
  return r.rows.map((x) => x.token as string);
}

/** The group-commit statement of one tokenize (a token row and its audit event) and the detokenize read. */
async function latencies(store: Store, tokens: readonly string[], chainId: string, orkId: string) {
  const write: number[] = [];
  const written: string[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const token = `tok_${randomBytes(16).toString('base64url').slice(0, 22)}`;
    written.push(token);
    const t = process.hrtime.bigint();
    await store.write({
      tokens: [
        {
          token,
          tenant: 'bench',
          field: 'email',
          orkId,
          tekVersion: 1,
          envelope: randomBytes(65),
          expiresAt: null,
        },
      ],
      audit: [
        {
          chainId,
          seq: i + 1 + Math.floor(Math.random() * 1e12),
          prevHash: randomBytes(32),
          hash: randomBytes(32),
          event: `{"time":"${new Date().toISOString()}","operation":"tokenize","outcome":"ok","tenant":"bench","fields":["email"],"orkId":"${orkId}","tekVersions":[1],"count":1,"caller":"http","requestId":"r","latencyMs":0.5}`,
        },
      ],
    });
    write.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const read: number[] = [];
  // On an empty table: the rows just written (hot); at scale: sampled ones (cold).
  for (const token of (tokens.length > 0 ? tokens : written).slice(0, SAMPLES)) {
    const t = process.hrtime.bigint();
    const rows = await store.getTokens([token]);
    read.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (rows.length !== 1) throw new Error('a sampled token was not found');
  }
  return { tokenizeWriteMs: quantiles(write), detokenizeReadMs: quantiles(read) };
}

/** reencrypt's store side: list a batch of an ORK's records, replace their envelopes (to `version`); rows per second. */
async function reencryptRate(store: Store, orkId: string, total: number, version: number) {
  const BATCH = 500;
  let done = 0;
  let after = '';
  const t = process.hrtime.bigint();
  while (done < total) {
    const rows = await store.listTokensToMove({
      tenant: 'bench',
      orkId,
      exceptVersion: version,
      afterToken: after,
      limit: BATCH,
    });
    if (rows.length === 0) break;
    await store.replaceTokenEnvelopes(
      'bench',
      rows.map((r) => ({
        token: r.token,
        from: { orkId: r.orkId, tekVersion: r.tekVersion, envelope: r.envelope },
        to: { orkId: r.orkId, tekVersion: version, envelope: randomBytes(65) },
      })),
    );
    after = rows[rows.length - 1]!.token;
    done += rows.length;
  }
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  return { rows: done, rowsPerSecond: Math.round(done / seconds) };
}

async function main() {
  const pgh = await startPostgres();
  try {
    await migratePostgres(pgh.connection(OPERATOR_ROLE), { sidecarRole: SIDECAR_ROLE });
    const admin = await pgh.adminClient();
    await admin.query(`insert into sidekey_tenants (tenant) values ('bench')`);
    const orkId = randomBytes(16).toString('hex');
    const moveOrk = randomBytes(16).toString('hex');
    const chainId = randomBytes(16).toString('hex');
    await admin.query(
      `insert into sidekey_audit_chains (chain_id, kek_ref, wrapped_key, host) values ($1, 'local:0', '\\x00', 'bench')`,
      [chainId],
    );
    const store = await openPostgresStore(pgh.connection(SIDECAR_ROLE), { statementTimeoutMs: 600_000 });
    const ops = await openPostgresStore(pgh.connection(OPERATOR_ROLE), { statementTimeoutMs: 3_600_000 });

    // --- The token table (default layout) ---
    results.empty = await latencies(store, [], chainId, orkId);
    const gen = await timed('generate tokens', () => generateTokens(admin, 'sidekey_tokens', ROWS, orkId));
    // A slice under another ORK for the reencrypt rate.
    await admin.query(
      `update sidekey_tokens set ork_id = $1 where ctid in (select ctid from sidekey_tokens limit 100000)`,
      [moveOrk],
    );
    await admin.query('vacuum analyze sidekey_tokens');
    results.generateRowsPerSecond = Math.round(ROWS / gen.seconds);
    results.tokens = await sizes(admin, 'sidekey_tokens');
    const sample = await sampleTokens(admin, 'sidekey_tokens', SAMPLES);
    results.atScale = await latencies(store, sample, chainId, orkId);
    results.reencrypt = await reencryptRate(ops, moveOrk, 100_000, 2);

    // --- fillfactor 90 (room for reencrypt's in-place updates) ---
    await timed('fillfactor 90', async () => {
      await admin.query('alter table sidekey_tokens set (fillfactor = 90)');
      await admin.query('vacuum full sidekey_tokens');
      await admin.query('analyze sidekey_tokens');
    });
    results.fillfactor90 = {
      sizes: await sizes(admin, 'sidekey_tokens'),
      reencrypt: await reencryptRate(ops, moveOrk, 100_000, 3),
    };

    // --- hash partitioned by token, 16 partitions ---
    await timed('hash-partitioned copy', async () => {
      await admin.query(
        'create table bench_tokens_hash (like sidekey_tokens including defaults including indexes) partition by hash (token)',
      );
      for (let i = 0; i < 16; i++)
        await admin.query(
          `create table bench_tokens_hash_${i} partition of bench_tokens_hash for values with (modulus 16, remainder ${i})`,
        );
      await admin.query('insert into bench_tokens_hash select * from sidekey_tokens');
      await admin.query('vacuum analyze bench_tokens_hash');
    });
    const hashRead: number[] = [];
    for (const token of sample) {
      const t = process.hrtime.bigint();
      await admin.query('select * from bench_tokens_hash where token = any($1::text[])', [[token]]);
      hashRead.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const plainRead: number[] = [];
    for (const token of sample) {
      const t = process.hrtime.bigint();
      await admin.query('select * from sidekey_tokens where token = any($1::text[])', [[token]]);
      plainRead.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    results.hashPartitioned = {
      sizes: await sizes(admin, 'bench_tokens_hash'),
      lookupMsOverUnixSocket: quantiles(hashRead),
      sameLookupUnpartitionedMs: quantiles(plainRead),
    };
    await admin.query('drop table bench_tokens_hash');

    // --- The audit log: 10 days of events, ten chains ---
    const first = new Date(Math.floor((Date.now() - 12 * DAY) / DAY) * DAY);
    await ops.auditLog.rollForward(first, 12);
    const chains = Array.from({ length: 10 }, () => randomBytes(16).toString('hex'));
    for (const c of chains)
      await admin.query(
        `insert into sidekey_audit_chains (chain_id, kek_ref, wrapped_key, host) values ($1, 'local:0', '\\x00', 'bench')`,
        [c],
      );
    const span = 10 * DAY;
    await timed('generate audit events', async () => {
      const CHUNK = 1_000_000;
      for (let from = 0; from < AUDIT_ROWS; from += CHUNK) {
        const to = Math.min(AUDIT_ROWS, from + CHUNK);
        await admin.query(
          `insert into sidekey_audit_log (chain_id, seq, prev_hash, hash, event, event_time)
           select ($4::text[])[1 + g % 10], g / 10 + 1, ${rb(32)}, ${rb(32)},
                  '{"time":"' || to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') ||
                  '","operation":"tokenize","outcome":"ok","tenant":"bench","fields":["email"],"orkId":"${orkId}","tekVersions":[1],"count":1,"caller":"http","requestId":"' ||
                  md5(g::text) || '","latencyMs":0.512}', t
             from generate_series($1::bigint, $2::bigint - 1) g,
                  lateral (select $3::timestamptz + (g * ${span / AUDIT_ROWS}) * interval '1 millisecond' as t) x`,
          [from, to, first.toISOString(), chains],
        );
        log(`audit: ${to} events`);
      }
      await admin.query('vacuum analyze sidekey_audit_log');
    });
    results.audit = await sizes(admin, 'sidekey_audit_log');
    const oneDay = new Date(first.getTime() + DAY);
    const dayRows = Number(
      (
        await admin.query('select count(*) as n from sidekey_audit_log where event_time < $1', [
          oneDay.toISOString(),
        ])
      ).rows[0].n,
    );
    // Prune day 1 as `audit prune --force` does: plan (anchors), then drop its partition.
    const plan = await timed('plan a one-day prune', () => ops.auditLog.rangesBefore(oneDay));
    await ops.auditLog.beginPrune(
      { pruneId: randomBytes(16).toString('hex'), until: oneDay, exportId: null },
      plan.value.map((r) => ({ chainId: r.chainId, seq: r.toSeq, hash: r.toHash })),
    );
    const name = `sidekey_audit_log_${first.toISOString().slice(0, 10).replaceAll('-', '')}`;
    const drop = await timed('drop one day', () => ops.auditLog.dropPartitionIfPruned(name, oneDay));
    // The same amount removed row by row (day 2, anchors moved by one more day).
    const twoDays = new Date(first.getTime() + 2 * DAY);
    const plan2 = await ops.auditLog.rangesBefore(twoDays);
    await ops.auditLog.beginPrune(
      { pruneId: randomBytes(16).toString('hex'), until: twoDays, exportId: null },
      plan2.map((r) => ({ chainId: r.chainId, seq: r.toSeq, hash: r.toHash })),
    );
    const del = await timed('delete one day row by row', async () => {
      let n = 0;
      for (;;) {
        const k = await ops.auditLog.deletePruned(5000);
        if (k === 0) break;
        n += k;
      }
      return n;
    });
    results.prune = {
      oneDayEvents: dayRows,
      planSeconds: Number(plan.seconds.toFixed(2)),
      dropped: drop.value,
      dropPartitionSeconds: Number(drop.seconds.toFixed(3)),
      deleteRowByRow: { events: del.value, seconds: Number(del.seconds.toFixed(1)) },
    };
    results.loadAfter = loadAverage();
    await store.close();
    await ops.close();
    await admin.end();
  } finally {
    await pgh.destroy();
  }
  const out = join(import.meta.dirname, 'results');
  mkdirSync(out, { recursive: true });
  const file = join(out, `scale-${new Date().toISOString().replaceAll(':', '-').slice(0, 19)}Z.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  log(`written ${file}`);
}

await main();
