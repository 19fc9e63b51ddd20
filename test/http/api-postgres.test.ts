/**
 * The HTTP API suite on the `postgres` store: a harness PostgreSQL with TLS
 * and client-certificate logins only; schema, tenants and ORKs made by the
 * real CLI with the operator certificate; the daemon logs in with the
 * sidecar certificate (and so has only the sidecar role's grants).
 */

import assert from 'node:assert/strict';
import { startFleet } from '../support/fleet.js';
import { keyMaterial } from '../support/secrets.js';
import { DEMO_POLICIES, runApiSuite } from './api-suite.js';

runApiSuite({
  name: 'postgres',
  async setup() {
    const fleet = await startFleet();
    try {
      await fleet.createTenant('demo');
      await fleet.createTenant('acme');
      const demo = await fleet.issueOrk('demo', 'demo app');
      const demo2 = await fleet.issueOrk('demo', 'demo batch');
      const acme = await fleet.issueOrk('acme', 'acme app');
      for (const policy of DEMO_POLICIES) {
        const r = await fleet.ops(['policy', 'set', '--tenant', 'demo', ...policy]);
        assert.equal(r.code, 0, r.stderr);
      }
      const d = await fleet.startSidecar();
      return {
        url: d.url,
        port: d.daemon.httpPort,
        ork: demo.ork,
        demoOrk2: demo2.ork,
        acmeOrk: acme.ork,
        async rowCount() {
          const [row] = await fleet.pg.adminQuery<{ n: string }>('select count(*) as n from sidekey_tokens');
          return Number(row?.n);
        },
        async keys() {
          const orks = [demo.ork, demo2.ork, acme.ork];
          return (
            await Promise.all(orks.map((o) => keyMaterial(fleet.opsDir, d.daemon.store, o, 'email')))
          ).flatMap((k) => k.secrets);
        },
        teardown: () => fleet.destroy(),
      };
    } catch (err) {
      await fleet.destroy();
      throw err;
    }
  },
});
