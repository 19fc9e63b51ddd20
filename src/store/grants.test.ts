import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quoteRole, SIDEKEY_TABLES, sidecarGrants } from './grants.js';
import { MIGRATIONS } from './migrations.js';

describe('sidecarGrants', () => {
  it('revokes everything, then grants exactly the sidecar privileges', () => {
    const sql = sidecarGrants('sidekey');
    assert.match(sql, /^revoke all on sidekey_schema_migrations, .* from "sidekey";/);
    assert.match(sql, /grant select on sidekey_tenants to "sidekey";/);
    assert.match(sql, /grant select on sidekey_tenant_keys to "sidekey";/);
    assert.match(sql, /grant select on sidekey_orks to "sidekey";/);
    assert.match(sql, /grant select, insert, delete on sidekey_tokens to "sidekey";/);
    assert.match(sql, /grant select, insert on sidekey_audit_chains to "sidekey";/);
    assert.match(sql, /grant select, insert on sidekey_audit_events to "sidekey";/);
    assert.match(sql, /grant select, insert on sidekey_audit_log to "sidekey";/);
    assert.doesNotMatch(sql, /on sidekey_audit_(anchors|exports|export_chains|prunes|log_default) to/);
    assert.match(sql, /grant execute on function sidekey_audit_roll_forward\(date, integer\) to "sidekey";/);
    assert.match(sql, /grant select on sidekey_schema_migrations to "sidekey";/);
    assert.match(sql, /grant select, insert, update on sidekey_sidecars to "sidekey";/);
    assert.match(sql, /grant select on sidekey_changes to "sidekey";/);
    // Data subjects: keys made on first use, overwritten and deleted by forget.
    assert.match(sql, /grant select, insert, update, delete on sidekey_subject_keys to "sidekey";/);
    // Update only on the sidecar's own registry table and the subject keys.
    assert.equal(sql.match(/update/gi)?.length, 2);
    assert.doesNotMatch(sql, /truncate|references|trigger|all privileges/i);
  });

  it('covers every table the migrations create', () => {
    const created = MIGRATIONS.flatMap((m) => [...m.sql.matchAll(/create table (\w+)/g)].map((x) => x[1]));
    for (const t of created)
      assert.ok((SIDEKEY_TABLES as readonly string[]).includes(t!), `${t} has no grant rule`);
  });

  it('refuses role names that are not plain identifiers', () => {
    for (const bad of ['', 'Sidekey', 'a b', 'x"; drop table y; --', '1role', 'a'.repeat(64), 'rôle']) {
      assert.throws(() => sidecarGrants(bad), /invalid role name/);
    }
    assert.equal(quoteRole('sidekey_2'), '"sidekey_2"');
  });
});
