/**
 * The audit log's partition key (migration 8) is computed by the writer in
 * JavaScript (auditEventTime) and, for rows moved from the old table, by
 * SQL (sidekey_audit_event_time). A retried insert must land on the same
 * row, so both must read the same time from the same text: compared here
 * on a real embedded store, on real event texts and on texts without one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { eventText } from '../../src/audit/event.js';
import { openEmbeddedStore } from '../../src/store/embedded.js';
import { auditEventTime } from '../../src/store/sql-store.js';

it('the writer and SQL read the same event time from the same text', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sidekey-event-time-'));
  try {
    const store = await openEmbeddedStore(dir);
    await store.migrate();
    await store.close();
    const texts = [
      eventText({ time: '2026-12-02T01:02:03.456Z', operation: 'detokenize', outcome: 'ok', caller: 'http' }),
      eventText({
        time: '1999-12-31T23:59:59.999Z',
        operation: 'tokenize',
        outcome: 'INVALID_ARGUMENT',
        caller: 'grpc',
      }),
      '{"time":"2026-01-01T00:00:00Z","operation":"x"}',
      '{"operation":"x","time":"2026-01-01T00:00:00.000Z"}', // not first: no time
      '{"detail":{"time":"2026-01-01T00:00:00Z"}}', // nested: no time
      '{}',
      'not json',
    ];
    const db = new PGlite(join(dir, 'pgdata'));
    try {
      for (const text of texts) {
        const r = await db.query<{ t: Date }>('select sidekey_audit_event_time($1) as t', [text]);
        const sql = r.rows[0]!.t.getTime();
        assert.equal(new Date(auditEventTime(text)).getTime(), sql, text);
      }
    } finally {
      await db.close();
    }
    assert.equal(auditEventTime(texts[0]!), '2026-12-02T01:02:03.456Z');
    assert.equal(auditEventTime('{}'), '1970-01-01T00:00:00Z');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
