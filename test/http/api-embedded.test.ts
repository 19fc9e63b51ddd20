/**
 * The HTTP API suite on the embedded store (PGlite), local KEK: tenant `demo`
 * and its first ORK come from the first-start bootstrap, the rest from the CLI.
 */
import assert from 'node:assert/strict';
import { sidekey } from '../support/cli.js';
import { freshDataDir, startTestDaemon } from '../support/daemon.js';
import { keyMaterial } from '../support/secrets.js';
import { DEMO_POLICIES, runApiSuite } from './api-suite.js';

runApiSuite({
  name: 'embedded',
  async setup() {
    const dataDir = await freshDataDir();
    const env = { SIDEKEY_DATA_DIR: dataDir };
    assert.equal((await sidekey(['tenant', 'create', 'acme'], env)).code, 0);
    const acme = await sidekey(['ork', 'issue', '--tenant', 'acme', '--label', 'acme app'], env);
    assert.equal(acme.code, 0, acme.stderr);
    // The first start bootstraps tenant demo and writes its ORK; the CLI needs the data directory free.
    const first = await startTestDaemon({}, { dataDir });
    await first.stop();
    const second = await sidekey(['ork', 'issue', '--tenant', 'demo'], env);
    assert.equal(second.code, 0, second.stderr);
    for (const policy of DEMO_POLICIES) {
      const r = await sidekey(['policy', 'set', '--tenant', 'demo', ...policy], env);
      assert.equal(r.code, 0, r.stderr);
    }
    const d = await startTestDaemon({}, { dataDir });
    return {
      url: d.url,
      port: d.daemon.httpPort,
      ork: d.ork,
      demoOrk2: second.stdout.trim(),
      acmeOrk: acme.stdout.trim(),
      async rowCount() {
        const rows = await d.daemon.store.keyStatus();
        return rows.reduce((n, r) => n + r.records, 0);
      },
      async keys() {
        const orks = [d.ork, second.stdout.trim(), acme.stdout.trim()];
        return (await Promise.all(orks.map((o) => keyMaterial(dataDir, d.daemon.store, o, 'email')))).flatMap(
          (k) => k.secrets,
        );
      },
      teardown: () => d.destroy(),
    };
  },
});
