/**
 * Reveal controls on a fleet (issue 12): two sidecars on the real
 * PostgreSQL (TLS, client certificates), ORKs issued and scoped with the
 * real CLI. Every scope × operation over HTTP and gRPC; a scope change and
 * an `ork rotate` seen by both sidecars within 2 s; a masked-only ORK never
 * gets a value (responses, logs, audit events, metrics); a real short TTL
 * on both sidecars (cached records too); `tokens purge-expired` killed
 * with SIGKILL and resumed; bad CLI input changes nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { grpcStatusOf } from '../../src/errors/index.js';
import type { SidekeyClient } from '../../src/transport/grpc/generated/sidekey/v1/Sidekey.js';
import { asJson, callGrpc, type Method, sidekeyClient } from '../grpc/support.js';
import { capturedLogs, type TestDaemon } from '../support/daemon.js';
import { type Fleet, postgresEnv, postWithin, startFleet, until } from '../support/fleet.js';
import { call } from '../support/http.js';
import { OPERATOR_ROLE } from '../support/postgres.js';
import { spawnSidekey } from '../support/process.js';

const TENANT = 'scopes';
const TIMEOUT = 10_000;
/** How soon a change must reach every sidecar (issue 12). */
const PROPAGATION_MS = 2_000;
let fleet: Fleet;
let sidecars: TestDaemon[];
let clients: SidekeyClient[];
let full: { ork: string; orkId: string };
const dir = mkdtempSync(join(tmpdir(), 'sidekey-scopes-'));

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies
async function ok(url: string, path: string, ork: string, body: object): Promise<any> {
  const r = await postWithin(url, path, ork, body, TIMEOUT);
  assert.equal(r.status, 200, `${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}
const ops = async (args: string[]) => {
  const r = await fleet.ops(args);
  assert.equal(r.code, 0, `sidekey ${args.join(' ')}: ${r.stderr}`);
  return r;
};
const issue = async (label: string, ...scope: string[]) => {
  const r = await ops(['ork', 'issue', '--tenant', TENANT, '--label', label, ...scope]);
  const orkId = /issued ORK ([0-9a-f]{32})/.exec(r.stderr)?.[1];
  assert.ok(orkId);
  return { ork: r.stdout.trim(), orkId };
};
const orkList = async (): Promise<{ id: string; allow: string[]; reveal: string; label: string }[]> =>
  JSON.parse((await ops(['ork', 'list', '--tenant', TENANT, '--json'])).stdout);
// In the order the events happened: a table's physical order is not an order (each CLI call has its own chain).
const auditEvents = async () =>
  (
    await fleet.pg.adminQuery<{ event: string }>(
      'select event from sidekey_audit_log order by event_time, chain_id, seq',
    )
  ).map((r) => JSON.parse(r.event) as Record<string, unknown>);

before(async () => {
  fleet = await startFleet();
  await fleet.createTenant(TENANT);
  full = await issue('full');
  await ops(['policy', 'set', '--tenant', TENANT, '--field', 'email', '--mask', 'email']);
  await ops(['policy', 'set', '--tenant', TENANT, '--field', 'card', '--mask', 'last4']);
  sidecars = [await fleet.startSidecar(), await fleet.startSidecar()];
  clients = sidecars.map((s) => sidekeyClient(s.daemon.grpcSocket));
});
after(async () => {
  for (const c of clients ?? []) c.close();
  await fleet?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('ORK scopes on two sidecars over PostgreSQL', () => {
  it('every scope × operation over HTTP and gRPC: allowed or PERMISSION_DENIED for the whole call, audited', async () => {
    const s = sidecars[0]!;
    const tokens = (
      await ok(s.url, '/v1/tokenize', full.ork, {
        tenant: TENANT,
        field: 'card',
        values: ['4111111111111111'],
      })
    ).tokens as string[];
    const { ciphertexts } = await ok(s.url, '/v1/encrypt', full.ork, {
      tenant: TENANT,
      field: 'card',
      plaintexts: ['x'],
    });
    const requests: Record<Method, [string, object]> = {
      Tokenize: ['/v1/tokenize', { tenant: TENANT, field: 'card', values: ['5500000000000004'] }],
      Detokenize: ['/v1/detokenize', { tenant: TENANT, tokens }],
      Encrypt: ['/v1/encrypt', { tenant: TENANT, field: 'card', plaintexts: ['y'] }],
      Decrypt: ['/v1/decrypt', { tenant: TENANT, field: 'card', ciphertexts }],
      DeleteTokens: ['/v1/tokens/delete', { tenant: TENANT, tokens: ['tok_AAAAAAAAAAAAAAAAAAAAAA'] }],
    };
    const opOf: Record<Method, string> = {
      Tokenize: 'tokenize',
      Detokenize: 'detokenize',
      Encrypt: 'encrypt',
      Decrypt: 'decrypt',
      DeleteTokens: 'delete',
    };
    const scopes: [string, string[], (op: string) => boolean][] = [
      ...['tokenize', 'detokenize', 'encrypt', 'decrypt', 'delete', 'forget'].map(
        (only): [string, string[], (op: string) => boolean] => [
          `only ${only}`,
          ['--allow', only],
          (op) => op === only,
        ],
      ),
      ['reveal none', ['--reveal', 'none'], (op) => op !== 'detokenize' && op !== 'decrypt'],
      ['reveal masked', ['--reveal', 'masked'], () => true],
      ['default', [], () => true],
    ];
    let denials = 0;
    for (const [label, args, allowed] of scopes) {
      const k = await issue(label, ...args);
      for (const method of Object.keys(requests) as Method[]) {
        const [path, body] = requests[method];
        const http = await postWithin(s.url, path, k.ork, body, TIMEOUT);
        const grpc = await callGrpc(clients[0]!, method, body, { ork: k.ork });
        const what = `${label} × ${method}`;
        if (allowed(opOf[method])) {
          assert.equal(http.status, 200, `${what}: HTTP ${http.status} ${JSON.stringify(http.body)}`);
          assert.ok(grpc.ok, `${what}: gRPC ${grpc.ok ? '' : grpc.details}`);
        } else {
          denials++;
          assert.equal(http.status, 403, `${what}: HTTP ${http.status}`);
          assert.equal(http.code, 'PERMISSION_DENIED', what);
          assert.ok(!grpc.ok && grpc.code === grpcStatusOf('PERMISSION_DENIED'), `${what}: gRPC`);
          assert.equal(
            grpc.ok ? '' : grpc.details,
            (http.body as { error: { message: string } }).error.message,
          );
        }
      }
    }
    assert.equal(denials, 5 * 4 + 5 + 2, 'five single-op ORKs deny 4 each, forget-only 5, reveal none 2');
    const deniedEvents = async () =>
      (await auditEvents()).filter((e) => e.outcome === 'PERMISSION_DENIED' && e.tenant === TENANT);
    // Events of calls that reveal nothing are written by the group commit, a moment later.
    await until(
      'one audit event per denied call (HTTP and gRPC)',
      async () => (await deniedEvents()).length === denials * 2,
    );
    const denied = await deniedEvents();
    for (const e of denied) {
      assert.match(String(e.orkId), /^[0-9a-f]{32}$/);
      assert.ok(['tokenize', 'detokenize', 'encrypt', 'decrypt', 'delete'].includes(String(e.operation)));
      assert.ok(['allow', 'reveal'].includes(String((e.detail as { denied?: string }).denied)));
    }
  });

  it('ork list --json shows allow and reveal; bad --allow / --reveal: one line, exit 2, nothing changed', async () => {
    const k = await issue('listed', '--allow', 'tokenize,detokenize', '--reveal', 'masked');
    const listed = (await orkList()).find((o) => o.id === k.orkId);
    assert.deepEqual([listed?.allow, listed?.reveal], [['tokenize', 'detokenize'], 'masked']);
    assert.deepEqual((await orkList()).find((o) => o.id === full.orkId)?.allow, [
      'tokenize',
      'detokenize',
      'encrypt',
      'decrypt',
      'delete',
      'forget',
    ]);
    const count = (await orkList()).length;
    for (const args of [
      ['ork', 'issue', '--tenant', TENANT, '--allow', 'tokenise'],
      ['ork', 'issue', '--tenant', TENANT, '--allow', ''],
      ['ork', 'issue', '--tenant', TENANT, '--reveal', 'partial'],
      ['ork', 'scope', '--tenant', TENANT, k.orkId, '--allow', 'read'],
      ['ork', 'scope', '--tenant', TENANT, k.orkId, '--reveal', 'all'],
      ['ork', 'scope', '--tenant', TENANT, k.orkId],
      ['ork', 'scope', '--tenant', TENANT, 'not-an-id', '--reveal', 'none'],
      ['tokens', 'purge-expired', '--batch-size', '0'],
      ['tokens', 'purge-expired', '--tenant', 'Bad!'],
    ]) {
      const r = await fleet.ops(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    const unknown = await fleet.ops(['ork', 'scope', '--tenant', TENANT, 'f'.repeat(32), '--reveal', 'none']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no active ORK/);
    assert.equal((await orkList()).length, count, 'no ORK issued');
    const after = (await orkList()).find((o) => o.id === k.orkId);
    assert.deepEqual(
      [after?.allow, after?.reveal],
      [['tokenize', 'detokenize'], 'masked'],
      'scope unchanged',
    );
  });

  it('a scope change reaches both sidecars within 2 s (the ORK string is unchanged)', async () => {
    const k = await issue('changing');
    const toks = (
      await ok(sidecars[0]!.url, '/v1/tokenize', k.ork, {
        tenant: TENANT,
        field: 'email',
        values: ['ann@example.com'],
      })
    ).tokens as string[];
    const read = (s: TestDaemon) =>
      postWithin(s.url, '/v1/detokenize', k.ork, { tenant: TENANT, tokens: toks }, TIMEOUT);
    for (const s of sidecars)
      assert.deepEqual((await read(s)).body, { results: [{ value: 'ann@example.com' }] });

    await ops(['ork', 'scope', '--tenant', TENANT, k.orkId, '--reveal', 'masked']);
    for (const s of sidecars) {
      await until(
        'a masked reveal',
        async () =>
          JSON.stringify((await read(s)).body) ===
          JSON.stringify({ results: [{ value: 'a***@example.com', masked: true }] }),
        PROPAGATION_MS,
      );
    }
    await ops(['ork', 'scope', '--tenant', TENANT, k.orkId, '--allow', 'tokenize']);
    for (const s of sidecars) {
      await until('the refusal', async () => (await read(s)).code === 'PERMISSION_DENIED', PROPAGATION_MS);
    }
    const events = (await auditEvents()).filter((e) => e.operation === 'ork.scope' && e.orkId === k.orkId);
    assert.deepEqual(
      events.map((e) => (e.detail as { allow: string; reveal: string }).allow),
      ['tokenize,detokenize,encrypt,decrypt,delete,forget', 'tokenize'],
    );
  });

  it("ork rotate gives the new ORK the old one's scope; both sidecars serve it (masked) within 2 s", async () => {
    const old = await issue('support', '--allow', 'tokenize,detokenize', '--reveal', 'masked');
    const toks = (
      await ok(sidecars[1]!.url, '/v1/tokenize', old.ork, {
        tenant: TENANT,
        field: 'card',
        values: ['4000056655665556'],
      })
    ).tokens as string[];
    const oldFile = join(dir, 'support.ork');
    const newFile = join(dir, 'support-new.ork');
    writeFileSync(oldFile, `${old.ork}\n`, { mode: 0o600 });
    const rotated = await ops([
      'ork',
      'rotate',
      '--tenant',
      TENANT,
      '--from-file',
      oldFile,
      '--new-ork-file',
      newFile,
    ]);
    const newOrk = rotated.stdout.trim();
    const listed = await orkList();
    const newId = listed.find((o) => o.label === `replaces ${old.orkId}`)?.id;
    const entry = listed.find((o) => o.id === newId);
    assert.deepEqual([entry?.allow, entry?.reveal], [['tokenize', 'detokenize'], 'masked']);
    const want = JSON.stringify({ results: [{ value: '************5556', masked: true }] });
    for (const s of sidecars) {
      await until(
        'the new ORK reading the moved record, masked',
        async () =>
          JSON.stringify(
            (await postWithin(s.url, '/v1/detokenize', newOrk, { tenant: TENANT, tokens: toks }, TIMEOUT))
              .body,
          ) === want,
        PROPAGATION_MS,
      );
      const enc = await postWithin(
        s.url,
        '/v1/encrypt',
        newOrk,
        { tenant: TENANT, field: 'card', plaintexts: ['z'] },
        TIMEOUT,
      );
      assert.equal(enc.code, 'PERMISSION_DENIED');
    }
  });
});

describe('a masked-only ORK never gets a value', () => {
  it('not in a response (HTTP, gRPC, errors), a log line, an audit event or /metrics', async () => {
    const support = await issue(
      'support console',
      '--allow',
      'tokenize,detokenize,encrypt,decrypt,delete',
      '--reveal',
      'masked',
    );
    const secrets = ['zeta.secret.local@example.com', 'omega.hidden.part@example.org'];
    const [s1, s2] = sidecars as [TestDaemon, TestDaemon];
    const responses: string[] = [];
    const record = (x: unknown) => responses.push(JSON.stringify(x));
    const toks = (
      await ok(s1.url, '/v1/tokenize', support.ork, { tenant: TENANT, field: 'email', values: secrets })
    ).tokens as string[];
    const { ciphertexts } = await ok(s2.url, '/v1/encrypt', support.ork, {
      tenant: TENANT,
      field: 'email',
      plaintexts: secrets,
    });
    for (const s of [s1, s2]) {
      for (const mask of [undefined, false, true, 'no']) {
        const extra = mask === undefined ? {} : { mask };
        for (const [path, body] of [
          ['/v1/detokenize', { tenant: TENANT, tokens: toks, ...extra }],
          ['/v1/detokenize', { tenant: TENANT, field: 'email', tokens: [...toks, ...secrets], ...extra }],
          ['/v1/decrypt', { tenant: TENANT, field: 'email', ciphertexts, ...extra }],
          ['/v1/decrypt', { tenant: TENANT, field: 'other', ciphertexts, ...extra }],
        ] as const) {
          const r = await postWithin(s.url, path, support.ork, body, TIMEOUT);
          record(r.body);
          if (mask !== 'no') assert.equal(r.status, 200, JSON.stringify(r.body));
        }
      }
    }
    for (const c of clients) {
      for (const mask of [false, true]) {
        const d = await callGrpc(
          c,
          'Detokenize',
          { tenant: TENANT, tokens: toks, mask },
          { ork: support.ork },
        );
        assert.ok(d.ok);
        record(asJson(d.response));
        const p = await callGrpc(
          c,
          'Decrypt',
          { tenant: TENANT, field: 'email', ciphertexts, mask },
          { ork: support.ork },
        );
        assert.ok(p.ok);
        record(asJson(p.response));
      }
    }
    const masked = responses.filter((r) => r.includes('"masked":true'));
    assert.ok(
      masked.some((r) => r.includes('z***@example.com')),
      'the masked form does come back',
    );
    const metrics = await Promise.all(sidecars.map(async (s) => (await call(s.url, '/metrics')).text));
    const audit = JSON.stringify(await auditEvents());
    const everything = {
      responses: responses.join('\n'),
      logs: capturedLogs.join(''),
      audit,
      metrics: metrics.join('\n'),
    };
    for (const secret of secrets) {
      const local = secret.split('@')[0]!;
      for (const [where, text] of Object.entries(everything)) {
        assert.ok(!text.includes(secret), `a value in ${where}`);
        assert.ok(!text.includes(local), `a value's local part in ${where}`);
      }
    }
    const supportReveals = async () =>
      (await auditEvents()).filter(
        (e) =>
          e.orkId === support.orkId &&
          (e.operation === 'detokenize' || e.operation === 'decrypt') &&
          e.outcome === 'ok',
      );
    // With the audit spool (ADR-17) a reveal's event reaches the store a moment after the answer.
    await until('the audit events of the reveals', async () => (await supportReveals()).length >= 16);
    const reveals = await supportReveals();
    assert.ok(reveals.length >= 16);
    assert.ok(
      reveals.every((e) => (e.detail as { masked?: boolean } | undefined)?.masked === true),
      'every reveal audited as masked',
    );
  });
});

