import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { instrumentKek, type KmsCallObservation } from './instrument.js';
import { type KekPort, KmsError, type KmsHealth } from './port.js';

function fakePort(behaviour: { fail?: unknown; health?: KmsHealth }): KekPort {
  return {
    provider: 'aws',
    kekRef: 'aws:alias/x',
    wrap: async () => {
      if (behaviour.fail !== undefined) throw behaviour.fail;
      return Buffer.from('w');
    },
    unwrap: async () => {
      if (behaviour.fail !== undefined) throw behaviour.fail;
      return Buffer.from('k');
    },
    health: async () => behaviour.health ?? { ok: true },
    close: async () => {},
  };
}

describe('instrumentKek', () => {
  it('passes calls through and reports provider, operation, outcome and duration', async () => {
    const seen: KmsCallObservation[] = [];
    const kek = instrumentKek(fakePort({}), (o) => seen.push(o));
    assert.equal(kek.provider, 'aws');
    assert.equal(kek.kekRef, 'aws:alias/x');
    assert.deepEqual(await kek.wrap(Buffer.alloc(1), {}), Buffer.from('w'));
    assert.deepEqual(await kek.unwrap(Buffer.alloc(1), {}), Buffer.from('k'));
    assert.deepEqual(await kek.health(), { ok: true });
    assert.deepEqual(
      seen.map(({ provider, operation, outcome }) => [provider, operation, outcome]),
      [
        ['aws', 'wrap', 'ok'],
        ['aws', 'unwrap', 'ok'],
        ['aws', 'health', 'ok'],
      ],
    );
    for (const o of seen) assert.ok(o.seconds >= 0 && o.seconds < 5);
  });

  it('reports the KmsError kind as outcome and rethrows the same error', async () => {
    for (const kind of ['integrity', 'unavailable', 'denied'] as const) {
      const seen: KmsCallObservation[] = [];
      const error = new KmsError(kind, 'x');
      const kek = instrumentKek(fakePort({ fail: error }), (o) => seen.push(o));
      await assert.rejects(kek.unwrap(Buffer.alloc(1), {}), (err) => err === error);
      assert.equal(seen[0]?.outcome, kind);
    }
  });

  it("reports other failures and unhealthy checks as 'error'", async () => {
    const seen: KmsCallObservation[] = [];
    const kek = instrumentKek(
      fakePort({ fail: new TypeError('bug'), health: { ok: false, reason: 'r' } }),
      (o) => seen.push(o),
    );
    await assert.rejects(kek.wrap(Buffer.alloc(1), {}), TypeError);
    assert.deepEqual(await kek.health(), { ok: false, reason: 'r' });
    assert.deepEqual(
      seen.map((o) => o.outcome),
      ['error', 'error'],
    );
  });

  it('never lets a failing observer break a key operation', async () => {
    const kek = instrumentKek(fakePort({}), () => {
      throw new Error('metrics down');
    });
    assert.deepEqual(await kek.wrap(Buffer.alloc(1), {}), Buffer.from('w'));
  });
});
