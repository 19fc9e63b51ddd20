/**
 * Data subjects on one daemon (issue 13), over the real HTTP listener and
 * gRPC socket with the embedded store: values bound to a subject read back
 * until `forget`, then answer FAILED_PRECONDITION per item while everything
 * else stays readable; deterministic tokens include the subject; a
 * forgotten id used again gets a new key; bad input is INVALID_ARGUMENT and
 * stores nothing; an ORK without `forget` is PERMISSION_DENIED; the CLI
 * forgets too; no subject id reaches the metrics and no value the logs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { grpcStatusOf } from '../../src/errors/index.js';
import type { SidekeyClient } from '../../src/transport/grpc/generated/sidekey/v1/Sidekey.js';
import { asJson, callGrpc, sidekeyClient } from '../grpc/support.js';
import { sidekey } from '../support/cli.js';
import { capturedLogs, freshDataDir, startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { call, post } from '../support/http.js';

const T = 'demo';
let d: TestDaemon;
let dataDir: string;
let limited: string;
let grpc: SidekeyClient;

async function cli(args: string[]) {
  const r = await sidekey(args, { SIDEKEY_DATA_DIR: dataDir });
  assert.equal(r.code, 0, `sidekey ${args.join(' ')}: ${r.stderr}`);
  return r;
}

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies
async function ok(path: string, body: object, ork = d.ork): Promise<any> {
  const r = await post(d.url, path, ork, body);
  assert.equal(r.status, 200, `${path}: ${r.status} ${r.text}`);
  return r.body;
}
const tokenize = async (field: string, values: string[], subject?: string) =>
  (await ok('/v1/tokenize', { tenant: T, field, values, ...(subject && { subject }) })).tokens as string[];
const detokenize = async (tokens: string[], field?: string) =>
  (await ok('/v1/detokenize', { tenant: T, tokens, ...(field && { field }) })).results as {
    value?: string;
    error?: { code: string };
  }[];
const encrypt = async (plaintexts: string[], subject?: string) =>
  (await ok('/v1/encrypt', { tenant: T, field: 'note', plaintexts, ...(subject && { subject }) }))
    .ciphertexts as string[];
const decrypt = async (ciphertexts: string[]) =>
  (await ok('/v1/decrypt', { tenant: T, field: 'note', ciphertexts })).results as {
    plaintext?: string;
    error?: { code: string };
  }[];
const forget = async (subjects: string[], ork = d.ork) =>
  (await ok('/v1/subjects/forget', { tenant: T, subjects }, ork)).forgotten as number;

before(async () => {
  dataDir = await freshDataDir();
  const first = await startTestDaemon({}, { dataDir });
  await first.stop();
  await cli(['policy', 'set', '--tenant', T, '--field', 'email', '--kind', 'deterministic']);
  await cli(['policy', 'set', '--tenant', T, '--field', 'card', '--kind', 'fpe', '--alphabet', 'digits']);
  limited = (await cli(['ork', 'issue', '--tenant', T, '--allow', 'tokenize,detokenize'])).stdout.trim();
  d = await startTestDaemon({}, { dataDir });
  grpc = sidekeyClient(d.daemon.grpcSocket);
});
after(async () => {
  grpc?.close();
  await d?.destroy();
});

describe('data subjects', () => {
  it('a subject’s tokens and ciphertexts read back until forget, then FAILED_PRECONDITION per item; others untouched', async () => {
    const [alice] = await tokenize('name', ['Alice A.'], 'user-1');
    const [bob] = await tokenize('name', ['Bob B.'], 'user-2');
    const [plain] = await tokenize('name', ['No Subject']);
    const [aliceCt] = await encrypt(['alice secret'], 'user-1');
    const [plainCt] = await encrypt(['plain secret']);
    assert.deepEqual(
      (await detokenize([alice!, bob!, plain!])).map((r) => r.value),
      ['Alice A.', 'Bob B.', 'No Subject'],
    );
    assert.deepEqual(
      (await decrypt([aliceCt!, plainCt!])).map((r) => r.plaintext),
      ['alice secret', 'plain secret'],
    );

    assert.equal(await forget(['user-1']), 1);
    const after = await detokenize([alice!, bob!, plain!]);
    assert.equal(after[0]?.error?.code, 'FAILED_PRECONDITION');
    assert.equal(after[1]?.value, 'Bob B.');
    assert.equal(after[2]?.value, 'No Subject');
    const ct = await decrypt([aliceCt!, plainCt!]);
    assert.equal(ct[0]?.error?.code, 'FAILED_PRECONDITION');
    assert.equal(ct[1]?.plaintext, 'plain secret');
    // Idempotent, and an unknown subject counts 0.
    assert.equal(await forget(['user-1', 'never-seen']), 0);
  });

  it('a forgotten id used again gets a new key: new values read, old ones stay unreadable', async () => {
    const [old] = await tokenize('name', ['before'], 'reuse@example');
    assert.equal(await forget(['reuse@example']), 1);
    const [fresh] = await tokenize('name', ['after'], 'reuse@example');
    const r = await detokenize([old!, fresh!]);
    assert.equal(r[0]?.error?.code, 'FAILED_PRECONDITION');
    assert.equal(r[1]?.value, 'after');
    const rows = await d.daemon.store.getTokens([old!, fresh!]);
    const ids = new Set(rows.map((x) => x.subjectKeyId));
    assert.equal(ids.size, 2, 'two different subject keys');
  });

  it('deterministic tokens include the subject and stop resolving after forget; fpe refuses a subject', async () => {
    const [none] = await tokenize('email', ['carol@example.com']);
    const [s1a, s1b] = await tokenize('email', ['carol@example.com', 'carol@example.com'], 'det-1');
    const [s2] = await tokenize('email', ['carol@example.com'], 'det-2');
    assert.equal(s1a, s1b, 'deterministic within a subject');
    assert.notEqual(s1a, none);
    assert.notEqual(s1a, s2);
    assert.deepEqual((await tokenize('email', ['carol@example.com'], 'det-1'))[0], s1a);
    assert.equal(await forget(['det-1']), 1);
    const r = await detokenize([s1a!, s2!, none!]);
    assert.equal(r[0]?.error?.code, 'FAILED_PRECONDITION');
    assert.equal(r[1]?.value, 'carol@example.com');
    assert.equal(r[2]?.value, 'carol@example.com');
    // A new key: a new token for the same value, readable.
    const [again] = await tokenize('email', ['carol@example.com'], 'det-1');
    assert.notEqual(again, s1a);
    assert.equal((await detokenize([again!]))[0]?.value, 'carol@example.com');

    const fpe = await post(d.url, '/v1/tokenize', d.ork, {
      tenant: T,
      field: 'card',
      values: ['4111111111111111'],
      subject: 'det-2',
    });
    assert.equal(fpe.status, 400);
    assert.equal(fpe.body.error.code, 'INVALID_ARGUMENT');
    const fresh = await post(d.url, '/v1/tokenize', d.ork, {
      tenant: T,
      field: 'card',
      values: ['4111111111111111'],
      subject: 'fpe-only',
    });
    assert.equal(fresh.status, 400);
    assert.equal(
      await d.daemon.store.getSubjectKey(T, 'fpe-only'),
      undefined,
      'a refused call makes no subject key',
    );
  });

  it('over gRPC: subject on Tokenize and Encrypt (field 5), ForgetSubjects', async () => {
    const ork = d.ork;
    const t = await callGrpc(
      grpc,
      'Tokenize',
      { tenant: T, field: 'name', values: ['G'], subject: 'grpc-1' },
      { ork },
    );
    assert.ok(t.ok);
    const tokens = (asJson(t.response) as { tokens: string[] }).tokens;
    const e = await callGrpc(
      grpc,
      'Encrypt',
      { tenant: T, field: 'note', plaintexts: ['g'], subject: 'grpc-1' },
      { ork },
    );
    assert.ok(e.ok);
    const f = await callGrpc(grpc, 'ForgetSubjects', { tenant: T, subjects: ['grpc-1'] }, { ork });
    assert.ok(f.ok);
    assert.deepEqual(asJson(f.response), { forgotten: 1 });
    assert.equal((await detokenize(tokens))[0]?.error?.code, 'FAILED_PRECONDITION');
    const bad = await callGrpc(grpc, 'ForgetSubjects', { tenant: T, subjects: [] }, { ork });
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.code, grpcStatusOf('INVALID_ARGUMENT'));
  });

  it('bad input is INVALID_ARGUMENT (naming the index) and stores nothing', async () => {
    const before = await countRows();
    const cases: [string, object, RegExp][] = [
      ['/v1/tokenize', { tenant: T, field: 'name', values: ['x'], subject: 'has space' }, /subject must/],
      ['/v1/tokenize', { tenant: T, field: 'name', values: ['x'], subject: '-leading' }, /subject must/],
      ['/v1/tokenize', { tenant: T, field: 'name', values: ['x'], subject: 'x'.repeat(129) }, /subject must/],
      ['/v1/tokenize', { tenant: T, field: 'name', values: ['x'], subject: 7 }, /subject must/],
      ['/v1/encrypt', { tenant: T, field: 'note', plaintexts: ['x'], subject: 'a,b' }, /subject must/],
      ['/v1/subjects/forget', { tenant: T, subjects: [] }, /must not be empty/],
      ['/v1/subjects/forget', { tenant: T, subjects: ['ok', 'bad id'] }, /subjects\[1\]/],
      ['/v1/subjects/forget', { tenant: T, subjects: ['ok', 3] }, /subjects\[1\]/],
      [
        '/v1/subjects/forget',
        { tenant: T, subjects: Array.from({ length: 1001 }, (_, i) => `s${i}`) },
        /limit/,
      ],
      ['/v1/subjects/forget', { tenant: T }, /subjects must be an array/],
    ];
    for (const [path, body, message] of cases) {
      const r = await post(d.url, path, d.ork, body);
      assert.equal(r.status, 400, `${path} ${JSON.stringify(body).slice(0, 80)}: ${r.text}`);
      assert.equal(r.body.error.code, 'INVALID_ARGUMENT');
      assert.match(r.body.error.message, message);
    }
    assert.deepEqual(await countRows(), before);
  });

  it('an ORK without `forget` in its scope is PERMISSION_DENIED and forgets nothing', async () => {
    const [tok] = await tokenize('name', ['kept'], 'scoped-1');
    const r = await post(d.url, '/v1/subjects/forget', limited, { tenant: T, subjects: ['scoped-1'] });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'PERMISSION_DENIED');
    assert.equal((await detokenize([tok!]))[0]?.value, 'kept');
  });

  it('`sidekey subject forget` forgets, audits the subject ids, and is idempotent', async () => {
    const [tok] = await tokenize('name', ['via cli'], 'cli-1');
    await d.stop();
    const r = await cli(['subject', 'forget', '--tenant', T, '--json', 'cli-1', 'cli-unknown']);
    assert.deepEqual(JSON.parse(r.stdout), { tenant: T, subjects: 2, forgotten: 1 });
    const again = await cli(['subject', 'forget', '--tenant', T, 'cli-1']);
    assert.match(again.stdout, /forgot 0 of 1 subject/);
    const bad = await sidekey(['subject', 'forget', '--tenant', T, 'bad id'], { SIDEKEY_DATA_DIR: dataDir });
    assert.equal(bad.code, 2);
    const none = await sidekey(['subject', 'forget', '--tenant', T], { SIDEKEY_DATA_DIR: dataDir });
    assert.equal(none.code, 2);
    d = await startTestDaemon({}, { dataDir });
    grpc.close();
    grpc = sidekeyClient(d.daemon.grpcSocket);
    assert.equal((await detokenize([tok!]))[0]?.error?.code, 'FAILED_PRECONDITION');
    const audit = await auditTexts();
    assert.ok(
      audit.some((e) => e.includes('"operation":"subject.forget"') && e.includes('cli-1,cli-unknown')),
      'the CLI audit event names the subjects',
    );
    assert.ok(audit.some((e) => e.includes('"operation":"forget"') && e.includes('user-1')));
  });

  it('no subject id in the metrics, no value in the logs', async () => {
    const metrics = await call(d.url, '/metrics');
    for (const s of ['user-1', 'user-2', 'det-1', 'reuse@example', 'cli-1'])
      assert.ok(!metrics.text.includes(s), `metrics name ${s}`);
    const logs = capturedLogs.join('');
    for (const v of ['Alice A.', 'alice secret', 'carol@example.com', 'via cli'])
      assert.ok(!logs.includes(v));
  });
});

async function countRows(): Promise<{ tokens: number; subjects: number }> {
  const [c] = await d.daemon.store.subjectCounts(T);
  const status = await d.daemon.store.keyStatus(T);
  return { tokens: status.reduce((n, s) => n + s.records, 0), subjects: c?.subjects ?? 0 };
}

async function auditTexts(): Promise<string[]> {
  const out: string[] = [];
  for (const chain of await d.daemon.store.listAuditChains())
    for (const e of await d.daemon.store.readAuditEvents(chain.chainId, 0, 10_000)) out.push(e.event);
  return out;
}
