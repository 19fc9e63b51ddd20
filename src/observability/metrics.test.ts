import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createCertificateAuthority } from '../certs/x509.js';
import { Metrics } from './metrics.js';

describe('Metrics', () => {
  it('exports the fleet metrics only for a fleet member (an embedded sidecar would look disconnected)', async () => {
    const alone = await new Metrics({ queueDepth: () => 0 }).registry.metrics();
    assert.doesNotMatch(alone, /sidekey_fleet_/);
    const member = new Metrics({ queueDepth: () => 0, fleet: true });
    assert.match(await member.registry.metrics(), /^sidekey_fleet_listener_connected 0$/m);
    member.listenerState(true);
    member.fleetChangeApplied(12, 0.05);
    const text = await member.registry.metrics();
    assert.match(text, /^sidekey_fleet_listener_connected 1$/m);
    assert.match(text, /^sidekey_fleet_change_applied 12$/m);
    assert.match(text, /^sidekey_fleet_change_lag_seconds_count 1$/m);
  });

  it('exports the audit backlog and a certificate expiry read at scrape time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sidekey-metrics-'));
    try {
      const ca = createCertificateAuthority({ commonName: 'test', days: 30 });
      const file = join(dir, 'client.crt');
      writeFileSync(file, ca.cert);
      let backlog = 3;
      const m = new Metrics({
        queueDepth: () => 0,
        auditBacklog: () => backlog,
        certificates: { postgres_client: file, missing: join(dir, 'nope.crt') },
      });
      let text = await m.registry.metrics();
      assert.match(text, /^sidekey_audit_backlog 3$/m);
      const expiry =
        /^sidekey_certificate_expiry_timestamp_seconds\{certificate="postgres_client"\} (\d+)$/m.exec(text);
      assert.ok(expiry);
      const days = (Number(expiry[1]) * 1000 - Date.now()) / 86_400_000;
      assert.ok(days > 29 && days <= 30, `${days} days`);
      assert.doesNotMatch(text, /certificate="missing"/);
      backlog = 0;
      text = await m.registry.metrics();
      assert.match(text, /^sidekey_audit_backlog 0$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
