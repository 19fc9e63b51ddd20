/**
 * The daemon end to end over HTTP with `SIDEKEY_KMS=aws` and
 * `SIDEKEY_KMS=vault`, the real SDK clients against the wire-compatible test
 * servers (issue 4):
 *
 * - tenants and ORKs provisioned through the real CLI, and the demo
 *   bootstrap, both under the remote KEK;
 * - tokenize / detokenize / encrypt / decrypt work;
 * - KMS calls are rare by design: `/metrics` counts them by provider, and
 *   once warm 100 requests make none (the test server agrees);
 * - KMS down after warm-up: the warm tenant keeps working, a tenant this
 *   daemon never used gets 503 UNAVAILABLE; KMS back: it works, without a
 *   restart.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { FakeAwsKms } from '../fakes/aws-kms-server.js';
import { FakeVault } from '../fakes/vault-server.js';
import { type CliResult, sidekey } from '../support/cli.js';
import { capturedLogs, freshDataDir, startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { call, post } from '../support/http.js';

// The SDK's default credential chain reads these first; nothing else is consulted.
process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
delete process.env.AWS_PROFILE;

interface Provider {
  readonly name: 'aws' | 'vault';
  /** Environment pointing sidekey at the test server. */
  readonly env: Record<string, string>;
  /** Calls the test server saw that unwrap or wrap a key. */
  kmsCalls(): number;
  /** Secrets of this provider that must never reach a log (the Vault token). */
  readonly secrets: readonly string[];
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

async function awsProvider(): Promise<Provider> {
  const fake = await FakeAwsKms.start();
  fake.createKey({ alias: 'alias/sidekey' });
  return {
    name: 'aws',
    env: {
      SIDEKEY_KMS: 'aws',
      SIDEKEY_KMS_KEY_ID: 'alias/sidekey',
      AWS_REGION: fake.region,
      AWS_ENDPOINT_URL_KMS: fake.url,
    },
    kmsCalls: () => fake.count('Encrypt') + fake.count('Decrypt'),
    secrets: [],
    down: () => fake.down(),
    up: () => fake.up(),
    close: () => fake.close(),
  };
}

async function vaultProvider(): Promise<Provider> {
  const fake = await FakeVault.start();
  fake.createKey('sidekey');
  const token = fake.createToken({ ttl: 0 });
  return {
    name: 'vault',
    env: { SIDEKEY_KMS: 'vault', SIDEKEY_KMS_KEY_ID: 'sidekey', VAULT_ADDR: fake.url, VAULT_TOKEN: token },
    kmsCalls: () => fake.count('PUT transit/encrypt') + fake.count('PUT transit/decrypt'),
    secrets: [token],
    down: () => fake.down(),
    up: () => fake.up(),
    close: () => fake.close(),
  };
}

/** `sidekey_kms_calls_total` for wrap and unwrap of one provider, from `/metrics`. */
async function kmsCallsMetric(url: string, provider: string): Promise<number> {
  const r = await call(url, '/metrics');
  assert.equal(r.status, 200);
  let total = 0;
  let seen = false;
  for (const line of r.text.split('\n')) {
    const m = /^sidekey_kms_calls_total\{([^}]*)\} (\d+(?:\.\d+)?)$/.exec(line);
    if (m === null || !m[1]!.includes(`provider="${provider}"`)) continue;
    seen = true;
    if (/operation="(wrap|unwrap)"/.test(m[1]!)) total += Number(m[2]);
  }
  assert.ok(seen, `no sidekey_kms_calls_total{provider="${provider}"} in /metrics`);
  return total;
}

const must = (r: CliResult, what: string) => {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r;
};

