/**
 * Error codes that need a daemon in a particular state: a revoked ORK, a
 * destroyed key, a store that went away, a rate limit, a client token and a
 * restricted tenant list — each over the real HTTP listener.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { sidekey } from '../support/cli.js';
import { freshDataDir, startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { call, post } from '../support/http.js';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const f of cleanup) await f();
});

async function daemon(env: Record<string, string> = {}, dataDir?: string): Promise<TestDaemon> {
  const d = await startTestDaemon(env, dataDir === undefined ? {} : { dataDir });
  cleanup.push(() => d.destroy());
  return d;
}

const tokenizeBody = { tenant: 'demo', field: 'email', values: ['someone@example.org'] };

describe('revoked ORK', () => {
  it('is UNAUTHENTICATED after `sidekey ork revoke` and a restart', async () => {
    const d = await daemon();
    const t = await post(d.url, '/v1/tokenize', d.ork, tokenizeBody);
    assert.equal(t.status, 200);
    await d.stop();
    const env = { SIDEKEY_DATA_DIR: d.dataDir };
    const list = await sidekey(['ork', 'list', '--tenant', 'demo', '--json'], env);
    const [ork] = JSON.parse(list.stdout) as { id: string; state: string }[];
    assert.equal(ork?.state, 'active');
    const revoke = await sidekey(['ork', 'revoke', '--tenant', 'demo', ork!.id], env);
    assert.equal(revoke.code, 0, revoke.stderr);
    const d2 = await daemon({}, d.dataDir);
    const r = await post(d2.url, '/v1/detokenize', d.ork, { tenant: 'demo', tokens: t.body.tokens });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'UNAUTHENTICATED');
    assert.match(r.body.error.message, /revoked/);
  });
});

describe('destroyed tenant key', () => {
  it('is FAILED_PRECONDITION for tokenize and per item for detokenize', async () => {
    const d = await daemon();
    const t = await post(d.url, '/v1/tokenize', d.ork, tokenizeBody);
    await d.stop();
    // What `tenant shred` does to the key rows: overwrite the wrapped key material.
    const db = await PGlite.create(join(d.dataDir, 'pgdata'));
    await db.query(
      `update sidekey_tenant_keys set state = 'destroyed', wrapped_key = null where tenant = 'demo'`,
    );
    await db.close();
    const d2 = await daemon({}, d.dataDir);
    const tok = await post(d2.url, '/v1/tokenize', d.ork, tokenizeBody);
    assert.equal(tok.status, 409);
    assert.equal(tok.body.error.code, 'FAILED_PRECONDITION');
    const det = await post(d2.url, '/v1/detokenize', d.ork, { tenant: 'demo', tokens: t.body.tokens });
    assert.equal(det.status, 200);
    assert.equal(det.body.results[0].error.code, 'FAILED_PRECONDITION');
  });
});

describe('store unavailable', () => {
  it('answers UNAVAILABLE (503) and /readyz names the store', async () => {
    const d = await daemon();
    await d.daemon.store.close();
    const r = await post(d.url, '/v1/tokenize', d.ork, tokenizeBody);
    assert.equal(r.status, 503);
    assert.equal(r.body.error.code, 'UNAVAILABLE');
    const ready = await call(d.url, '/readyz');
    assert.equal(ready.status, 503);
    assert.equal(ready.body.status, 'not_ready');
    assert.notEqual(ready.body.checks.store, 'ok');
  });
});

describe('rate limit', () => {
  it('answers RESOURCE_EXHAUSTED (429) past the configured rate', async () => {
    const d = await daemon({ SIDEKEY_RATE_LIMIT_RPS: '1', SIDEKEY_RATE_LIMIT_BURST: '2' });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await post(d.url, '/v1/tokenize', d.ork, tokenizeBody));
    const limited = results.find((r) => r.status === 429);
    assert.ok(limited, `expected a 429 among ${results.map((r) => r.status)}`);
    assert.equal(limited.body.error.code, 'RESOURCE_EXHAUSTED');
    assert.equal(results[0]!.status, 200, 'the burst is served');
  });
});

describe('client token and served tenants', () => {
  it('needs the bearer token when configured, and serves only SIDEKEY_TENANTS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sidekey-token-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const tokenFile = join(dir, 'client-token');
    writeFileSync(tokenFile, 's3cret-client-token\n', { mode: 0o600 });
    const dataDir = await freshDataDir();
    const d = await daemon({ SIDEKEY_CLIENT_TOKEN_FILE: tokenFile, SIDEKEY_TENANTS: 'demo,other' }, dataDir);
    const none = await post(d.url, '/v1/tokenize', d.ork, tokenizeBody);
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'UNAUTHENTICATED');
    const wrong = await post(d.url, '/v1/tokenize', d.ork, tokenizeBody, { authorization: 'Bearer nope' });
    assert.equal(wrong.status, 401);
    const auth = { authorization: 'Bearer s3cret-client-token' };
    const ok = await post(d.url, '/v1/tokenize', d.ork, tokenizeBody, auth);
    assert.equal(ok.status, 200);
    const notServed = await post(d.url, '/v1/tokenize', d.ork, { ...tokenizeBody, tenant: 'acme' }, auth);
    assert.equal(notServed.status, 403);
    assert.equal(notServed.body.error.code, 'PERMISSION_DENIED');
    assert.equal((await call(d.url, '/healthz')).status, 200, 'health needs no client token');
  });
});
