/**
 * PostgreSQL outages under a serving sidecar (issue 3): while the database is
 * down every call that needs it fails fast with 503 UNAVAILABLE (never
 * another status, never a hang) and /readyz is 503 naming the store; when it
 * is back, the same process serves again and every token it ever
 * acknowledged detokenizes. A sidecar may also start before its database,
 * and picks up renewed certificate files for new connections.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCertificateAuthority, issueCertificate } from '../../src/certs/x509.js';
import { capturedLogs, type TestDaemon } from '../support/daemon.js';
import {
  type Fleet,
  keyEventsConnectedSince,
  postWithin,
  startFleet,
  type TimedResult,
  until,
} from '../support/fleet.js';
import { call } from '../support/http.js';
import { SIDECAR_ROLE } from '../support/postgres.js';

const TENANT = 'shop';
/** No request may take longer than this, outage or not. */
const REQUEST_TIMEOUT_MS = 5_000;

let fleet: Fleet;
let ork: string;
const secrets: string[] = [];

before(async () => {
  fleet = await startFleet();
  await fleet.createTenant(TENANT);
  ork = (await fleet.issueOrk(TENANT, 'outage test')).ork;
  secrets.push(ork);
});
after(async () => {
  await fleet?.destroy();
});

interface Load {
  /** token → value, for every tokenize answered 200. */
  readonly acknowledged: Map<string, string>;
  /** Every answer that was not a 200, with when its request was sent and answered. */
  readonly failures: (TimedResult & { readonly sentAt: number; readonly answeredAt: number })[];
  stop(): Promise<void>;
}

/** `workers` concurrent clients, each tokenizing small batches back to back until stopped. */
function tokenizeLoad(url: string, workers = 8, batch = 4): Load {
  const acknowledged = new Map<string, string>();
  const failures: (TimedResult & { sentAt: number; answeredAt: number })[] = [];
  let running = true;
  let n = 0;
  const worker = async () => {
    while (running) {
      const values = Array.from({ length: batch }, () => `outage-${n++}-${randomBytes(6).toString('hex')}`);
      const sentAt = performance.now();
      const r = await postWithin(
        url,
        '/v1/tokenize',
        ork,
        { tenant: TENANT, field: 'email', values },
        REQUEST_TIMEOUT_MS,
      );
      if (r.status === 200) {
        const tokens = (r.body as { tokens: string[] }).tokens;
        assert.equal(tokens.length, values.length);
        for (const [i, t] of tokens.entries()) acknowledged.set(t, values[i]!);
      } else {
        failures.push({ ...r, sentAt, answeredAt: performance.now() });
        await new Promise((res) => setTimeout(res, 10)); // a client backing off a little
      }
    }
  };
  const all = Promise.all(Array.from({ length: workers }, worker));
  return {
    acknowledged,
    failures,
    async stop() {
      running = false;
      await all;
    },
  };
}

async function readyz(
  url: string,
): Promise<{ status: number; body: { status: string; checks?: Record<string, string> } }> {
  const r = await call(url, '/readyz');
  return { status: r.status, body: r.body };
}

/** Detokenizes every acknowledged token (in batches) and checks it comes back as its value. */
async function assertAllDetokenize(url: string, acknowledged: Map<string, string>): Promise<void> {
  const tokens = [...acknowledged.keys()];
  for (let i = 0; i < tokens.length; i += 500) {
    const chunk = tokens.slice(i, i + 500);
    const r = await postWithin(url, '/v1/detokenize', ork, { tenant: TENANT, tokens: chunk }, 10_000);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const results = (r.body as { results: { value?: string }[] }).results;
    for (const [j, res] of results.entries()) {
      assert.equal(res.value, acknowledged.get(chunk[j]!), `token ${chunk[j]} lost its value`);
    }
  }
}

const isUnavailable = (r: TimedResult) => r.status === 503 && r.code === 'UNAVAILABLE';

const outages = [
  ['stopped (fast shutdown: sessions are terminated)', () => fleet.pg.stop()],
  ['crashed (immediate shutdown: connections drop)', () => fleet.pg.crash()],
] as const;

