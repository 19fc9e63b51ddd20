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
    'select chain_id, count(*)::int as n from sidekey_audit_events group by chain_id order by n desc limit 1',
  );
  await db.close();
  chainId = r.rows[0]!.chain_id;
  assert.ok(r.rows[0]!.n >= 4, 'every operation, failed ones included, was audited');
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
      "select seq::int as seq, encode(hash, 'hex') as hash, event from sidekey_audit_events where chain_id = $1 order by seq",
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
    const r = await db.query<{ event: string }>('select event from sidekey_audit_events');
    await db.close();
    const all = r.rows.map((x) => x.event).join('\n');
    for (const v of ['"one"', '"two"', '"three"']) assert.ok(!all.includes(v));
    assert.match(all, /"purpose":"audit test"/);
    assert.match(all, /"outcome":"UNAUTHENTICATED"/);
  });

  const cases: [string, string, RegExp][] = [
    [
      'an edited event',
      `update sidekey_audit_events set event = replace(event, '"outcome":"ok"', '"outcome":"PERMISSION_DENIED"') where seq = 2 and chain_id = '{chain}'`,
      /event 2 was altered/,
    ],
    [
      'a deleted event',
      `delete from sidekey_audit_events where seq = 2 and chain_id = '{chain}'`,
      /event 2 is missing/,
    ],
    [
      'reordered events',
      `update sidekey_audit_events a set event = b.event from sidekey_audit_events b
        where a.chain_id = '{chain}' and b.chain_id = a.chain_id and ((a.seq = 2 and b.seq = 3) or (a.seq = 3 and b.seq = 2))`,
      /event 2 was altered/,
    ],
    [
      'events renumbered to hide a deletion',
      `delete from sidekey_audit_events where seq = 2 and chain_id = '{chain}';
       update sidekey_audit_events set seq = seq - 1 where seq > 2 and chain_id = '{chain}'`,
      /event 2 does not follow event 1/,
    ],
  ];
  for (const [name, sql, expected] of cases) {
    it(`fails on ${name}, naming where`, async () => {
      const dir = await tampered(sql.replaceAll('{chain}', chainId));
      const r = await sidekey(['audit', 'verify'], { SIDEKEY_DATA_DIR: dir });
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(chainId));
      assert.match(r.stderr, expected);
    });
  }
});