describe('expiry on the fleet', () => {
  it('a 1 s TTL: readable on both sidecars, then NOT_FOUND on both (their cached records too)', async () => {
    const [s1, s2] = sidecars as [TestDaemon, TestDaemon];
    const toks = (
      await ok(s1.url, '/v1/tokenize', full.ork, {
        tenant: TENANT,
        field: 'note',
        values: ['short-lived'],
        ttlSeconds: 1,
      })
    ).tokens as string[];
    const read = (s: TestDaemon) =>
      postWithin(s.url, '/v1/detokenize', full.ork, { tenant: TENANT, tokens: toks }, TIMEOUT);
    const gone = JSON.stringify({ results: [{ error: { code: 'NOT_FOUND', message: 'token not found' } }] });
    const first = await Promise.all([read(s1), read(s2)]);
    // On a loaded machine the second may already have passed: readable or gone, nothing else.
    for (const r of first)
      assert.ok(
        [JSON.stringify({ results: [{ value: 'short-lived' }] }), gone].includes(JSON.stringify(r.body)),
      );
    for (const s of [s1, s2])
      await until('the token to expire', async () => JSON.stringify((await read(s)).body) === gone, TIMEOUT);
    const [row] = await fleet.pg.adminQuery<{ n: string }>(
      `select count(*) as n from sidekey_tokens where token = $1 and expires_at is not null`,
      [toks[0]],
    );
    assert.equal(row?.n, '1', 'still stored until purged');
  });

  it('tokens purge-expired: killed with SIGKILL mid-way, then run again to the end; live records stay', async () => {
    const s = sidecars[0]!;
    const live = (
      await ok(s.url, '/v1/tokenize', full.ork, { tenant: TENANT, field: 'note', values: ['keeps living'] })
    ).tokens;
    for (let i = 0; i < 4; i++) {
      const values = Array.from({ length: 50 }, (_, j) => `expiring ${i}-${j}`);
      await ok(s.url, '/v1/tokenize', full.ork, { tenant: TENANT, field: 'note', values, ttlSeconds: 1 });
    }
    const expired = async () =>
      Number(
        (
          await fleet.pg.adminQuery<{ n: string }>(
            `select count(*) as n from sidekey_tokens where tenant = $1 and expires_at <= now()`,
            [TENANT],
          )
        )[0]?.n,
      );
    await until('200 expired records', async () => (await expired()) >= 201, TIMEOUT);
    const total = await expired();
    const env = {
      SIDEKEY_DATA_DIR: fleet.opsDir,
      SIDEKEY_LOG_LEVEL: 'error',
      ...postgresEnv(fleet.pg, OPERATOR_ROLE),
    };
    const child = spawnSidekey(
      ['tokens', 'purge-expired', '--tenant', TENANT, '--batch-size', '5', '--throttle-ms', '200', '--json'],
      env,
    );
    await until('a purged batch', () => /"event":"progress".*"done":[1-9]/.test(child.stdout), 60_000);
    child.proc.kill('SIGKILL');
    assert.equal((await child.exited).signal, 'SIGKILL');
    const left = await expired();
    assert.ok(left > 0 && left < total, `part purged: ${left} of ${total} left`);

    const again = await ops(['tokens', 'purge-expired', '--tenant', TENANT, '--batch-size', '50', '--json']);
    const lines = again.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(lines[0], { event: 'progress', tenant: TENANT, done: 0, total: left });
    assert.deepEqual(
      { ...lines.at(-1), cut: undefined },
      { event: 'done', tenant: TENANT, purged: left, interrupted: false, cut: undefined },
    );
    assert.equal(await expired(), 0);
    assert.deepEqual(
      (await ok(s.url, '/v1/detokenize', full.ork, { tenant: TENANT, tokens: live })).results,
      [{ value: 'keeps living' }],
    );
    const purge = (await auditEvents()).filter(
      (e) => e.operation === 'tokens.purge-expired' && e.outcome === 'ok',
    );
    assert.equal(purge.at(-1)?.count, left);
  });
});
