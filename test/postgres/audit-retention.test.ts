/**
 * Audit at scale (issue 19) on the real PostgreSQL (TLS, client
 * certificates) with two sidecars serving throughout: `audit export` →
 * `audit prune` → `audit verify` (live and --file) while traffic continues;
 * whole daily partitions dropped; a tampered or truncated export named by
 * line; bad input changes nothing; daily partitions rolled forward across a
 * simulated day boundary without a failed write; a prune killed with
 * SIGKILL finished by the next run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import pino from 'pino';
import { Auditor, rollAuditPartitions } from '../../src/audit/index.js';
import { loadConfig } from '../../src/config/index.js';
import { systemRandom } from '../../src/crypto/index.js';
import { createKekRing, type KekRing } from '../../src/kms/index.js';
import { openPostgresStore, type Store } from '../../src/store/index.js';
import { capturedLogs, type TestDaemon } from '../support/daemon.js';
import { type Fleet, postWithin, startFleet, until } from '../support/fleet.js';
import { OPERATOR_ROLE, postgresEnv, SIDECAR_ROLE } from '../support/postgres.js';
import { spawnSidekey } from '../support/process.js';

const TENANT = 'retention';
const DAY = 86_400_000;
let fleet: Fleet;
let sidecars: TestDaemon[];
let ork: string;
let store: Store;
let keks: KekRing;
const dir = mkdtempSync(join(tmpdir(), 'sidekey-retention-'));

/** Continuous tokenize calls on both sidecars; every answer is counted. */
const traffic = { running: true, ok: 0, failed: [] as string[] };
let trafficDone: Promise<void>;

const ops = (args: string[]) => fleet.ops(args);
const must = async (args: string[]) => {
  const r = await ops(args);
  assert.equal(r.code, 0, `sidekey ${args.join(' ')}: ${r.stderr}`);
  return r;
};
const count = async (table = 'sidekey_audit_log') =>
  Number((await fleet.pg.adminQuery<{ n: string }>(`select count(*) as n from ${table}`))[0]!.n);
const exists = async (name: string) =>
  (await fleet.pg.adminQuery<{ r: string | null }>('select to_regclass($1)::text as r', [name]))[0]!.r !==
  null;
const dayName = (d: Date) => `sidekey_audit_log_${d.toISOString().slice(0, 10).replaceAll('-', '')}`;
const utcMidnight = (ms: number) => new Date(Math.floor(ms / DAY) * DAY);

/** A chain of this test process whose events carry the times given (a simulated past or future). */
async function chainWithTimes(times: readonly string[]): Promise<string> {
  const auditor = await Auditor.open({
    store,
    kek: keks.primary,
    sink: { writeAudit: (rows) => store.write({ tokens: [], audit: rows }) },
    log: pino({ level: 'silent' }),
    lines: () => {},
  });
  for (const time of times)
    await auditor.record({ time, operation: 'test.simulated', outcome: 'ok', caller: 'cli' });
  auditor.close();
  return auditor.chainId;
}

before(async () => {
  fleet = await startFleet();
  await fleet.createTenant(TENANT);
  ork = (await fleet.issueOrk(TENANT)).ork;
  sidecars = [await fleet.startSidecar(), await fleet.startSidecar()];
  const env = { SIDEKEY_DATA_DIR: fleet.opsDir, ...postgresEnv(fleet.pg, OPERATOR_ROLE) };
  const config = loadConfig(env, process.cwd());
  keks = await createKekRing(config, { random: systemRandom, warn: () => {} });
  store = await openPostgresStore(fleet.pg.connection(OPERATOR_ROLE));
  trafficDone = (async () => {
    let i = 0;
    while (traffic.running) {
      const s = sidecars[i++ % 2]!;
      const r = await postWithin(
        s.url,
        '/v1/tokenize',
        ork,
        { tenant: TENANT, field: 'f', values: [`v${i}`] },
        10_000,
      );
      if (r.status === 200) traffic.ok++;
      else traffic.failed.push(`${r.status} ${r.code}`);
    }
  })();
  await until('some traffic', () => traffic.ok >= 20);
});

