import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { protoRoot } from './proto.js';
import { checkWire, type StringField } from './utf8.js';

const fields = new Map<number, StringField>([
  [1, { name: 'tenant', repeated: false }],
  [3, { name: 'values', repeated: true }],
]);
const len = (n: number, bytes: number[] | Buffer) => [(n << 3) | 2, bytes.length, ...bytes];
const text = (s: string) => [...Buffer.from(s, 'utf8')];

describe('checkWire', () => {
  it('accepts valid UTF-8, empty strings and unknown fields of every wire type', () => {
    const msg = Buffer.from([
      ...len(1, text('demo')),
      ...len(3, text('')),
      ...len(3, text('Zoë 👩‍💻')),
      ...[(9 << 3) | 0, 0x96, 0x01], // varint
      ...[(10 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8], // fixed64
      ...[(11 << 3) | 5, 1, 2, 3, 4], // fixed32
      ...len(12, [0xff]), // unknown bytes field: not ours to judge
      ...[(13 << 3) | 3, ...len(1, [0xff]), (13 << 3) | 4], // a group, skipped
    ]);
    assert.deepEqual(checkWire(msg, fields), { ok: true });
    assert.deepEqual(checkWire(Buffer.alloc(0), fields), { ok: true });
  });

  it('names the first string that is not UTF-8, with its index in a repeated field', () => {
    const surrogate = [0xed, 0xa0, 0x80]; // an encoded lone surrogate is not UTF-8
    const truncated = [0xf0, 0x9f, 0x98]; // decodes to one U+FFFD: same length, different value
    for (const bad of [[0xff], surrogate, truncated, [0xc0, 0x80]]) {
      const msg = Buffer.from([...len(1, text('demo')), ...len(3, text('ok')), ...len(3, bad)]);
      assert.deepEqual(checkWire(msg, fields), { ok: false, malformed: false, invalidUtf8: 'values[1]' });
    }
    assert.deepEqual(checkWire(Buffer.from(len(1, [0xff])), fields), {
      ok: false,
      malformed: false,
      invalidUtf8: 'tenant',
    });
  });

  it('calls truncated or broken messages malformed (the decoder would accept them)', () => {
    for (const bad of [
      [0x0a, 0x05, 0x64], // length past the end
      [0x0a], // no length
      [0x80], // unfinished tag
      [0x07], // field number 0
      [(2 << 3) | 6], // wire type 6
      [(2 << 3) | 3], // unclosed group
      [(2 << 3) | 4], // end of a group never opened
      [(2 << 3) | 1, 1, 2], // fixed64 cut short
    ]) {
      assert.deepEqual(checkWire(Buffer.from(bad), fields), { ok: false, malformed: true }, String(bad));
    }
  });
});

describe('protoRoot', () => {
  it('finds proto/ from the sources and from the build output alike', () => {
    const fromSrc = protoRoot();
    const repo = join(fromSrc, '..');
    assert.equal(protoRoot(join(repo, 'dist/src/transport/grpc')), fromSrc);
  });
});
