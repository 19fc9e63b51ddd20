/**
 * KEK rotation from the local development KEK to AWS KMS (test server) while
 * a sidecar serves a tokenize/detokenize load on PostgreSQL (issue 4,
 * docs/kms.md "KEK rotation"):
 *
 * 1. tenants and ORKs exist under `local`;
 * 2. a sidecar runs the transition configuration: primary `aws`, previous
 *    `local` (it unwraps both forms);
 * 3. `sidekey rotate kek --to aws:…` runs while the load runs: no request
 *    fails and every token stays readable; every TEK and every audit chain
 *    key is then under aws, and a second run has nothing left to do;
 * 4. `sidekey ork reissue` gives each organisation the same ORK in a string
 *    wrapped by aws;
 * 5. a new sidecar configured with aws only (no previous KEK, no local key
 *    file) reads every token with the re-issued ORK, refuses the old ORK
 *    string with UNAUTHENTICATED, and `audit verify` passes with aws only;
 * 6. deterministic and fpe tokens made before the rotation (issue 11) are
 *    made again, identical, by that sidecar with the re-issued ORK: the
 *    token root keys were re-wrapped and the lineage survives `ork reissue`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeOrkString } from '../../src/crypto/index.js';
import { FakeAwsKms } from '../fakes/aws-kms-server.js';
import { type CliResult, sidekey } from '../support/cli.js';
import { capturedLogs, startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { type Fleet, postgresEnv, postWithin, startFleet } from '../support/fleet.js';
import { OPERATOR_ROLE } from '../support/postgres.js';

process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
delete process.env.AWS_PROFILE;

const TENANTS = ['rot-a', 'rot-b', 'rot-c'];
const REQUEST_TIMEOUT_MS = 10_000;
/** Bounds of the load: it stops when told, and never runs more than this many rounds. */
const MAX_ROUNDS = 400;
const WORKERS = 3;
const AWS_KEY = 'alias/sidekey-new';

let fleet: Fleet;
let aws: FakeAwsKms;
let awsEnv: Record<string, string>;
const orks = new Map<string, string>();
const reissued = new Map<string, string>();
/** token → value, for every token any request returned. */
const written = new Map<string, { tenant: string; value: string }>();
const tmpDirs: string[] = [];
const daemons: TestDaemon[] = [];

const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'sidekey-kek-'));
  tmpDirs.push(d);
  return d;
};
const must = (r: CliResult, what: string) => {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r;
};
/** The CLI as the operator, with the transition configuration (aws primary, local previous). */
const ops = (args: string[], extra: Record<string, string> = {}) =>
  sidekey(args, {
    SIDEKEY_DATA_DIR: fleet.opsDir,
    ...postgresEnv(fleet.pg, OPERATOR_ROLE),
    ...awsEnv,
    SIDEKEY_KMS_PREVIOUS: 'local',
    ...extra,
  });

before(async () => {
  fleet = await startFleet();
  aws = await FakeAwsKms.start();
  aws.createKey({ alias: AWS_KEY });
  awsEnv = {
    SIDEKEY_KMS: 'aws',
    SIDEKEY_KMS_KEY_ID: AWS_KEY,
    AWS_REGION: aws.region,
    AWS_ENDPOINT_URL_KMS: aws.url,
  };
  for (const tenant of TENANTS) {
    await fleet.createTenant(tenant);
    orks.set(tenant, (await fleet.issueOrk(tenant, 'app')).ork);
  }
  for (const args of [
    ['--field', 'email_det', '--kind', 'deterministic'],
    ['--field', 'card', '--kind', 'fpe', '--alphabet', 'digits', '--keep-prefix', '6', '--keep-suffix', '4'],
  ]) {
    const r = await fleet.ops(['policy', 'set', '--tenant', TENANTS[0]!, ...args]);
    assert.equal(r.code, 0, r.stderr);
  }
});

/** Deterministic and fpe tokens of TENANTS[0] made before the rotation, by field. */
const KIND_VALUES = { email_det: ['ada@kek.example', 'bob@kek.example'], card: ['4111-1111-1111-1111'] };
const kindTokens = new Map<string, string[]>();
after(async () => {
  for (const d of daemons) await d.stop().catch(() => {});
  await fleet?.destroy();
  await aws?.close();
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
  const logs = capturedLogs.join('');
  for (const secret of [
    ...orks.values(),
    ...reissued.values(),
    ...[...written.values()].map((w) => w.value),
  ]) {
    assert.ok(!logs.includes(secret), 'a secret reached a log');
  }
});

/** What the daemon logged about a failed request (an INTERNAL error's cause is only in the log). */
const explain = (r: { status: unknown; body: unknown }) => {
  const id = (r.body as { error?: { requestId?: string } } | undefined)?.error?.requestId;
  const lines = id === undefined ? [] : capturedLogs.filter((l) => l.includes(id));
  return `${String(r.status)} ${JSON.stringify(r.body)} ${lines.join(' ').slice(0, 2000)}`;
};
const tokenize = (url: string, tenant: string, ork: string, values: string[]) =>
  postWithin(url, '/v1/tokenize', ork, { tenant, field: 'email', values }, REQUEST_TIMEOUT_MS);