for (const make of [awsProvider, vaultProvider]) {
  describe(`the daemon with SIDEKEY_KMS=${make === awsProvider ? 'aws' : 'vault'}`, () => {
    let kms: Provider;
    let dataDir: string;
    let daemon: TestDaemon;
    let warmOrk: string;
    let coldOrk: string;
    const values = ['carol.kms@example.org', 'dave.kms@example.org', '☃ ünïcödé kms'];

    before(async () => {
      kms = await make();
      dataDir = await freshDataDir();
      const env = { SIDEKEY_DATA_DIR: dataDir, ...kms.env };
      // Provisioned by the CLI under the remote KEK before the daemon holds the embedded store.
      for (const tenant of ['warm', 'cold'])
        must(await sidekey(['tenant', 'create', tenant], env), 'tenant create');
      warmOrk = must(await sidekey(['ork', 'issue', '--tenant', 'warm'], env), 'ork issue').stdout.trim();
      coldOrk = must(await sidekey(['ork', 'issue', '--tenant', 'cold'], env), 'ork issue').stdout.trim();
      const status = JSON.parse(
        must(await sidekey(['keys', 'status', '--json'], env), 'keys status').stdout,
      ) as {
        kekRef: string;
      }[];
      assert.deepEqual(
        status.map((s) => s.kekRef.split(':')[0]),
        [kms.name, kms.name],
      );
      daemon = await startTestDaemon({ ...kms.env, SIDEKEY_BOOTSTRAP_DEMO: 'true' }, { dataDir });
    });
    after(async () => {
      await daemon?.stop();
      await kms?.close();
      if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
      const logs = capturedLogs.join('');
      for (const secret of [warmOrk, coldOrk, daemon?.ork, ...values, ...(kms?.secrets ?? [])]) {
        if (secret) assert.ok(!logs.includes(secret), `a secret reached a log: ${secret.slice(0, 12)}`);
      }
    });

    const tokenize = (ork: string, tenant: string, vs: string[]) =>
      post(daemon.url, '/v1/tokenize', ork, { tenant, field: 'email', values: vs });
    const detokenize = (ork: string, tenant: string, tokens: string[]) =>
      post(daemon.url, '/v1/detokenize', ork, { tenant, tokens });

    it('tokenizes, detokenizes, encrypts and decrypts under the remote KEK', async () => {
      const t = await tokenize(warmOrk, 'warm', values);
      assert.equal(t.status, 200, t.text);
      const d = await detokenize(warmOrk, 'warm', t.body.tokens);
      assert.equal(d.status, 200, d.text);
      assert.deepEqual(
        d.body.results.map((r: { value: string }) => r.value),
        values,
      );
      const e = await post(daemon.url, '/v1/encrypt', warmOrk, {
        tenant: 'warm',
        field: 'ssn',
        plaintexts: ['078-05-1120'],
        context: 'row 7',
      });
      assert.equal(e.status, 200, e.text);
      const p = await post(daemon.url, '/v1/decrypt', warmOrk, {
        tenant: 'warm',
        field: 'ssn',
        ciphertexts: e.body.ciphertexts,
        context: 'row 7',
      });
      assert.equal(p.status, 200, p.text);
      assert.deepEqual(p.body.results, [{ plaintext: '078-05-1120' }]);
      // The demo bootstrap works under the remote KEK too.
      assert.match(daemon.ork, /^sk_ork_/);
      const demo = await tokenize(daemon.ork, 'demo', ['demo value']);
      assert.equal(demo.status, 200, demo.text);
    });

    it('makes no KMS call per operation once warm: /metrics and the KMS agree', async () => {
      const warmup = await tokenize(warmOrk, 'warm', ['warm-up']);
      assert.equal(warmup.status, 200);
      const metricBefore = await kmsCallsMetric(daemon.url, kms.name);
      const serverBefore = kms.kmsCalls();
      assert.ok(metricBefore > 0, 'the unwraps of the warm-up are counted');
      const tokens: string[] = warmup.body.tokens;
      for (let i = 0; i < 50; i++) {
        const t = await tokenize(warmOrk, 'warm', [`v${i}@example.com`]);
        assert.equal(t.status, 200);
        tokens.push(...t.body.tokens);
        const d = await detokenize(warmOrk, 'warm', tokens.slice(-2));
        assert.equal(d.status, 200);
      }
      assert.equal(
        await kmsCallsMetric(daemon.url, kms.name),
        metricBefore,
        '100 warm requests, 0 KMS calls',
      );
      assert.equal(kms.kmsCalls(), serverBefore, 'the KMS saw no call either');
    });

    it('KMS down: the warm tenant keeps working, an unused tenant gets UNAVAILABLE; KMS back: all work, no restart', async () => {
      const warm = await tokenize(warmOrk, 'warm', ['before the outage']);
      assert.equal(warm.status, 200);
      await kms.down();
      try {
        const t = await tokenize(warmOrk, 'warm', ['during the outage']);
        assert.equal(t.status, 200, t.text);
        const d = await detokenize(warmOrk, 'warm', [...warm.body.tokens, ...t.body.tokens]);
        assert.equal(d.status, 200, d.text);
        assert.deepEqual(
          d.body.results.map((r: { value: string }) => r.value),
          ['before the outage', 'during the outage'],
        );
        const cold = await tokenize(coldOrk, 'cold', ['x']);
        assert.equal(cold.status, 503, cold.text);
        assert.equal(cold.body.error.code, 'UNAVAILABLE');
        assert.equal(cold.headers['content-type']?.toString().startsWith('application/json'), true);
      } finally {
        await kms.up();
      }
      const cold = await tokenize(coldOrk, 'cold', ['after the outage']);
      assert.equal(cold.status, 200, cold.text);
      const back = await detokenize(coldOrk, 'cold', cold.body.tokens);
      assert.deepEqual(back.body.results, [{ value: 'after the outage' }]);
      const warmAgain = await tokenize(warmOrk, 'warm', ['after']);
      assert.equal(warmAgain.status, 200);
    });
  });
}
