/**
 * Data subjects through the key lifecycle (issue 13), with the real CLI on
 * the embedded store: `rotate tek` + `reencrypt` and `ork rotate` move a
 * subject's records keeping its key (still readable, still forgettable);
 * a forgotten subject's records are counted unreadable and stay so;
 * `keys status` counts subjects (never naming one); `tenant shred`
 * destroys every subject key.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { sidekey } from '../support/cli.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { post } from '../support/http.js';

const T = 'demo';
const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const f of cleanup) await f();
});

async function daemon(dataDir?: string): Promise<TestDaemon> {
  const d = await startTestDaemon({}, dataDir === undefined ? {} : { dataDir });
  cleanup.push(() => d.destroy());
  return d;
}

async function rows(dataDir: string) {
  const db = new PGlite(join(dataDir, 'pgdata'));
  try {
    return (
      await db.query<{ token: string; tek_version: number; ork_id: string; subject_key_id: string | null }>(
        'select token, tek_version, ork_id, subject_key_id from sidekey_tokens order by token',
      )
    ).rows;
  } finally {
    await db.close();
  }
}

describe('data subjects through the key lifecycle', () => {
  it('reencrypt and ork rotate keep subjects; a forgotten one stays unreadable; keys status counts; shred destroys', async () => {
    let d = await daemon();
    const { dataDir } = d;
    const env = { SIDEKEY_DATA_DIR: dataDir };
    const cli = async (args: string[]) => {
      const r = await sidekey(args, env);
      assert.equal(r.code, 0, `sidekey ${args.join(' ')}: ${r.stderr}`);
      return r;
    };
    const values = new Map<string, string>();
    const tokenize = async (ork: string, subject: string | undefined, vals: string[]) => {
      const r = await post(d.url, '/v1/tokenize', ork, {
        tenant: T,
        field: 'name',
        values: vals,
        ...(subject && { subject }),
      });
      assert.equal(r.status, 200, r.text);
      (r.body.tokens as string[]).forEach((t, i) => {
        values.set(t, vals[i]!);
      });
      return r.body.tokens as string[];
    };
    const read = async (ork: string, tokens: string[]) =>
      (await post(d.url, '/v1/detokenize', ork, { tenant: T, tokens })).body.results.map(
        (x: { value?: string; error?: { code: string } }) => x.value ?? x.error?.code,
      );

    const a = await tokenize(d.ork, 'ann', ['Ann 1', 'Ann 2']);
    const b = await tokenize(d.ork, 'ben', ['Ben 1']);
    const p = await tokenize(d.ork, undefined, ['Plain 1']);
    await d.stop();
    const before = await rows(dataDir);
    const keyOf = new Map(before.map((r) => [r.token, r.subject_key_id]));

    // rotate tek + reencrypt: every record to version 2, subject key ids kept.
    await cli(['rotate', 'tek', '--tenant', T, '--propagation-seconds', '0']);
    const orkFile = join(dataDir, 'demo.ork');
    const re = JSON.parse((await cli(['reencrypt', '--tenant', T, '--ork-file', orkFile])).stdout);
    assert.equal(re.moved, 4);
    assert.equal(re.unreadable, 0);
    for (const r of await rows(dataDir)) {
      assert.equal(r.tek_version, 2);
      assert.equal(r.subject_key_id, keyOf.get(r.token) ?? null);
    }
    const status = JSON.parse((await cli(['keys', 'status', '--tenant', T, '--json'])).stdout);
    assert.deepEqual(status[0].subjects, { keys: 2, records: 3 });
    assert.ok(!JSON.stringify(status).includes('ann'), 'keys status never names a subject');

    d = await daemon(dataDir);
    assert.deepEqual(await read(d.ork, [...a, ...b, ...p]), ['Ann 1', 'Ann 2', 'Ben 1', 'Plain 1']);
    // Forget ben, then rotate and re-encrypt again: ben's record is relabelled (erased, not unreadable).
    assert.equal(
      (await post(d.url, '/v1/subjects/forget', d.ork, { tenant: T, subjects: ['ben'] })).body.forgotten,
      1,
    );
    await d.stop();
    await cli(['rotate', 'tek', '--tenant', T, '--propagation-seconds', '0']);
    const re2 = JSON.parse((await cli(['reencrypt', '--tenant', T, '--ork-file', orkFile])).stdout);
    assert.equal(re2.moved, 3);
    assert.equal(re2.unreadable, 0);
    assert.equal(re2.forgotten, 1);
    assert.ok(
      (await rows(dataDir)).every((r) => r.tek_version === 3),
      'every record at version 3',
    );
    // Nothing holds back retiring the old versions: the forgotten record no longer uses them.
    await cli(['keys', 'retire', '--tenant', T, '--below', '3']);

    // ork rotate: subject records move to the new ORK, still readable with it.
    const newFile = join(dataDir, 'new.ork');
    const rot = await sidekey(
      ['ork', 'rotate', '--tenant', T, '--from-file', orkFile, '--new-ork-file', newFile],
      env,
    );
    assert.equal(rot.code, 0, rot.stderr);
    assert.match(rot.stderr, /"moved":3,"skipped":0,"unreadable":0,"forgotten":1/, rot.stderr);
    const newOrk = readFileSync(newFile, 'utf8').trim();
    d = await daemon(dataDir);
    assert.deepEqual(await read(newOrk, [...a, ...p]), ['Ann 1', 'Ann 2', 'Plain 1']);
    // Ben's record went with the others (relabelled): still FAILED_PRECONDITION, now for the new ORK.
    assert.deepEqual(await read(newOrk, b), ['FAILED_PRECONDITION']);
    // The subject still works and can still be forgotten after the moves.
    assert.equal(
      (await post(d.url, '/v1/subjects/forget', newOrk, { tenant: T, subjects: ['ann'] })).body.forgotten,
      1,
    );
    assert.deepEqual(await read(newOrk, [...a, ...p]), [
      'FAILED_PRECONDITION',
      'FAILED_PRECONDITION',
      'Plain 1',
    ]);
    await tokenize(newOrk, 'cat', ['Cat 1']);
    await d.stop();

    // tenant shred: every subject key overwritten and deleted.
    await cli(['tenant', 'shred', T, '--yes']);
    const db = new PGlite(join(dataDir, 'pgdata'));
    try {
      const n = await db.query<{ n: number }>('select count(*)::int as n from sidekey_subject_keys');
      assert.equal(n.rows[0]?.n, 0);
    } finally {
      await db.close();
    }
  });
});