const detokenize = (url: string, tenant: string, ork: string, tokens: string[]) =>
  postWithin(url, '/v1/detokenize', ork, { tenant, tokens }, REQUEST_TIMEOUT_MS);

async function keyRefs(): Promise<string[]> {
  const rows = await fleet.pg.adminQuery<{ kek_ref: string }>(
    `select kek_ref from sidekey_tenant_keys union all select kek_ref from sidekey_audit_chains
     union all select kek_ref from sidekey_token_keys`,
  );
  return rows.map((r) => r.kek_ref);
}

describe('rotate kek local → aws while a sidecar serves', () => {
  let sidecar: TestDaemon;

  it('deterministic and fpe tokens are made under the local KEK', async () => {
    const plain = await fleet.startSidecar();
    try {
      for (const [field, values] of Object.entries(KIND_VALUES)) {
        const t = await postWithin(
          plain.url,
          '/v1/tokenize',
          orks.get(TENANTS[0]!)!,
          { tenant: TENANTS[0], field, values },
          REQUEST_TIMEOUT_MS,
        );
        assert.equal(t.status, 200, explain(t));
        kindTokens.set(field, (t.body as { tokens: string[] }).tokens);
      }
    } finally {
      await plain.stop();
    }
    assert.match(kindTokens.get('card')![0]!, /^4111-11\d\d-\d{4}-1111$/);
  });

  it('every key starts under the local KEK', async () => {
    const refs = await keyRefs();
    assert.ok(refs.length >= TENANTS.length);
    assert.ok(
      refs.every((r) => r.startsWith('local:')),
      refs.join(', '),
    );
  });

  it('re-wraps every TEK and audit chain key under aws with no failed request', async () => {
    // The transition configuration: wraps new keys with aws, unwraps local and aws.
    sidecar = await fleet.startSidecar({ ...awsEnv, SIDEKEY_KMS_PREVIOUS: 'local' });
    daemons.push(sidecar);
    const failures: string[] = [];
    let stop = false;
    let roundsAfterRotation = 0;
    let rotated = false;
    const worker = async (w: number) => {
      for (let round = 0; round < MAX_ROUNDS && !stop; round++) {
        const tenant = TENANTS[(w + round) % TENANTS.length]!;
        const ork = orks.get(tenant)!;
        const value = `w${w}r${round}-${tenant}@kek.example`;
        const t = await tokenize(sidecar.url, tenant, ork, [value]);
        if (t.status !== 200) {
          failures.push(`tokenize ${tenant}: ${t.status} ${t.code}`);
          continue;
        }
        const [token] = (t.body as { tokens: string[] }).tokens;
        written.set(token!, { tenant, value });
        const d = await detokenize(sidecar.url, tenant, ork, [token!]);
        const got = (d.body as { results?: { value?: string }[] } | undefined)?.results?.[0]?.value;
        if (d.status !== 200 || got !== value) failures.push(`detokenize ${tenant}: ${d.status} ${d.code}`);
        if (rotated) roundsAfterRotation++;
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    try {
      // Let the load warm up, then rotate under it.
      while (written.size < 20 && failures.length === 0) await new Promise((r) => setTimeout(r, 20));
      const r = must(await ops(['rotate', 'kek', '--to', `aws:${AWS_KEY}`, '--json']), 'rotate kek');
      const report = JSON.parse(r.stdout) as {
        tenantKeys: number;
        tokenRootKeys: number;
        auditChains: number;
        failures: unknown[];
      };
      assert.equal(report.tenantKeys, TENANTS.length);
      assert.equal(report.tokenRootKeys, TENANTS.length, 'each tenant has a token root key');
      assert.ok(report.auditChains >= 1, 'the CLI audit chains were re-wrapped');
      assert.deepEqual(report.failures, []);
      assert.match(r.stderr, /re-wrapped under aws:alias\/sidekey-new/);
      rotated = true;
      // Keep serving a while under the new wrapping (the sidecar heard tek-changed and reloads).
      const deadline = Date.now() + 20_000;
      while (roundsAfterRotation < 30 && failures.length === 0 && Date.now() < deadline)
        await new Promise((res) => setTimeout(res, 20));
    } finally {
      stop = true;
      await load;
    }
    assert.deepEqual(failures, []);
    assert.ok(roundsAfterRotation >= 30, 'the load ran on after the rotation');
    const refs = await keyRefs();
    assert.ok(
      refs.every((ref) => ref === `aws:${AWS_KEY}`),
      refs.join(', '),
    );
  });

  it('every token stays readable through the transition sidecar', async () => {
    for (const tenant of TENANTS) {
      const mine = [...written].filter(([, w]) => w.tenant === tenant);
      const d = await detokenize(
        sidecar.url,
        tenant,
        orks.get(tenant)!,
        mine.map(([t]) => t),
      );
      assert.equal(d.status, 200);
      assert.deepEqual(
        (d.body as { results: { value: string }[] }).results.map((r) => r.value),
        mine.map(([, w]) => w.value),
      );
    }
  });

  it('is resumable and idempotent: a second run finds nothing left', async () => {
    const r = must(await ops(['rotate', 'kek', '--to', `aws:${AWS_KEY}`, '--json']), 'rotate kek again');
    const report = JSON.parse(r.stdout) as { tenantKeys: number; auditChains: number };
    assert.equal(report.tenantKeys, 0);
  });

  it('re-issues each ORK under aws: same id, and the old string keeps working while local is configured', async () => {
    for (const tenant of TENANTS) {
      const file = join(tmp(), 'old.ork');
      writeFileSync(file, `${orks.get(tenant)!}\n`, { mode: 0o600 });
      const r = must(await ops(['ork', 'reissue', '--tenant', tenant, '--ork-file', file]), 'ork reissue');
      const fresh = r.stdout.trim();
      assert.equal(r.stdout, `${fresh}\n`, 'the ORK string alone on stdout');
      const before = decodeOrkString(orks.get(tenant)!)!;
      const after = decodeOrkString(fresh)!;
      assert.equal(after.orkId, before.orkId);
      assert.equal(after.tenant, tenant);
      assert.match(before.kekRef, /^local:/);
      assert.equal(after.kekRef, `aws:${AWS_KEY}`);
      assert.ok(!r.stderr.includes(fresh) && !r.stderr.includes(orks.get(tenant)!));
      reissued.set(tenant, fresh);
    }
    // Both strings work on the transition sidecar.
    const tenant = TENANTS[0]!;
    for (const ork of [orks.get(tenant)!, reissued.get(tenant)!]) {
      const t = await tokenize(sidecar.url, tenant, ork, ['both strings']);
      assert.equal(t.status, 200);
    }
    // Refused: a string of another tenant.
    const file = join(tmp(), 'other.ork');
    writeFileSync(file, orks.get(TENANTS[1]!)!, { mode: 0o600 });
    const wrong = await ops(['ork', 'reissue', '--tenant', TENANTS[0]!, '--ork-file', file]);
    assert.notEqual(wrong.code, 0);
    assert.equal(wrong.stdout, '');
  });

  it('a sidecar with only the aws KEK reads everything with re-issued ORKs and refuses the old strings', async () => {
    const dataDir = tmp(); // no local key file in it
    const only = await startTestDaemon(fleet.sidecarEnv(dataDir, awsEnv), { dataDir });
    daemons.push(only);
    for (const tenant of TENANTS) {
      const mine = [...written].filter(([, w]) => w.tenant === tenant);
      assert.ok(mine.length > 0);
      const d = await detokenize(
        only.url,
        tenant,
        reissued.get(tenant)!,
        mine.map(([t]) => t),
      );
      assert.equal(d.status, 200, explain(d));
      assert.deepEqual(
        (d.body as { results: { value: string }[] }).results.map((r) => r.value),
        mine.map(([, w]) => w.value),
      );
      const old = await tokenize(only.url, tenant, orks.get(tenant)!, ['old string']);
      assert.equal(old.status, 401, explain(old));
      assert.equal(old.code, 'UNAUTHENTICATED');
    }
    // Deterministic and fpe tokens: the same strings again, and fpe tokens resolve with their field.
    const tenant = TENANTS[0]!;
    for (const [field, values] of Object.entries(KIND_VALUES)) {
      const t = await postWithin(
        only.url,
        '/v1/tokenize',
        reissued.get(tenant)!,
        { tenant, field, values },
        REQUEST_TIMEOUT_MS,
      );
      assert.equal(t.status, 200, explain(t));
      assert.deepEqual(
        (t.body as { tokens: string[] }).tokens,
        kindTokens.get(field),
        `${field} tokens changed`,
      );
      const d = await postWithin(
        only.url,
        '/v1/detokenize',
        reissued.get(tenant)!,
        { tenant, field, tokens: kindTokens.get(field) },
        REQUEST_TIMEOUT_MS,
      );
      assert.equal(d.status, 200, explain(d));
      assert.deepEqual(
        (d.body as { results: { value: string }[] }).results.map((r) => r.value),
        values,
      );
    }
    // The operator without the old KEK too: every audit chain still verifies.
    const verify = await sidekey(['audit', 'verify'], {
      SIDEKEY_DATA_DIR: tmp(),
      ...postgresEnv(fleet.pg, OPERATOR_ROLE),
      ...awsEnv,
    });
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    assert.doesNotMatch(verify.stdout, /BROKEN/);
  });
});