for (const [how, takeDown] of outages) {
  describe(`PostgreSQL ${how} in the middle of a tokenize load`, () => {
    it('fails with 503 UNAVAILABLE only, recovers without a restart, loses no acknowledged token', async (t) => {
      // A separate process, so that it keeps serving while the harness blocks on pg_ctl.
      const sidecar = await fleet.spawnSidecar();
      const load = tokenizeLoad(sidecar.url);
      let stopped = false;
      try {
        await until(
          'a healthy load',
          () => load.acknowledged.size >= 200 || load.failures.length > 0,
          20_000,
        );
        assert.deepEqual([...load.failures], [], 'no failure before the outage');

        await takeDown();
        stopped = true;
        await until('UNAVAILABLE answers during the outage', () => load.failures.length >= 50, 20_000);

        // Reveals need the store too (the record, or at least a durable audit event).
        const [someToken] = load.acknowledged.keys();
        const reveal = await postWithin(
          sidecar.url,
          '/v1/detokenize',
          ork,
          { tenant: TENANT, tokens: [someToken] },
          REQUEST_TIMEOUT_MS,
        );
        assert.ok(
          isUnavailable(reveal),
          `detokenize during the outage: ${JSON.stringify(reveal)}; sidecar stderr: ${sidecar.child.stderr.slice(-2000)}`,
        );
        const down = await readyz(sidecar.url);
        assert.equal(down.status, 503);
        assert.equal(down.body.status, 'not_ready');
        assert.notEqual(down.body.checks?.store, undefined);
        assert.notEqual(down.body.checks?.store, 'ok', 'the store is named as what is down');
        assert.equal(down.body.checks?.kms, 'ok');

        await fleet.pg.start();
        stopped = false;
        await until(
          '/readyz 200 after the restart',
          async () => (await readyz(sidecar.url)).status === 200,
          20_000,
        );
        // A call sent before /readyz said 200 may still have been in flight across the
        // restart (its flush began while the server was starting): only later calls must succeed.
        const readyAt = performance.now();
        const ackedAtRecovery = load.acknowledged.size;
        await until(
          'traffic after the restart',
          () => load.acknowledged.size >= ackedAtRecovery + 100,
          20_000,
        );
        await load.stop();

        const wrong = load.failures.filter((r) => !isUnavailable(r));
        assert.deepEqual(wrong, [], 'every failure is 503 UNAVAILABLE (no other status, no timeout)');
        assert.deepEqual(
          load.failures.filter((r) => r.sentAt >= readyAt),
          [],
          'once ready again, the same process serves every call',
        );
        await assertAllDetokenize(sidecar.url, load.acknowledged);
        t.diagnostic(
          `${load.acknowledged.size} values acknowledged and read back, ${load.failures.length} calls answered UNAVAILABLE ` +
            `(${load.failures.filter((r) => r.answeredAt >= readyAt).length} of them in flight when /readyz said 200)`,
        );
      } finally {
        await load.stop();
        if (stopped) await fleet.pg.start();
        await sidecar.stop();
      }
      for (const secret of [...secrets, ...load.acknowledged.values()]) {
        assert.ok(!sidecar.child.stdout.includes(secret), 'no value or ORK in the sidecar log');
        assert.ok(!sidecar.child.stderr.includes(secret), 'no value or ORK in the sidecar log');
      }
    });
  });
}

describe('a sidecar started while PostgreSQL is down', () => {
  let d: TestDaemon | undefined;
  after(async () => {
    await d?.stop();
  });

  it('serves 503 UNAVAILABLE until the database is up, then works', async () => {
    await fleet.pg.stop();
    const mark = capturedLogs.length;
    try {
      d = await fleet.startSidecar({}, { waitForKeyEvents: false });
      const body = { tenant: TENANT, field: 'email', values: ['early-bird@example.com'] };
      const early = await postWithin(d.url, '/v1/tokenize', ork, body, REQUEST_TIMEOUT_MS);
      assert.ok(isUnavailable(early), JSON.stringify(early));
      const down = await readyz(d.url);
      assert.equal(down.status, 503);
      assert.notEqual(down.body.checks?.store, 'ok');
      assert.deepEqual((await call(d.url, '/healthz')).body, { status: 'ok' }, 'alive while not ready');
    } finally {
      await fleet.pg.start();
    }
    const url = d.url;
    await until('/readyz 200', async () => (await readyz(url)).status === 200, 20_000);
    // Ready for data calls; a full member of the fleet once it hears key events too.
    await until('the key event listener', () => keyEventsConnectedSince(mark), 20_000);
    const t = await postWithin(
      url,
      '/v1/tokenize',
      ork,
      { tenant: TENANT, field: 'email', values: ['late-bird@example.com'] },
      REQUEST_TIMEOUT_MS,
    );
    assert.equal(t.status, 200, JSON.stringify(t.body));
    const token = (t.body as { tokens: string[] }).tokens[0]!;
    await assertAllDetokenize(url, new Map([[token, 'late-bird@example.com']]));
  });
});

describe('certificate files renewed under a running sidecar', () => {
  it('new connections use the renewed pair, without a restart of sidekey', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sidekey-renew-'));
    const certFile = join(dir, 'sidecar.crt');
    const keyFile = join(dir, 'sidecar.key');
    const write = (pair: { cert: string; key: string }) => {
      // Atomic replacement, as a Secret volume or cert-manager does it.
      writeFileSync(`${keyFile}.tmp`, pair.key, { mode: 0o600 });
      writeFileSync(`${certFile}.tmp`, pair.cert);
      renameSync(`${keyFile}.tmp`, keyFile);
      renameSync(`${certFile}.tmp`, certFile);
    };
    // The sidecar's current pair is from the harness CA; the renewed one from a new CA.
    write(issueCertificate(fleet.pg.ca, { commonName: SIDECAR_ROLE, usage: 'client' }));
    const newCa = createCertificateAuthority({ commonName: 'sidekey renewed client CA' });
    await fleet.pg.setClientCaBundle(fleet.pg.ca.cert + newCa.cert);
    const sidecar = await fleet.startSidecar({
      SIDEKEY_PG_CERT_FILE: certFile,
      SIDEKEY_PG_KEY_FILE: keyFile,
    });
    try {
      const body = (v: string) => ({ tenant: TENANT, field: 'email', values: [v] });
      const before = await postWithin(
        sidecar.url,
        '/v1/tokenize',
        ork,
        body('before-renewal'),
        REQUEST_TIMEOUT_MS,
      );
      assert.equal(before.status, 200, JSON.stringify(before.body));

      write(issueCertificate(newCa, { commonName: SIDECAR_ROLE, usage: 'client' }));
      // From now on only the renewed pair can log in, and no old connection survives.
      await fleet.pg.setClientCaBundle(newCa.cert);
      await fleet.pg.restart();
      await until(
        'traffic with the renewed certificate',
        async () =>
          (await postWithin(sidecar.url, '/v1/tokenize', ork, body('after-renewal'), REQUEST_TIMEOUT_MS))
            .status === 200,
        20_000,
        100,
      );
      assert.equal((await readyz(sidecar.url)).status, 200);
    } finally {
      await sidecar.stop();
      // Everything else of this fleet still logs in with the harness CA.
      await fleet.pg.setClientCaBundle(fleet.pg.ca.cert + newCa.cert);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
