import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TenantKeyRow } from '../store/index.js';
import { formatDuration, parseDuration, planTekRotation, remainingWaitMs } from './tek-rotation.js';

const DAY = 86_400_000;
const now = new Date('2025-06-01T00:00:00Z');
const key = (version: number, state: TenantKeyRow['state'], ageDays: number): TenantKeyRow => ({
  tenant: 't',
  version,
  state,
  kekRef: 'local:x',
  wrapped: state === 'destroyed' ? null : Buffer.alloc(1),
  createdAt: new Date(now.getTime() - ageDays * DAY),
});

describe('planTekRotation', () => {
  it('starts a rotation to the next version', () => {
    assert.deepEqual(planTekRotation([key(1, 'retired', 200), key(2, 'primary', 100)], { now }), {
      action: 'start',
      primary: 2,
      next: 3,
    });
  });
  it('skips a primary younger than --if-older-than, rotates an older one', () => {
    const keys = [key(1, 'primary', 30)];
    const skip = planTekRotation(keys, { now, ifOlderThanMs: 90 * DAY });
    assert.equal(skip.action, 'skip');
    assert.match((skip as { reason: string }).reason, /30d old, younger than 90d/);
    assert.equal(planTekRotation([key(1, 'primary', 90)], { now, ifOlderThanMs: 90 * DAY }).action, 'start');
  });
  it('completes a half-done rotation instead of adding a version, whatever the age', () => {
    const plan = planTekRotation([key(1, 'primary', 1), key(2, 'active', 0)], {
      now,
      ifOlderThanMs: 90 * DAY,
    });
    assert.equal(plan.action, 'resume');
    assert.equal((plan as { pending: number }).pending, 2);
  });
  it('refuses a tenant whose keys were destroyed', () => {
    assert.throws(() => planTekRotation([key(1, 'destroyed', 1)], { now }), /destroyed/);
  });
});

describe('durations and waits', () => {
  it('parses and formats', () => {
    assert.equal(parseDuration('90d'), 90 * DAY);
    assert.equal(parseDuration('45s'), 45_000);
    for (const bad of ['', '90', 'd', '1.5d', '-1d', '90 days'])
      assert.equal(parseDuration(bad), undefined, bad);
    assert.equal(formatDuration(3 * DAY + 5), '3d');
    assert.equal(formatDuration(90_000), '1m');
  });
  it('waits only what is left of the propagation delay', () => {
    assert.equal(remainingWaitMs(new Date(now.getTime() - 100_000), 300_000, now), 200_000);
    assert.equal(remainingWaitMs(new Date(now.getTime() - 400_000), 300_000, now), 0);
    assert.equal(
      remainingWaitMs(new Date(now.getTime() + 10_000_000), 300_000, now),
      300_000,
      'clock skew: at most the delay',
    );
  });
});
