/**
 * The audit chain: `sidekey audit verify` passes on an untouched store and
 * fails, naming the chain and the event, when a stored event is edited,
 * deleted or reordered.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { sidekey } from '../support/cli.js';
import { capturedLogs, startTestDaemon } from '../support/daemon.js';
import { post } from '../support/http.js';

let pristine: string;
const dirs: string[] = [];
let chainId = '';
/** The number of events in that chain: its sequence numbers are 1 … lastSeq. */
let lastSeq = 0;

before(async () => {
  const d = await startTestDaemon();
  pristine = d.dataDir;
  dirs.push(pristine);
  const t = await post(d.url, '/v1/tokenize', d.ork, { tenant: 'demo', field: 'f', values: ['one', 'two'] });
  await post(d.url, '/v1/detokenize', d.ork, {
    tenant: 'demo',
    tokens: t.body.tokens,
    purpose: 'audit test',
  });
  await post(d.url, '/v1/encrypt', d.ork, { tenant: 'demo', field: 'f', plaintexts: ['three'] });
  await post(d.url, '/v1/tokenize', undefined, { tenant: 'demo', field: 'f', values: ['x'] });
  await d.stop();
  const db = await PGlite.create(join(pristine, 'pgdata'));
  const r = await db.query<{ chain_id: string; n: number }>(
    'select chain_id, count(*)::int as n from sidekey_audit_log group by chain_id order by n desc limit 1',
  );
  await db.close();
  chainId = r.rows[0]!.chain_id;
  lastSeq = r.rows[0]!.n;
  assert.ok(lastSeq >= 4, 'every operation, failed ones included, was audited');
});

after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A copy of the pristine data directory with `sql` applied to its database. */
async function tampered(sql: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sidekey-audit-'));
  dirs.push(dir);
  cpSync(pristine, dir, { recursive: true });
  const db = await PGlite.create(join(dir, 'pgdata'));
  await db.exec(sql);
  await db.close();
  return dir;
}

describe('sidekey audit verify', () => {
  it('passes on an untouched store', async () => {
    const r = await sidekey(['audit', 'verify'], { SIDEKEY_DATA_DIR: pristine });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ok/m);
  });

  it('the log stream carries every stored event byte for byte, with its chain, seq and hash', async () => {
    const db = await PGlite.create(join(pristine, 'pgdata'));
    const r = await db.query<{ seq: number; hash: string; event: string }>(
      "select seq::int as seq, encode(hash, 'hex') as hash, event from sidekey_audit_log where chain_id = $1 order by seq",
      [chainId],
    );
    await db.close();
    const lines = capturedLogs
      .flatMap((chunk) => chunk.split('\n'))
      .filter((l) => l.includes('"name":"audit"') && l.includes(`"chain":"${chainId}"`));
    assert.equal(lines.length, r.rows.length, `one log line per stored event: ${lines.join('\n')}`);
    for (const row of r.rows) {
      const line = lines.find((l) => l.includes(`"seq":${row.seq},`));
      assert.ok(line !== undefined, `a log line for event ${row.seq}`);
      assert.ok(
        line.includes(`"audit":${row.event},"chain":"${chainId}","seq":${row.seq},"hash":"${row.hash}"}`),
        `event ${row.seq}: the log copy is the stored text, its hash the stored hash`,
      );
      const parsed = JSON.parse(line) as { level: number; name: string; pid: number; time: string };
      assert.equal(parsed.level, 30);
      assert.equal(parsed.name, 'audit');
      assert.ok(!Number.isNaN(Date.parse(parsed.time)));
    }
  });

  it('the stored events carry no value', async () => {
    const db = await PGlite.create(join(pristine, 'pgdata'));
    const r = await db.query<{ event: string }>('select event from sidekey_audit_log');
    await db.close();
    const all = r.rows.map((x) => x.event).join('\n');
    for (const v of ['"one"', '"two"', '"three"']) assert.ok(!all.includes(v));
    assert.match(all, /"purpose":"audit test"/);
    assert.match(all, /"outcome":"UNAUTHENTICATED"/);
  });

  // The first, a middle and the last event, each edited, deleted and reordered:
  // a verifier that skips any position (say, the hash check of event 1) fails here.
  const positions: [string, () => number][] = [
    ['the first', () => 1],
    ['a middle', () => Math.floor(lastSeq / 2)],
    ['the last', () => lastSeq],
  ];
  const where = (seq: number) => `chain_id = '{chain}' and seq = ${seq}`;
  const cases: [string, () => string, () => RegExp][] = [
    [
      'events renumbered to hide a deletion',
      () => `delete from sidekey_audit_log where ${where(2)};
       update sidekey_audit_log set seq = seq - 1 where seq > 2 and chain_id = '{chain}'`,
      () => /event 2 does not follow event 1/,
    ],
  ];
  for (const [label, seqOf] of positions) {
    cases.push(
      [
        `${label} event edited`,
        () =>
          `update sidekey_audit_log set event = replace(event, '"tenant":"demo"', '"tenant":"dem0"') where ${where(seqOf())}`,
        () => new RegExp(`event ${seqOf()} was altered`),
      ],
      [
        // Rows swapped with their neighbour (the last with the one before it).
        `${label} event reordered`,
        () => {
          const a = Math.min(seqOf(), lastSeq - 1);
          return `update sidekey_audit_log set seq = ${lastSeq + 1000} where ${where(a)};
            update sidekey_audit_log set seq = ${a} where ${where(a + 1)};
            update sidekey_audit_log set seq = ${a + 1} where ${where(lastSeq + 1000)}`;
        },
        () => new RegExp(`event ${Math.min(seqOf(), lastSeq - 1)} does not follow`),
      ],
      [
        `${label} event's content swapped with its neighbour's`,
        () => {
          const a = Math.min(seqOf(), lastSeq - 1);
          return `update sidekey_audit_log x set event = y.event from sidekey_audit_log y
            where x.chain_id = '{chain}' and y.chain_id = x.chain_id and ((x.seq = ${a} and y.seq = ${a + 1}) or (x.seq = ${a + 1} and y.seq = ${a}))`;
        },
        () => new RegExp(`event ${Math.min(seqOf(), lastSeq - 1)} was altered`),
      ],
    );
    if (label !== 'the last') {
      cases.push([
        `${label} event deleted`,
        () => `delete from sidekey_audit_log where ${where(seqOf())}`,
        () => new RegExp(`event ${seqOf()} is missing`),
      ]);
    }
  }
  for (const [name, sql, expected] of cases) {
    it(`fails on ${name}, naming where`, async () => {
      const dir = await tampered(sql().replaceAll('{chain}', chainId));
      const r = await sidekey(['audit', 'verify'], { SIDEKEY_DATA_DIR: dir });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(chainId));
      assert.match(r.stderr, expected());
    });
  }

  it('a deleted last event: no break to find (no anchor), but the chain reports one event fewer', async () => {
    // A hash chain alone cannot show that its tail was cut: verify reports each
    // chain's length, which an operator compares with the log stream's last seq
    // (docs/audit.md; docs/threat-model.md, "Repudiation").
    const dir = await tampered(
      `delete from sidekey_audit_log where ${where(lastSeq).replaceAll('{chain}', chainId)}`,
    );
    const r = await sidekey(['audit', 'verify'], { SIDEKEY_DATA_DIR: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`ok +chain ${chainId} \\(.*\\): ${lastSeq - 1} events`));
  });
});
