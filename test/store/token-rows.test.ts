/**
 * Both token writers send the rows of a batch as (token, envelope, group)
 * plus one entry per run of rows with equal tenant, field, ORK id, TEK
 * version, kind, expiry and subject key (src/store/sql-rows.ts). Here a
 * batch whose groups interleave, repeat and differ in each of those columns
 * is written to a real embedded store by both writers and read back row by
 * row: every record must carry its own group's columns and its own bytes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { openEmbeddedStore } from '../../src/store/embedded.js';
import type { TokenRow } from '../../src/store/index.js';
import { tokenRowParams } from '../../src/store/sql-rows.js';

const ORK_A = 'a'.repeat(32);
const ORK_B = 'b'.repeat(32);
const LATER = new Date('2099-01-02T03:04:05.678Z');
let n = 0;
function row(over: Partial<TokenRow> & Pick<TokenRow, 'tenant'>): TokenRow {
  n++;
  return {
    token: `tok_${String(n).padStart(22, '0')}`,
    field: 'email',
    orkId: ORK_A,
    tekVersion: 1,
    envelope: randomBytes(45 + (n % 7)),
    ...over,
  };
}

it('every row of a batch keeps its own group columns and bytes, through both writers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sidekey-token-rows-'));
  try {
    const store = await openEmbeddedStore(dir);
    await store.migrate();
    await store.createTenant('t1', { kekRef: 'local:test', wrapped: randomBytes(60) });
    const subject = await store.ensureSubjectKey('t1', 'user-1', 'c'.repeat(32), {
      kekRef: 'local:test',
      wrapped: randomBytes(60),
    });
    const plain: TokenRow[] = [
      row({ tenant: 't1' }),
      row({ tenant: 't1' }),
      row({ tenant: 't1', field: 'phone', kind: 'deterministic', expiresAt: LATER }),
      row({ tenant: 't1' }), // the first group's columns again, after another group
      row({ tenant: 't2', orkId: ORK_B }),
      row({ tenant: 't2', orkId: ORK_B, tekVersion: 2 }),
      row({ tenant: 't2', orkId: ORK_B, tekVersion: 2, kind: 'fpe' }),
      row({ tenant: 't2', orkId: ORK_B, tekVersion: 2, kind: 'fpe', expiresAt: LATER }),
    ];
    const subjects: TokenRow[] = [
      row({ tenant: 't1', subjectKeyId: subject.keyId }),
      row({ tenant: 't1', subjectKeyId: subject.keyId, field: 'phone' }),
      row({ tenant: 't1', subjectKeyId: subject.keyId }),
    ];
    // Groups are runs of equal columns: 7 for the plain rows (the fourth row starts a new run).
    assert.equal((tokenRowParams(plain).params[3] as string[]).length, 7);
    await store.write({ tokens: plain, audit: [] });
    const found = await store.writeSubjectTokens(subjects);
    assert.deepEqual(found, [{ tenant: 't1', keyId: subject.keyId }]);

    const all = [...plain, ...subjects];
    const stored = new Map((await store.getTokens(all.map((x) => x.token))).map((x) => [x.token, x]));
    assert.equal(stored.size, all.length);
    for (const want of all) {
      const got = stored.get(want.token)!;
      assert.equal(got.tenant, want.tenant, want.token);
      assert.equal(got.field, want.field, want.token);
      assert.equal(got.orkId, want.orkId, want.token);
      assert.equal(got.tekVersion, want.tekVersion, want.token);
      assert.equal(got.envelope.toString('hex'), want.envelope.toString('hex'), want.token);
      assert.equal(got.expiresAt?.getTime() ?? null, want.expiresAt?.getTime() ?? null, want.token);
      assert.equal(got.subjectKeyId, want.subjectKeyId ?? null, want.token);
    }
    await store.close();

    const db = new PGlite(join(dir, 'pgdata'));
    try {
      const kinds = await db.query<{ token: string; kind: string }>('select token, kind from sidekey_tokens');
      const kindOf = new Map(kinds.rows.map((x) => [x.token, x.kind]));
      for (const want of all) assert.equal(kindOf.get(want.token), want.kind ?? 'random', want.token);
    } finally {
      await db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
