/**
 * The reveal path does not wait for the database, and the audit trail
 * promises what it did (issue 15, ADR-17), on a real PostgreSQL with real
 * sidecar processes (SIDEKEY_AUDIT_DURABILITY=spool):
 *
 *   - kill -9 of the sidecar at random moments under a reveal load, with the
 *     spool synced before each answer and every 10 ms (ADR-20): after a
 *     restart on the same data directory every answered reveal has its event
 *     in the store and `sidekey audit verify` passes;
 *   - PostgreSQL down: reveals of cached records go on up to
 *     SIDEKEY_AUDIT_SPOOL_MAX_EVENTS, then UNAVAILABLE (fail closed); when it
 *     is back, every answered reveal's event is stored and the chain verifies.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Fleet, startFleet, until } from '../support/fleet.js';
import { type Child, freePort, spawnSidekey, waitServing } from '../support/process.js';

const TENANT = 'spool';
const REQUEST_TIMEOUT_MS = 5_000;

let fleet: Fleet;
let ork: string;

before(async () => {
  fleet = await startFleet();
  await fleet.createTenant(TENANT);
  ork = (await fleet.issueOrk(TENANT, 'spool test')).ork;
});
after(async () => {
  await fleet?.destroy();
});

/** A data call with our own request id (the audit event carries it); status 0 = no answer. */
// biome-ignore lint/suspicious/noExplicitAny: JSON answers of several shapes, checked field by field below
type Json = any;

async function call(
  url: string,
  path: string,
  body: unknown,
  requestId: string,
): Promise<{ status: number; body: Json }> {
  try {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sidekey-org-key': ork, 'x-request-id': requestId },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  } catch {
    return { status: 0, body: undefined };
  }
}

interface Sidecar {
  readonly child: Child;
  readonly url: string;
}

async function spawnOn(dataDir: string, extra: Record<string, string> = {}): Promise<Sidecar> {
  const port = await freePort();
  const child = spawnSidekey(
    ['serve'],
    fleet.sidecarEnv(dataDir, {
      SIDEKEY_HTTP_PORT: String(port),
      SIDEKEY_LOG_LEVEL: 'info',
      SIDEKEY_AUDIT_DURABILITY: 'spool',
      ...extra,
    }),
  );
  await waitServing(child);
  return { child, url: `http://127.0.0.1:${port}` };
}

async function stopGracefully(s: Sidecar): Promise<void> {
  if (s.child.proc.exitCode !== null || s.child.proc.signalCode !== null) return;
  s.child.proc.kill('SIGTERM');
  const killer = setTimeout(() => s.child.proc.kill('SIGKILL'), 10_000);
  await s.child.exited;
  clearTimeout(killer);
}

/** The request ids of the stored detokenize events with outcome ok. */
async function storedRevealIds(): Promise<Set<string>> {
  const rows = await fleet.pg.adminQuery<{ event: string }>(
    `select event from sidekey_audit_log where event like '%"operation":"detokenize","outcome":"ok"%'`,
  );
  return new Set(rows.map((r) => (JSON.parse(r.event) as { requestId: string }).requestId));
}

async function auditVerifies(): Promise<void> {
  const r = await fleet.ops(['audit', 'verify', '--json']);
  assert.equal(r.code, 0, `audit verify: ${r.stdout} ${r.stderr}`);
  const reports = JSON.parse(r.stdout) as { chainId: string; ok: boolean; events: number }[];
  assert.ok(reports.length > 0);
  for (const c of reports) assert.equal(c.ok, true, JSON.stringify(c));
}

async function tokenizeSome(url: string, n: number): Promise<{ tokens: string[]; values: string[] }> {
  const values = Array.from({ length: n }, (_, i) => `spool-${i}-${randomBytes(6).toString('hex')}`);
  const r = await call(
    url,
    '/v1/tokenize',
    { tenant: TENANT, field: 'email', values },
    `tok-${randomBytes(4).toString('hex')}`,
  );
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return { tokens: r.body.tokens as string[], values };
}

function spoolFiles(dataDir: string): string[] {
  return readdirSync(join(dataDir, 'audit-spool')).filter((f) => f.endsWith('.spool'));
}

