/**
 * Data subjects on a fleet (issue 13): two sidecars on the real PostgreSQL
 * (TLS, client certificates) and the real CLI.
 *
 * - `forget` racing tokenizations of the same subject on both sidecars:
 *   afterwards no value of that subject's old key is readable on either
 *   sidecar (cached keys and records dropped within seconds), and no
 *   tokenize sent after the forget returned was acknowledged under the
 *   destroyed key.
 * - A pg_dump of the token table taken before the forget, restored after it
 *   with the KEK and the ORK at hand: the subject's records stay unreadable
 *   (the dump itself still holds the wrapped subject key — the runbook says
 *   so), the others read back.
 * - `sidekey subject forget` killed with SIGKILL mid-run: a rerun completes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestDaemon } from '../support/daemon.js';
import { type Fleet, postgresEnv, postWithin, startFleet, until } from '../support/fleet.js';
import { pgDump } from '../support/pg-dump.js';
import { DATABASE, OPERATOR_ROLE } from '../support/postgres.js';
import { spawnSidekey } from '../support/process.js';

const T = 'people';
const TIMEOUT = 10_000;
/** How soon a forget must reach every sidecar. */
const PROPAGATION_MS = 3_000;
let fleet: Fleet;
let sidecars: TestDaemon[];
let ork: string;
const dir = mkdtempSync(join(tmpdir(), 'sidekey-subjects-'));

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies
async function ok(url: string, path: string, body: object): Promise<any> {
  const r = await postWithin(url, path, ork, body, TIMEOUT);
  assert.equal(r.status, 200, `${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}
const tokenize = async (url: string, values: string[], subject?: string) =>
  (await ok(url, '/v1/tokenize', { tenant: T, field: 'name', values, ...(subject && { subject }) }))
    .tokens as string[];
const codes = async (url: string, tokens: string[]) =>
  (
    (await ok(url, '/v1/detokenize', { tenant: T, tokens })).results as {
      value?: string;
      error?: { code: string };
    }[]
  ).map((r) => r.error?.code ?? r.value);
const keyIdOf = async (subject: string) =>
  (
    await fleet.pg.adminQuery<{ key_id: string }>(
      'select key_id from sidekey_subject_keys where tenant = $1 and subject = $2',
      [T, subject],
    )
  )[0]?.key_id;

before(async () => {
  fleet = await startFleet();
  await fleet.createTenant(T);
  ork = (await fleet.issueOrk(T)).ork;
  sidecars = [await fleet.startSidecar(), await fleet.startSidecar()];
});
after(async () => {
  await fleet?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('data subjects on two sidecars over PostgreSQL', () => {
  it('concurrent first uses on two sidecars end with one key', async () => {
    const [a, b] = await Promise.all(sidecars.map((s) => tokenize(s.url, ['first use'], 'first-use')));
    const rows = await fleet.pg.adminQuery<{ n: string }>(
      'select count(*) as n from sidekey_subject_keys where tenant = $1 and subject = $2',
      [T, 'first-use'],
    );
    assert.equal(Number(rows[0]?.n), 1);
    // Each sidecar reads the other's token: both used the one key.
    assert.deepEqual(await codes(sidecars[0]!.url, [b![0]!]), ['first use']);
    assert.deepEqual(await codes(sidecars[1]!.url, [a![0]!]), ['first use']);
  });

  it('forget racing tokenizations on both sidecars: nothing of the old key readable, nothing acknowledged under it after', async () => {
    const S = 'racer';
    // Both sidecars hold the subject's key and a record in their caches.
    const warm = await Promise.all(sidecars.map((s) => tokenize(s.url, ['warm'], S)));
    for (const s of sidecars) assert.deepEqual(await codes(s.url, warm.flat()), ['warm', 'warm']);
    const oldKey = await keyIdOf(S);
    assert.ok(oldKey);

    type Made = { token: string; sentAfterForget: boolean };
    const made: Made[] = [];
    let forgotten = false;
    let stop = false;
    let refused = 0;
    const loop = async (url: string) => {
      for (let i = 0; !stop; i++) {
        const sentAfterForget = forgotten;
        const r = await postWithin(
          url,
          '/v1/tokenize',
          ork,
          { tenant: T, field: 'name', values: [`v${i}`], subject: S },
          TIMEOUT,
        );
        if (r.status === 200)
          made.push({ token: (r.body as { tokens: string[] }).tokens[0]!, sentAfterForget });
        else {
          assert.equal(r.code, 'FAILED_PRECONDITION', JSON.stringify(r.body));
          refused++;
        }
      }
    };
    const loops = sidecars.map((s) => loop(s.url));
    await until('some tokenizations', () => made.length >= 20);
    const f = await ok(sidecars[0]!.url, '/v1/subjects/forget', { tenant: T, subjects: [S] });
    forgotten = true;
    assert.equal(f.forgotten, 1);
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(loops);

    // Within seconds every sidecar answers FAILED_PRECONDITION for the old values (cached records too).
    const elapsed = await until(
      'both sidecars refusing the forgotten subject',
      async () => {
        for (const s of sidecars)
          if ((await codes(s.url, warm.flat())).some((c) => c !== 'FAILED_PRECONDITION')) return false;
        return true;
      },
      PROPAGATION_MS,
    );
    assert.ok(elapsed <= PROPAGATION_MS);

    const rows = await fleet.pg.adminQuery<{ token: string; subject_key_id: string }>(
      'select token, subject_key_id from sidekey_tokens where token = any($1::text[])',
      [made.map((m) => m.token)],
    );
    const keyOf = new Map(rows.map((r) => [r.token, r.subject_key_id]));
    assert.equal(rows.length, made.length, 'every acknowledged tokenize is durable');
    for (const m of made) {
      if (m.sentAfterForget)
        assert.notEqual(
          keyOf.get(m.token),
          oldKey,
          'acknowledged under the destroyed key after the forget returned',
        );
    }
    const underOld = made.filter((m) => keyOf.get(m.token) === oldKey).map((m) => m.token);
    assert.ok(underOld.length >= 20);
    for (const s of sidecars)
      assert.deepEqual(
        new Set(await codes(s.url, underOld.slice(0, 1000))),
        new Set(['FAILED_PRECONDITION']),
      );
    // A new key for what came after (the id used again), readable everywhere.
    const newer = made.filter((m) => keyOf.get(m.token) !== oldKey).map((m) => m.token);
    for (const s of sidecars)
      for (const c of newer.length > 0 ? await codes(s.url, newer.slice(0, 1000)) : [])
        assert.notEqual(c, 'FAILED_PRECONDITION');
    assert.ok(refused + made.length > 20);
  });

  it('a pg_dump of the tokens taken before the forget stays unreadable after it, with the KEK and the ORK', async () => {
    const gone = await tokenize(sidecars[0]!.url, ['erase me', 'me too'], 'backup-1');
    const kept = await tokenize(sidecars[0]!.url, ['kept value'], 'backup-2');
    const plain = await tokenize(sidecars[0]!.url, ['no subject']);
    const all = [...gone, ...kept, ...plain];
    for (const s of sidecars)
      assert.deepEqual(await codes(s.url, all), ['erase me', 'me too', 'kept value', 'no subject']);
    const wrapped = (
      await fleet.pg.adminQuery<{ w: string }>(
        `select encode(wrapped_key, 'hex') as w from sidekey_subject_keys where tenant = $1 and subject = 'backup-1'`,
        [T],
      )
    )[0]!.w;
    const full = pgDump(fleet.pg);
    assert.ok(full.includes(wrapped), 'a full backup holds the wrapped subject key (docs/operations.md)');
    for (const v of ['erase me', 'me too', 'kept value'])
      assert.ok(!full.includes(v), `a value in the dump: ${v}`);
    assert.ok(!/tok_[A-Za-z0-9_-]{22}[^\n]*backup-1/.test(full), 'no token row names its subject');
    const tokensOnly = pgDump(fleet.pg, ['--data-only', '--inserts', '--table=sidekey_tokens']);
    const backup = join(dir, 'tokens.sql');
    writeFileSync(backup, tokensOnly);

    const r = await fleet.ops(['subject', 'forget', '--tenant', T, 'backup-1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /forgot 1 of 1 subject/);
    assert.match(r.stderr, /applied by 2 of 2/);
    const live = pgDump(fleet.pg);
    assert.ok(!live.includes(wrapped), 'the live database no longer holds the wrapped key');

    // Restore the token table from the backup over the live database.
    await fleet.pg.adminQuery('delete from sidekey_tokens');
    fleet.pg.psqlFile(backup, DATABASE);
    for (const s of sidecars) {
      const got = await codes(s.url, all);
      assert.deepEqual(got, ['FAILED_PRECONDITION', 'FAILED_PRECONDITION', 'kept value', 'no subject']);
    }
  });

  it('`sidekey subject forget` killed with SIGKILL mid-run: a rerun completes it', async () => {
    const [real] = await tokenize(sidecars[1]!.url, ['killed midway'], 'k-00000');
    const N = 30_000;
    await fleet.pg.adminQuery(
      `insert into sidekey_subject_keys (tenant, subject, key_id, kek_ref, wrapped_key)
       select $1, 'k-' || lpad(i::text, 5, '0'), md5('kill' || i), 'local:x', decode(repeat('ab', 61), 'hex')
         from generate_series(1, $2::int - 1) as i`,
      [T, N],
    );
    const count = async () =>
      Number(
        (
          await fleet.pg.adminQuery<{ n: string }>(
            `select count(*) as n from sidekey_subject_keys where tenant = $1 and subject like 'k-%'`,
            [T],
          )
        )[0]?.n,
      );
    assert.equal(await count(), N);
    const list = join(dir, 'subjects.txt');
    writeFileSync(
      list,
      `${Array.from({ length: N }, (_, i) => `k-${String(i).padStart(5, '0')}`).join('\n')}\n`,
    );
    const env = {
      SIDEKEY_DATA_DIR: fleet.opsDir,
      SIDEKEY_LOG_LEVEL: 'error',
      ...postgresEnv(fleet.pg, OPERATOR_ROLE),
    };
    const child = spawnSidekey(['subject', 'forget', '--tenant', T, '--from-file', list], env);
    await until('the first batches forgotten', async () => (await count()) < N, 60_000, 5);
    child.proc.kill('SIGKILL');
    const exit = await child.exited;
    assert.equal(exit.signal, 'SIGKILL');
    const left = await count();
    assert.ok(left > 0 && left < N, `killed mid-run (${left} of ${N} left)`);
    assert.equal(left % 1000, 0, 'each batch is all or nothing');

    const rerun = await fleet.ops(['subject', 'forget', '--tenant', T, '--json', '--from-file', list]);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.deepEqual(JSON.parse(rerun.stdout), { tenant: T, subjects: N, forgotten: left });
    assert.equal(await count(), 0);
    for (const s of sidecars) assert.deepEqual(await codes(s.url, [real!]), ['FAILED_PRECONDITION']);
  });
});
