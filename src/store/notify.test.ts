import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeKeyEvent, encodeKeyEvent, type KeyEvent } from './notify.js';

describe('key event payloads', () => {
  const events: KeyEvent[] = [
    { kind: 'ork-revoked', tenant: 'acme', orkId: '0123456789abcdef0123456789abcdef' },
    { kind: 'tek-changed', tenant: 'acme' },
    { kind: 'tenant-shredded', tenant: 'globex' },
    { kind: 'change', tenant: 'acme', changeId: 42 },
    { kind: 'ork-changed', tenant: 'acme', orkId: '0123456789abcdef0123456789abcdef' },
    { kind: 'ingest-keys-changed', tenant: 'acme' },
  ];

  it('round-trip', () => {
    for (const e of events) assert.deepEqual(decodeKeyEvent(encodeKeyEvent(e)), e);
  });

  it('pinned format (version 1)', () => {
    assert.equal(
      encodeKeyEvent({ kind: 'tek-changed', tenant: 'acme' }),
      '{"v":1,"kind":"tek-changed","tenant":"acme"}',
    );
    assert.equal(
      encodeKeyEvent({ kind: 'ork-revoked', tenant: 'a', orkId: 'b' }),
      '{"v":1,"kind":"ork-revoked","tenant":"a","orkId":"b"}',
    );
    assert.equal(
      encodeKeyEvent({ kind: 'change', tenant: 'a', changeId: 9 }),
      '{"v":1,"kind":"change","tenant":"a","changeId":9}',
    );
    assert.equal(
      encodeKeyEvent({ kind: 'ork-changed', tenant: 'a', orkId: 'b' }),
      '{"v":1,"kind":"ork-changed","tenant":"a","orkId":"b"}',
    );
  });

  it('drops extra fields', () => {
    const e = { kind: 'tek-changed', tenant: 'acme', secret: 'x' } as unknown as KeyEvent;
    assert.equal(encodeKeyEvent(e), '{"v":1,"kind":"tek-changed","tenant":"acme"}');
  });

  it('rejects malformed payloads', () => {
    for (const p of [
      '',
      'null',
      '[]',
      '"x"',
      '{"v":2,"kind":"tek-changed","tenant":"a"}',
      '{"kind":"tek-changed","tenant":"a"}',
      '{"v":1,"kind":"drop-all","tenant":"a"}',
      '{"v":1,"kind":"tek-changed"}',
      '{"v":1,"kind":"tek-changed","tenant":""}',
      '{"v":1,"kind":"tek-changed","tenant":7}',
      '{"v":1,"kind":"tek-changed","tenant":"a\\nb"}',
      '{"v":1,"kind":"ork-revoked","tenant":"a"}',
      '{"v":1,"kind":"change","tenant":"a"}',
      '{"v":1,"kind":"change","tenant":"a","changeId":0}',
      '{"v":1,"kind":"change","tenant":"a","changeId":1.5}',
      '{"v":1,"kind":"change","tenant":"a","changeId":"7"}',
      '{"v":1,"kind":"ork-changed","tenant":"a"}',
      `{"v":1,"kind":"tek-changed","tenant":"${'a'.repeat(300)}"}`,
    ]) {
      assert.equal(decodeKeyEvent(p), undefined, p);
    }
  });

  it('refuses to encode a malformed event', () => {
    assert.throws(() => encodeKeyEvent({ kind: 'tek-changed', tenant: '' }));
    assert.throws(() => encodeKeyEvent({ kind: 'ork-revoked', tenant: 'a', orkId: '' }));
    assert.throws(() => encodeKeyEvent({ kind: 'change', tenant: 'a', changeId: -1 }));
    assert.throws(() => encodeKeyEvent({ kind: 'ork-changed', tenant: 'a', orkId: '' }));
  });
});
