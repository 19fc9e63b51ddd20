import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { AUDIT_LABEL, ChainHead, chainHash, GENESIS_HASH } from './chain.js';
import { eventText } from './event.js';

const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => 0x60 + i));
const CHAIN_ID = '00112233445566778899aabbccddeeff';
// The worked example of docs/formats.md §13.
const EVENT = eventText({
  time: '2025-01-01T00:00:00.000Z',
  operation: 'tokenize',
  outcome: 'ok',
  tenant: 'acme',
  fields: ['email'],
  orkId: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf',
  tekVersions: [1],
  count: 1,
  caller: 'http',
  requestId: 'req-1',
  latencyMs: 0.5,
});

describe('audit chain', () => {
  it('pinned: event text, label and the first two hashes (docs/formats.md §11, §13)', () => {
    assert.equal(
      EVENT,
      '{"time":"2025-01-01T00:00:00.000Z","operation":"tokenize","outcome":"ok","tenant":"acme","fields":["email"],"orkId":"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf","tekVersions":[1],"count":1,"caller":"http","requestId":"req-1","latencyMs":0.5}',
    );
    assert.equal(AUDIT_LABEL.toString('hex'), `0010${Buffer.from('sidekey/audit/v1').toString('hex')}`);
    assert.deepEqual(GENESIS_HASH, Buffer.alloc(32));
    const head = new ChainHead(Buffer.from(KEY), CHAIN_ID);
    const first = head.append(EVENT);
    assert.equal(first.seq, 1);
    assert.deepEqual(first.prevHash, Buffer.alloc(32));
    assert.equal(
      first.hash.toString('hex'),
      'e2fd7694a8af05064954f35fffc37475b627abcd8beb7c27060875cee66a797c',
    );
    const second = head.append(EVENT);
    assert.equal(second.seq, 2);
    assert.equal(
      second.hash.toString('hex'),
      '35754db98b8cba57a007c742b6aaf64dae4446704e7ba7b102479da49bd191fd',
    );
  });

  it('hash_n = HMAC-SHA256(key, lp(label) ‖ lp(chainId) ‖ u64be(n) ‖ hash_{n-1} ‖ event), written out', () => {
    const seq = Buffer.alloc(8);
    seq.writeBigUInt64BE(1n);
    const idLp = Buffer.concat([Buffer.from([0, CHAIN_ID.length]), Buffer.from(CHAIN_ID)]);
    const manual = createHmac('sha256', KEY)
      .update(
        Buffer.concat([
          Buffer.from('0010', 'hex'),
          Buffer.from('sidekey/audit/v1'),
          idLp,
          seq,
          Buffer.alloc(32),
        ]),
      )
      .update(Buffer.from(EVENT, 'utf8'))
      .digest();
    assert.deepEqual(chainHash(KEY, CHAIN_ID, 1, GENESIS_HASH, EVENT), manual);
  });

  it('each link carries the previous hash, and every input changes the hash', () => {
    const head = new ChainHead(Buffer.from(KEY), CHAIN_ID);
    const events = ['a', 'b', 'c', 'd'].map((x) => `{"e":"${x}"}`);
    let prev: Buffer = GENESIS_HASH;
    events.forEach((text, i) => {
      const link = head.append(text);
      assert.equal(link.seq, i + 1);
      assert.deepEqual(link.prevHash, prev);
      assert.deepEqual(link.hash, chainHash(KEY, CHAIN_ID, i + 1, prev, text));
      prev = link.hash;
    });
    const base = chainHash(KEY, CHAIN_ID, 1, GENESIS_HASH, EVENT);
    const otherKey = Buffer.from(KEY);
    otherKey[0]! ^= 1;
    const otherPrev = Buffer.alloc(32);
    otherPrev[31] = 1;
    for (const changed of [
      chainHash(otherKey, CHAIN_ID, 1, GENESIS_HASH, EVENT),
      chainHash(KEY, `${CHAIN_ID}0`, 1, GENESIS_HASH, EVENT),
      chainHash(KEY, CHAIN_ID, 2, GENESIS_HASH, EVENT),
      chainHash(KEY, CHAIN_ID, 1, otherPrev, EVENT),
      chainHash(KEY, CHAIN_ID, 1, GENESIS_HASH, `${EVENT} `),
    ]) {
      assert.notDeepEqual(changed, base);
    }
  });

  it('two chains with the same events diverge (chain id and key are bound)', () => {
    const a = new ChainHead(Buffer.from(KEY), CHAIN_ID);
    const b = new ChainHead(Buffer.from(KEY), 'ffeeddccbbaa99887766554433221100');
    assert.notDeepEqual(a.append(EVENT).hash, b.append(EVENT).hash);
  });

  it('event text omits absent keys and never reorders them', () => {
    assert.equal(
      eventText({ outcome: 'ok', operation: 'delete', time: 't', caller: 'cli', tenant: 'x' }),
      '{"time":"t","operation":"delete","outcome":"ok","tenant":"x","caller":"cli"}',
    );
  });
});
