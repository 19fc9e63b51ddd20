/**
 * Audit at scale on the embedded store (PGlite, which supports declarative
 * partitioning and PL/pgSQL like PostgreSQL): migration 8 moves an existing
 * store's events onto the partitioned log; rows an older sidecar still
 * writes into the previous table are verified and moved over; export →
 * verify --file → prune → verify; a gzip export; an export never
 * overwrites a file. (The fleet version, with Postgres and live traffic:
 * test/postgres/audit-retention.test.ts.)
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { sidekey } from '../support/cli.js';
import { startTestDaemon } from '../support/daemon.js';
import { post } from '../support/http.js';

let pristine: string;
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'sidekey-retention-'));
  dirs.push(d);
  return d;
};

before(async () => {
  const d = await startTestDaemon();
  pristine = d.dataDir;
  dirs.push(pristine);
  for (let i = 0; i < 5; i++)
    await post(d.url, '/v1/tokenize', d.ork, { tenant: 'demo', field: 'f', values: [`v${i}`] });
  await d.stop();
});

after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A copy of the pristine data directory with `sql` applied to its database. */
async function copyWith(sql: string): Promise<string> {
  const dir = tmp();
  cpSync(pristine, dir, { recursive: true });
  const db = await PGlite.create(join(dir, 'pgdata'));
  await db.exec(sql);
  await db.close();
  return dir;
}

async function query<R>(dir: string, sql: string): Promise<R[]> {
  const db = await PGlite.create(join(dir, 'pgdata'));
  try {
    return (await db.query<R>(sql)).rows;
  } finally {
    await db.close();
  }
}

const must = async (args: string[], dir: string) => {
  const r = await sidekey(args, { SIDEKEY_DATA_DIR: dir });
  assert.equal(r.code, 0, `sidekey ${args.join(' ')}: ${r.stderr}`);
  return r;
};

describe('audit at scale on the embedded store', () => {
  it('migration 8 moves an existing store’s events onto the partitioned log', async () => {
    // The store as a release before migration 8 left it: events in sidekey_audit_events.
    const dir = await copyWith(`
      insert into sidekey_audit_events select chain_id, seq, prev_hash, hash, event from sidekey_audit_log;
      drop table sidekey_audit_log, sidekey_audit_anchors, sidekey_audit_export_chains, sidekey_audit_exports, sidekey_audit_prunes;
      drop function sidekey_audit_roll_forward(date, integer);
      drop function sidekey_audit_event_time(text);
      delete from sidekey_schema_migrations where version = 8;`);
    const legacy = await query<{ n: number }>(dir, 'select count(*)::int as n from sidekey_audit_events');
    assert.ok(legacy[0]!.n >= 5);
    await must(['audit', 'verify'], dir); // the CLI migrates the embedded store first
    const moved = await query<{ log: number; old: number; parts: number }>(
      dir,
      `select (select count(*)::int from sidekey_audit_log) as log, (select count(*)::int from sidekey_audit_events) as old,
              (select count(*)::int from pg_inherits where inhparent = 'sidekey_audit_log'::regclass) as parts`,
    );
    assert.equal(moved[0]!.old, 0);
    assert.ok(moved[0]!.log >= legacy[0]!.n, 'every event moved (and the verify run’s own)');
    assert.ok(moved[0]!.parts >= 1, 'the default partition at least');
  });

  it('rows an older sidecar writes into the previous table are verified, then moved by roll-forward', async () => {
    const dir = await copyWith(`
      with last as (delete from sidekey_audit_log where (chain_id, seq) in
        (select chain_id, seq from sidekey_audit_log order by chain_id, seq desc limit 2) returning *)
      insert into sidekey_audit_events select chain_id, seq, prev_hash, hash, event from last;`);
    await must(['audit', 'verify'], dir);
    const parts = await must(['audit', 'partitions', '--json'], dir);
    const list = JSON.parse(parts.stdout) as { name: string; from: string }[];
    assert.ok(list.some((p) => p.name === 'sidekey_audit_log_default'));
    assert.ok(
      list.filter((p) => /^sidekey_audit_log_\d{8}$/.test(p.name)).length >= 8,
      'today and 7 days ahead',
    );
    const old = await query<{ n: number }>(dir, 'select count(*)::int as n from sidekey_audit_events');
    assert.equal(old[0]!.n, 0);
    await must(['audit', 'verify'], dir);
  });

  it('export (gzip) → verify --file → prune → verify; an export never overwrites a file', async () => {
    const dir = await copyWith('select 1');
    const out = tmp();
    const file = join(out, 'audit.jsonl.gz');
    const cut = new Date().toISOString();
    const r = await must(['audit', 'export', '--until', cut, '--out', file], dir);
    assert.equal(readFileSync(file).subarray(0, 2).toString('hex'), '1f8b');
    await must(['audit', 'verify', '--file', file], dir);
    const again = await sidekey(['audit', 'export', '--until', cut, '--out', file], {
      SIDEKEY_DATA_DIR: dir,
    });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists: an export never overwrites a file/);
    const pruned = await must(['audit', 'prune', '--until', cut, '--yes'], dir);
    assert.match(pruned.stderr, /pruned \d+ events of \d+ chain\(s\)/);
    const left = await query<{ n: number }>(
      dir,
      `select count(*)::int as n from sidekey_audit_log where event_time < '${cut}'`,
    );
    assert.equal(left[0]!.n, 0);
    const live = await must(['audit', 'verify', '--json'], dir);
    const reports = JSON.parse(live.stdout) as { ok: boolean; anchorSeq?: number }[];
    assert.ok(reports.every((x) => x.ok));
    assert.ok(reports.some((x) => x.anchorSeq !== undefined));
    // The export id printed is the one recorded.
    const rec = await query<{ export_id: string }>(dir, 'select export_id from sidekey_audit_exports');
    assert.deepEqual(
      rec.map((x) => x.export_id),
      [r.stdout.trim()],
    );
    // A corrupt gzip stream is reported, not thrown.
    const bad = join(out, 'bad.jsonl.gz');
    writeFileSync(bad, gzipSync(readFileSync(file)).subarray(0, 30));
    const v = await sidekey(['audit', 'verify', '--file', bad], { SIDEKEY_DATA_DIR: dir });
    assert.equal(v.code, 1);
    assert.match(v.stderr, /line \d+: /);
  });
});
