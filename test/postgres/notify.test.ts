/**
 * Fleet key events: a sidecar's listener (its own connection, mutual TLS as
 * the sidecar role) hears what the operator announces, only once the
 * announcing transaction commits, and reconnects after a PostgreSQL restart,
 * reporting the gap so the caller can drop every cached key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SqlFleetRegistry } from '../../src/store/fleet-registry.js';
import {
  KEY_EVENTS_CHANNEL,
  type KeyEvent,
  type KeyEventListener,
  type ListenerState,
  listenKeyEvents,
  notifyKeyEvent,
} from '../../src/store/notify.js';
import { migratePostgres, openPostgresSqlClient } from '../../src/store/postgres.js';
import type { SqlClient } from '../../src/store/sql-client.js';
import { OPERATOR_ROLE, SIDECAR_ROLE, startPostgres, type TestPostgres } from '../support/postgres.js';

let h: TestPostgres;
let ops: SqlClient;
let listener: KeyEventListener | undefined;
const events: KeyEvent[] = [];
const states: ListenerState[] = [];
const errors: Error[] = [];

before(async () => {
  h = await startPostgres();
  await migratePostgres(h.connection(OPERATOR_ROLE));
  ops = await openPostgresSqlClient(h.connection(OPERATOR_ROLE));
});
after(async () => {
  await listener?.close();
  await ops?.close();
  await h?.destroy();
});

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('key events over LISTEN/NOTIFY', () => {
  it('the listener connects and receives events in order', async () => {
    listener = listenKeyEvents(
      h.connection(SIDECAR_ROLE),
      (e) => events.push(e),
      (s) => states.push(s),
      { minBackoffMs: 50, maxBackoffMs: 500, onError: (e) => errors.push(e) },
    );
    await until('connected', () => states.includes('connected'));
    const sent: KeyEvent[] = [
      { kind: 'ork-revoked', tenant: 'acme', orkId: 'a'.repeat(32) },
      { kind: 'tek-changed', tenant: 'acme' },
      { kind: 'tenant-shredded', tenant: 'globex' },
    ];
    for (const e of sent) await notifyKeyEvent(ops, e);
    await until('three events', () => events.length >= 3);
    assert.deepEqual(events, sent);
  });

  it('an event is delivered only when its transaction commits', async () => {
    events.length = 0;
    await assert.rejects(
      ops.transaction(async (tx) => {
        await notifyKeyEvent(tx, { kind: 'tek-changed', tenant: 'rolled-back' });
        throw new Error('abort');
      }),
      /abort/,
    );
    await ops.transaction(async (tx) => {
      await notifyKeyEvent(tx, { kind: 'tek-changed', tenant: 'committed' });
    });
    await until('the committed event', () => events.length >= 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(events, [{ kind: 'tek-changed', tenant: 'committed' }]);
  });

  it('malformed payloads are reported and ignored', async () => {
    events.length = 0;
    errors.length = 0;
    await ops.query('select pg_notify($1, $2)', [KEY_EVENTS_CHANNEL, '{"kind":"drop-everything"}']);
    await ops.query('select pg_notify($1, $2)', [KEY_EVENTS_CHANNEL, 'not json']);
    await notifyKeyEvent(ops, { kind: 'tek-changed', tenant: 'after' });
    await until('the valid event', () => events.length >= 1);
    assert.deepEqual(events, [{ kind: 'tek-changed', tenant: 'after' }]);
    assert.equal(errors.filter((e) => /malformed notification/.test(e.message)).length, 2);
  });

  it('survives a PostgreSQL restart: reports the gap, reconnects, hears events again', async () => {
    states.length = 0;
    events.length = 0;
    await h.restart();
    await until('disconnected then connected', () => states.join(',') === 'disconnected,connected');
    await notifyKeyEvent(ops, { kind: 'ork-revoked', tenant: 'acme', orkId: 'b'.repeat(32) });
    await until('the event after the restart', () => events.length >= 1);
    assert.deepEqual(events, [{ kind: 'ork-revoked', tenant: 'acme', orkId: 'b'.repeat(32) }]);
  });

  it('keeps retrying while PostgreSQL is down, then reconnects', async () => {
    states.length = 0;
    await h.stop();
    await until('disconnected', () => states.includes('disconnected'));
    await new Promise((r) => setTimeout(r, 700)); // several failed attempts
    assert.deepEqual(states, ['disconnected']);
    await h.start();
    await until('connected', () => states.includes('connected'));
    events.length = 0;
    await notifyKeyEvent(ops, { kind: 'tenant-shredded', tenant: 'acme' });
    await until('the event', () => events.length >= 1);
  });

  it('close stops listening and reconnecting', async () => {
    const l = listener!;
    listener = undefined;
    await l.close();
    states.length = 0;
    events.length = 0;
    await notifyKeyEvent(ops, { kind: 'tek-changed', tenant: 'late' });
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(events, []);
    assert.ok(!states.includes('connected'));
  });

  it('with readLatestChange, reports the newest numbered change made before it listened', async () => {
    const registry = new SqlFleetRegistry(ops);
    await registry.announceChange('tek-added', 'acme');
    const newest = await registry.announceChange('ork-revoked', 'acme');
    const seen: [ListenerState, number | undefined][] = [];
    const heard: KeyEvent[] = [];
    const l = listenKeyEvents(
      h.connection(SIDECAR_ROLE),
      (e) => heard.push(e),
      (s, latest) => seen.push([s, latest]),
      { readLatestChange: true, onError: (e) => errors.push(e) },
    );
    try {
      await until('connected', () => seen.length > 0);
      assert.deepEqual(seen, [['connected', newest]]);
      // A change made afterwards arrives as its own event.
      const next = await registry.announceChange('tenant-shredded', 'acme');
      await until('the change event', () => heard.length > 0);
      assert.deepEqual(heard, [{ kind: 'change', tenant: 'acme', changeId: next }]);
    } finally {
      await l.close();
    }
  });
});
