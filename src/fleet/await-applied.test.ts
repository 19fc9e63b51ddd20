import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SidecarRow } from '../store/index.js';
import { awaitFleetApplied, describeFleetWait } from './await-applied.js';

function row(id: string, more: Partial<SidecarRow> = {}): SidecarRow {
  return {
    sidecarId: id,
    host: `pod-${id}`,
    version: '0.1.0',
    tenants: [],
    startedAt: new Date(0),
    heartbeatSeconds: 1,
    keyTtlSeconds: 1,
    lastSeen: new Date(),
    silentSeconds: 0,
    appliedChange: 0,
    appliedAt: null,
    applied: undefined,
    stoppedAt: null,
    ...more,
  };
}

/** A registry whose rows change as the test says, poll by poll. */
function registry(polls: SidecarRow[][]) {
  let i = 0;
  return {
    calls: () => i,
    async listSidecars() {
      const r = polls[Math.min(i, polls.length - 1)]!;
      i++;
      return r;
    },
  };
}

describe('awaitFleetApplied', () => {
  it('returns once every live sidecar has acknowledged', async () => {
    const reg = registry([
      [row('a'), row('b')],
      [row('a', { appliedChange: 7 }), row('b')],
      [row('a', { appliedChange: 7 }), row('b', { appliedChange: 8 })],
    ]);
    const r = await awaitFleetApplied(reg, 7, { pollMs: 1 });
    assert.deepEqual(
      r.applied.map((s) => s.sidecarId),
      ['a', 'b'],
    );
    assert.equal(r.total, 2);
    assert.deepEqual(r.timedOut, []);
    assert.equal(reg.calls(), 3);
    assert.match(describeFleetWait(r), /^applied by 2 of 2 sidecars \(/);
  });

  it('waits the TTL only for a sidecar that stopped answering, and says so once', async () => {
    const told: string[] = [];
    const reg = registry([
      [row('a'), row('frozen', { silentSeconds: 0 })],
      [row('a', { appliedChange: 3 }), row('frozen', { silentSeconds: 5 })],
    ]);
    const r = await awaitFleetApplied(reg, 3, {
      pollMs: 20,
      onFallback: (silent) => told.push(silent.map((s) => s.sidecarId).join(',')),
    });
    assert.deepEqual(
      r.applied.map((s) => s.sidecarId),
      ['a'],
    );
    assert.deepEqual(
      r.timedOut.map((s) => s.sidecarId),
      ['frozen'],
    );
    assert.deepEqual(told, ['frozen']);
    assert.match(
      describeFleetWait(r),
      /applied by 1 of 2 sidecars; waited the cache TTL for 1 that did not answer: frozen/,
    );
  });

  it('leaves out sidecars stopped or silent for longer than their TTL, and counts one stopping meanwhile', async () => {
    const reg = registry([
      [
        row('a'),
        row('gone', { silentSeconds: 3600 }),
        row('stopped-before', { stoppedAt: new Date() }),
        row('stopping'),
      ],
      [row('a', { appliedChange: 1 }), row('stopping', { stoppedAt: new Date() })],
    ]);
    const r = await awaitFleetApplied(reg, 1, { pollMs: 1 });
    assert.equal(r.total, 2);
    assert.deepEqual(
      r.stopped.map((s) => s.sidecarId),
      ['stopping'],
    );
    assert.match(describeFleetWait(r), /applied by 1 of 2 sidecars; 1 stopped meanwhile/);
  });

  it('stops early when asked, reporting who was still pending', async () => {
    const reg = registry([[row('slow', { keyTtlSeconds: 3600 })]]);
    let polls = 0;
    const r = await awaitFleetApplied(reg, 1, { pollMs: 1, stopped: () => ++polls > 2 });
    assert.equal(r.interrupted, true);
    assert.deepEqual(
      r.timedOut.map((s) => s.sidecarId),
      ['slow'],
    );
  });

  it('has nothing to wait for without sidecars', async () => {
    const r = await awaitFleetApplied(registry([[]]), 1);
    assert.equal(r.total, 0);
    assert.match(describeFleetWait(r), /^applied by 0 of 0 sidecars/);
  });
});