after(async () => {
  traffic.running = false;
  await trafficDone;
  await store?.close();
  for (const k of keks?.all() ?? []) await k.close();
  await fleet?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('audit export, prune and verify on a fleet', () => {
  let pastChain: string;
  const now = Date.now();
  const tenDaysAgo = utcMidnight(now - 10 * DAY);
  const nineDaysAgo = new Date(tenDaysAgo.getTime() + DAY);
  const eightDaysAgo = new Date(tenDaysAgo.getTime() + 2 * DAY);

  it('migrate created today’s and the coming days’ partitions; older days go to the default partition', async () => {
    for (let i = 0; i <= 7; i++) assert.ok(await exists(dayName(new Date(now + i * DAY))), `day +${i}`);
    // Two simulated past days get their partitions (created ahead, as roll-forward would have); the third does not.
    assert.equal(await store.auditLog.rollForward(tenDaysAgo, 1), 2);
    pastChain = await chainWithTimes([
      new Date(tenDaysAgo.getTime() + 3_600_000).toISOString(),
      new Date(tenDaysAgo.getTime() + 7_200_000).toISOString(),
      new Date(nineDaysAgo.getTime() + 60_000).toISOString(),
      new Date(eightDaysAgo.getTime() + 60_000).toISOString(),
    ]);
    const where = await fleet.pg.adminQuery<{ p: string; seq: string }>(
      'select tableoid::regclass::text as p, seq from sidekey_audit_log where chain_id = $1 order by seq',
      [pastChain],
    );
    assert.deepEqual(
      where.map((r) => r.p),
      [dayName(tenDaysAgo), dayName(tenDaysAgo), dayName(nineDaysAgo), 'sidekey_audit_log_default'],
    );
    // The sidecar role rolls partitions forward through the function, with no DDL privilege of its own.
    const asSidecar = await openPostgresStore(fleet.pg.connection(SIDECAR_ROLE));
    try {
      assert.equal(await asSidecar.auditLog.rollForward(new Date(now + 30 * DAY), 0), 1);
      assert.ok(await exists(dayName(new Date(now + 30 * DAY))));
      await assert.rejects(
        asSidecar.auditLog.dropPartitionIfPruned(dayName(new Date(now + 30 * DAY)), new Date(now + 40 * DAY)),
      );
      await assert.rejects(asSidecar.auditLog.deletePruned(10));
    } finally {
      await asSidecar.close();
    }
    // A temporary table of the caller's never stands in for the log in the security-definer function.
    const session = await fleet.pg.adminClient();
    try {
      await session.query('set role sidekey');
      await session.query('create temp table sidekey_audit_log (x int)');
      await session.query('create temp table sidekey_audit_log_default (event_time timestamptz)');
      const r = await session.query('select sidekey_audit_roll_forward($1::date, 0) as n', [
        new Date(now + 31 * DAY).toISOString().slice(0, 10),
      ]);
      assert.equal(r.rows[0].n, 1);
      assert.ok(await exists(dayName(new Date(now + 31 * DAY))), 'created beside the real log');
    } finally {
      await session.end();
    }
    assert.ok(
      !capturedLogs.some((l) => l.includes('audit partitions not rolled forward')),
      'both sidecars rolled their partitions forward at start',
    );
    // A day the default partition holds rows of is never given a partition (the attach would fail).
    assert.equal(await store.auditLog.rollForward(eightDaysAgo, 0), 0);
    assert.ok(!(await exists(dayName(eightDaysAgo))));
  });

  it('bad input is refused in one line and changes nothing', async () => {
    // Traffic keeps adding events: compare what is older than the test (by a margin: an event
    // carries its operation's start time and is written up to a group commit later).
    const older = `sidekey_audit_log where event_time < '${new Date(Date.now() - 5_000).toISOString()}'`;
    const before = await count(older);
    const cases: [string[], RegExp][] = [
      [['audit', 'export', '--until', '2999-01-01T00:00:00Z', '--out', join(dir, 'x')], /is in the future/],
      [
        ['audit', 'export', '--until', 'yesterday', '--out', join(dir, 'x')],
        /neither an RFC 3339 time nor an age/,
      ],
      [
        ['audit', 'export', '--until', '2001-01-01T00:00:00Z', '--out', join(dir, 'x')],
        /before the oldest event/,
      ],
      [['audit', 'export', '--until', '1d'], /usage: sidekey audit export/],
      [['audit', 'prune', '--until', '2999-01-01T00:00:00Z', '--yes'], /is in the future/],
      [['audit', 'prune', '--until', '30x', '--yes'], /neither an RFC 3339 time nor an age/],
      [['audit', 'prune', '--until', '2001-01-01T00:00:00Z', '--yes'], /before the oldest event/],
      [
        ['audit', 'prune', '--until', '1d', '--yes'],
        /no export covers the events before .*there is no export yet/,
      ],
      [['audit', 'prune', '--until', '1d'], /no export covers/],
      [['audit', 'verify', '--file', join(dir, 'missing.jsonl')], /cannot read .*ENOENT/],
      [['audit', 'frobnicate'], /usage: sidekey audit/],
    ];
    for (const [args, message] of cases) {
      const r = await ops(args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
    assert.equal(await count(older), before);
    assert.equal(await count('sidekey_audit_exports'), 0);
    assert.equal(await count('sidekey_audit_anchors'), 0);
  });

  it('export → prune → verify (live and file) while both sidecars keep serving', async () => {
    const cut = new Date();
    await until('traffic after the cut', () => traffic.ok >= 60);
    // The sidecars spool their events and ship them a flush later (ADR-20): an event from
    // before the cut may still be on its way. An export holds what is stored (a late event
    // waits for the next export), so wait for each sidecar chain to be stored, without a
    // hole, up to an event after the cut.
    await until('every sidecar chain stored past the cut', async () => {
      const [row] = await fleet.pg.adminQuery<{ behind: string }>(
        `select count(*) filter (where max_time < $1 or n <> last - first + 1) as behind from (
           select max(event_time) as max_time, count(*) as n, max(seq) as last, min(seq) as first
           from sidekey_audit_log where chain_id in
             (select chain_id from sidekey_audit_log where event::jsonb->>'operation' = 'tokenize')
           group by chain_id) c`,
        [cut.toISOString()],
      );
      return row!.behind === '0';
    });
    const file = join(dir, 'first.jsonl.gz');
    const exported = await must(['audit', 'export', '--until', cut.toISOString(), '--out', file]);
    const exportId = exported.stdout.trim();
    assert.match(exportId, /^[0-9a-f]{32}$/);
    const text = gunzipSync(readFileSync(file)).toString('utf8');
    // No value and no ORK in an export: ids, hashes, event texts and wrapped keys only.
    for (let k = 1; k <= 20; k++) {
      assert.ok(!text.includes(`"v${k}"`) && !text.includes(`\\"v${k}\\"`), `value v${k}`);
    }
    assert.ok(!text.includes(ork) && !text.includes(ork.slice(-24)), 'the ORK');
    const lines = text.trimEnd().split('\n');
    assert.equal(JSON.parse(lines[0]!).exportId, exportId);
    const events = lines.map((l) => JSON.parse(l)).filter((l) => l.type === 'event');
    assert.ok(events.length >= 20, 'the traffic before the cut');
    assert.ok(events.every((e) => Date.parse(JSON.parse(e.event).time) < cut.getTime()));
    // Every exported event is one stored row, byte for byte.
    const sample = events[Math.floor(events.length / 2)];
    const [stored] = await fleet.pg.adminQuery<{ event: string; hash: string }>(
      "select event, encode(hash, 'hex') as hash from sidekey_audit_log where chain_id = $1 and seq = $2",
      [sample.chainId, sample.seq],
    );
    assert.deepEqual(stored, { event: sample.event, hash: sample.hash });

    const verified = await must(['audit', 'verify', '--file', file]);
    assert.match(
      verified.stderr,
      new RegExp(`verified export ${exportId}: \\d+ chain\\(s\\), ${events.length} events`),
    );

    const rowsBefore = await count();
    const pruned = await must(['audit', 'prune', '--until', cut.toISOString(), '--yes']);
    assert.match(pruned.stderr, /pruned \d+ events of \d+ chain\(s\).*\(2 partition\(s\) dropped\)/);
    // The two simulated past days were dropped whole; the default partition's old row deleted.
    assert.ok(!(await exists(dayName(tenDaysAgo))));
    assert.ok(!(await exists(dayName(nineDaysAgo))));
    assert.equal(
      await count(`sidekey_audit_log where chain_id = '${pastChain}'`),
      0,
      'every event of the past chain was before the cut',
    );
    assert.equal(
      await count(`sidekey_audit_log where event_time < '${cut.toISOString()}'`),
      0,
      'nothing before the cut is left (every chain was exported)',
    );
    assert.ok((await count()) < rowsBefore);

    const live = await must(['audit', 'verify', '--json']);
    const reports = JSON.parse(live.stdout) as {
      chainId: string;
      ok: boolean;
      anchorSeq?: number;
      events: number;
    }[];
    assert.ok(reports.every((r) => r.ok));
    assert.ok(
      reports.some((r) => r.anchorSeq !== undefined && r.events > 0),
      'a sidecar chain verified from its anchor',
    );

    // The next export starts each chain at its anchor and verifies on its own too.
    await until('more traffic', () => traffic.ok >= 100);
    const second = join(dir, 'second.jsonl');
    await must(['audit', 'export', '--until', new Date().toISOString(), '--out', second]);
    const summary = JSON.parse((await must(['audit', 'verify', '--file', second, '--json'])).stdout) as {
      chains: { chainId: string; afterSeq: number }[];
    };
    const anchors = await store.auditLog.anchors();
    const continued = summary.chains.filter((c) =>
      anchors.some((a) => a.chainId === c.chainId && a.seq === c.afterSeq),
    );
    assert.ok(continued.length > 0, 'a chain of the second export starts at its anchor');
    assert.deepEqual(traffic.failed, [], 'no call failed while exporting and pruning');

    // Events before a cut that no export holds: refused, naming the newest export and the command to run.
    const day = utcMidnight(Date.now() - 15 * DAY);
    await chainWithTimes([new Date(day.getTime() + 1000).toISOString()]);
    const anchorCount = await count('sidekey_audit_anchors');
    const cut2 = new Date(day.getTime() + DAY).toISOString();
    const refused = await ops(['audit', 'prune', '--until', cut2, '--yes']);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(
        `no export covers the events before ${cut2}: run \`sidekey audit export --until ${cut2} --out <file>\` first \\(the newest, [0-9a-f]{32}, reaches`,
      ),
    );
    assert.equal(await count('sidekey_audit_anchors'), anchorCount, 'nothing changed');
    assert.equal(await count(`sidekey_audit_prunes where state = 'running'`), 0);
  });

  it('verify --file names the first broken line of a tampered or truncated export', async () => {
    const file = join(dir, 'second.jsonl');
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    // An event followed by another of its chain (a chain's last event is covered by the end record's counts).
    const i = lines.findIndex(
      (l, n) => n > 5 && l.includes('"type":"event"') && (lines[n + 1] ?? '').includes('"type":"event"'),
    );
    assert.ok(i > 0);
    const variants: [string, string[], RegExp][] = [
      [
        'edited event',
        lines.map((l, n) => (n === i ? l.replace('\\"outcome\\"', '\\"0utcome\\"') : l)),
        new RegExp(`line ${i + 1}: chain [0-9a-f]+: event \\d+ was altered`),
      ],
      [
        'deleted line',
        lines.filter((_, n) => n !== i),
        new RegExp(`line ${i + 1}: chain [0-9a-f]+: event \\d+ is missing`),
      ],
      ['truncated', lines.slice(0, i), new RegExp(`line ${i + 1}: the end record is missing`)],
      ['cut mid-line', [...lines.slice(0, i), lines[i]!.slice(0, 40)], new RegExp(`line ${i + 1}: not JSON`)],
      ['not an export', ['{"hello":1}'], /line 1: an unknown record type/],
    ];
    for (const [label, content, message] of variants) {
      const f = join(dir, `tampered-${label.replaceAll(' ', '-')}.jsonl`);
      writeFileSync(f, `${content.join('\n')}\n`);
      const r = await ops(['audit', 'verify', '--file', f]);
      assert.equal(r.code, 1, label);
      assert.match(r.stderr, message, label);
    }
  });

  it('partitions roll over across a (simulated) day boundary without a failed write', async () => {
    // Events on both sides of midnight of day +3 and of day +9 (partitions rolled ahead, as the
    // daemon does hourly), and of day +12 (none: the default partition), written while another
    // roller creates later days concurrently and the sidecars keep serving.
    assert.ok((await rollAuditPartitions(store.auditLog, new Date(), 9)) >= 1, 'day +8 and +9 created');
    const d3 = utcMidnight(Date.now() + 3 * DAY).getTime();
    const d9 = utcMidnight(Date.now() + 9 * DAY).getTime();
    const d12 = utcMidnight(Date.now() + 12 * DAY).getTime();
    const times = [d3 - 2, d3 - 1, d3, d3 + 1, d9 - 1, d9, d9 + 1, d12 + 1].map((t) =>
      new Date(t).toISOString(),
    );
    const failedBefore = traffic.failed.length;
    const rolling = (async () => {
      let created = 0;
      for (let i = 0; i < 5; i++)
        created += await rollAuditPartitions(store.auditLog, new Date(d12 + DAY), 5);
      return created;
    })();
    const chain = await chainWithTimes(times);
    assert.equal(await rolling, 6, 'days +13 … +18 created once, while events were written');
    const where = await fleet.pg.adminQuery<{ p: string }>(
      'select tableoid::regclass::text as p from sidekey_audit_log where chain_id = $1 order by seq',
      [chain],
    );
    const p = (t: number) => dayName(new Date(t));
    assert.deepEqual(
      where.map((r) => r.p),
      [p(d3 - DAY), p(d3 - DAY), p(d3), p(d3), p(d9 - DAY), p(d9), p(d9), 'sidekey_audit_log_default'],
      'each event in its own day’s partition; a day without one in the default partition',
    );
    assert.equal(traffic.failed.length, failedBefore);
    const live = JSON.parse((await must(['audit', 'verify', '--json'])).stdout) as { ok: boolean }[];
    assert.ok(live.every((r) => r.ok));
  });

  it('a prune killed with SIGKILL is finished by the next run, and verify passes', async () => {
    // A past day with its own partition, exported; its partition held so the prune stops mid-way.
    const day = utcMidnight(Date.now() - 20 * DAY);
    await store.auditLog.rollForward(day, 0);
    const chain = await chainWithTimes(
      Array.from({ length: 50 }, (_, i) => new Date(day.getTime() + 1000 * (i + 1)).toISOString()),
    );
    const cut = new Date(day.getTime() + DAY);
    await must(['audit', 'export', '--until', cut.toISOString(), '--out', join(dir, 'third.jsonl')]);

    const env = {
      SIDEKEY_DATA_DIR: fleet.opsDir,
      SIDEKEY_LOG_LEVEL: 'error',
      ...postgresEnv(fleet.pg, OPERATOR_ROLE),
    };
    // SHARE mode: reads go on (the prune plans and records its anchors), deletes and DROP wait.
    const holder = await fleet.pg.adminClient();
    let killed = false;
    try {
      await holder.query('begin');
      await holder.query(`lock table ${dayName(day)} in share mode`);
      const child = spawnSidekey(['audit', 'prune', '--until', cut.toISOString(), '--yes'], env);
      await until(
        'the prune recorded as running',
        async () => (await count(`sidekey_audit_prunes where state = 'running'`)) === 1,
        30_000,
      );
      child.proc.kill('SIGKILL');
      const exit = await child.exited;
      killed = exit.signal === 'SIGKILL';
    } finally {
      await holder.query('rollback').catch(() => {});
      await holder.end().catch(() => {});
    }
    assert.ok(killed, 'the prune was killed mid-way');
    assert.equal(await count(`sidekey_audit_log where chain_id = '${chain}'`), 50, 'nothing removed yet');
    // The live chain already verifies from its anchor (the events at or below it are skipped).
    await must(['audit', 'verify']);

    const rerun = await must(['audit', 'prune', '--until', cut.toISOString(), '--yes']);
    assert.match(rerun.stderr, /finished the interrupted prune [0-9a-f]{32}/);
    assert.equal(await count(`sidekey_audit_log where chain_id = '${chain}'`), 0);
    assert.ok(!(await exists(dayName(day))), 'its partition was dropped whole');
    assert.equal(await count(`sidekey_audit_prunes where state = 'running'`), 0);
    await must(['audit', 'verify']);
    assert.deepEqual(traffic.failed, []);
  });
});