describe('audit spool: kill -9 under reveal load', () => {
  // `each`: a reveal waits for the fdatasync; `interval` (ADR-20): for the write only — the
  // kernel keeps what a killed process wrote, so the promise to a kill -9 is the same.
  for (const sync of ['each', 'interval'] as const)
    it(`every answered reveal has its event after a restart, and the chains verify (SIDEKEY_AUDIT_SPOOL_SYNC=${sync})`, async (t) => {
      const dataDir = fleet.sidecarDataDir();
      const env = { SIDEKEY_AUDIT_SPOOL_SYNC: sync };
      let sidecar = await spawnOn(dataDir, env);
      const { tokens, values } = await tokenizeSome(sidecar.url, 50);
      const answered = new Set<string>();
      let kills = 0;
      let replayed = 0;
      try {
        for (let round = 0; round < 3; round++) {
          let running = true;
          let n = 0;
          const target = sidecar;
          const worker = async (w: number) => {
            while (running) {
              const id = `r${round}-w${w}-${n++}`;
              const token = tokens[randomInt(tokens.length)]!;
              const r = await call(target.url, '/v1/detokenize', { tenant: TENANT, tokens: [token] }, id);
              if (r.status === 200) {
                assert.equal(r.body.results[0].value, values[tokens.indexOf(token)]);
                answered.add(id);
              } else if (r.status === 0) {
                return; // the process is gone
              }
            }
          };
          const load = Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
          const before = answered.size;
          await until('reveals answered in this round', () => answered.size >= before + 50, 30_000);
          // A random moment: a little later, mid-load.
          await new Promise((r) => setTimeout(r, randomInt(0, 400)));
          sidecar.child.proc.kill('SIGKILL');
          const killed = await sidecar.child.exited;
          assert.equal(killed.signal, 'SIGKILL');
          kills++;
          running = false;
          await load;
          sidecar = await spawnOn(dataDir, env);
          const found = /"events":(\d+)[^\n]*audit events of an earlier process found in the spool/.exec(
            sidecar.child.stdout,
          );
          replayed += Number(found?.[1] ?? 0);
        }
        await until(
          'every answered reveal has its stored event',
          async () => {
            const stored = await storedRevealIds();
            return [...answered].every((id) => stored.has(id));
          },
          30_000,
          200,
        );
        await auditVerifies();
        // Replayed segments of the killed processes are deleted once shipped; only the live chain's remain.
        await until(
          'replayed segments deleted',
          () => new Set(spoolFiles(dataDir).map((f) => f.split('.')[0])).size === 1,
          10_000,
        );
        t.diagnostic(
          `${answered.size} reveals answered across ${kills} kills; ${replayed} events read back from the spools of killed processes (stored or not); every event stored`,
        );
      } finally {
        await stopGracefully(sidecar);
      }
      const output = sidecar.child.stdout + sidecar.child.stderr;
      assert.ok(!output.includes(ork), 'no ORK in the sidecar log');
      for (const v of values) assert.ok(!output.includes(v), 'no value in the sidecar log');
    });
});

describe('audit spool: PostgreSQL unreachable', () => {
  it('cached reveals go on up to the bound, then UNAVAILABLE; everything is stored once it is back', async () => {
    const MAX = 25;
    const dataDir = fleet.sidecarDataDir();
    const sidecar = await spawnOn(dataDir, { SIDEKEY_AUDIT_SPOOL_MAX_EVENTS: String(MAX) });
    let down = false;
    try {
      const { tokens, values } = await tokenizeSome(sidecar.url, 1);
      const body = { tenant: TENANT, tokens };
      // A first read puts the record (and the ORK) in the sidecar's caches.
      assert.equal((await call(sidecar.url, '/v1/detokenize', body, 'warm')).status, 200);
      // Its event is stored: the backlog starts empty.
      await until(
        'the warm-up event is stored',
        async () => (await storedRevealIds()).has('warm'),
        10_000,
        50,
      );

      await fleet.pg.stop();
      down = true;
      const answered: string[] = [];
      const statuses: number[] = [];
      for (let i = 0; i < MAX + 20; i++) {
        const id = `outage-${i}`;
        const r = await call(sidecar.url, '/v1/detokenize', body, id);
        statuses.push(r.status);
        if (r.status === 200) {
          assert.equal(r.body.results[0].value, values[0]);
          answered.push(id);
        } else {
          assert.equal(r.status, 503, JSON.stringify(r.body));
          assert.equal(r.body.error.code, 'UNAVAILABLE');
        }
      }
      assert.equal(answered.length, MAX, `reveals during the outage: ${statuses.join(',')}`);
      const firstRefused = statuses.indexOf(503);
      assert.equal(firstRefused, MAX, 'answered up to the bound, then refused');
      assert.ok(
        statuses.slice(firstRefused).every((s) => s === 503),
        'once full, it stays closed while the store is down',
      );
      // The spool holds the answered events, never a value or the ORK.
      const spooled = spoolFiles(dataDir)
        .map((f) => readFileSync(join(dataDir, 'audit-spool', f), 'latin1'))
        .join('');
      for (const id of answered) assert.ok(spooled.includes(id), `event ${id} is in the spool`);
      assert.ok(!spooled.includes(values[0]!), 'no value in the spool');
      assert.ok(!spooled.includes(ork), 'no ORK in the spool');
      const metrics = await (await fetch(`${sidecar.url}/metrics`)).text();
      const backlog = Number(/^sidekey_audit_backlog(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1]);
      assert.equal(backlog, MAX, 'the backlog is bounded');

      await fleet.pg.start();
      down = false;
      await until(
        'every answered reveal is stored',
        async () => {
          const stored = await storedRevealIds();
          return answered.every((id) => stored.has(id));
        },
        30_000,
        200,
      );
      await until(
        'reveals answered again',
        async () => (await call(sidecar.url, '/v1/detokenize', body, 'after')).status === 200,
        20_000,
        100,
      );
      await auditVerifies();
    } finally {
      if (down) await fleet.pg.start();
      await stopGracefully(sidecar);
    }
  });
});
