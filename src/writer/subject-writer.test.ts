import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SubjectKeyRef, TokenRow } from '../store/index.js';
import { SubjectWriter } from './subject-writer.js';

const row = (tenant: string, keyId: string, token: string): TokenRow => ({
  token,
  tenant,
  field: 'f',
  orkId: 'o',
  tekVersion: 1,
  envelope: Buffer.alloc(45),
  subjectKeyId: keyId,
});

describe('SubjectWriter', () => {
  it('flushes concurrent requests together and tells each whether its key was found', async () => {
    const calls: string[][] = [];
    const writer = new SubjectWriter({
      maxRows: 100,
      maxInFlight: 1,
      write: async (rows): Promise<SubjectKeyRef[]> => {
        calls.push(rows.map((r) => r.token));
        return [{ tenant: 't', keyId: 'live' }];
      },
    });
    const results = await Promise.all([
      writer.writeSubjectTokens('t', 'live', [row('t', 'live', 'a'), row('t', 'live', 'b')]),
      writer.writeSubjectTokens('t', 'gone', [row('t', 'gone', 'c')]),
      writer.writeSubjectTokens('u', 'live', [row('u', 'live', 'd')]),
    ]);
    assert.deepEqual(results, [true, false, false], 'the key of another tenant is not this one');
    assert.deepEqual(calls, [['a', 'b', 'c', 'd']], 'one statement');
    await writer.drain();
  });

  it('splits at maxRows (a request is never split) and rejects every request of a failed flush', async () => {
    const calls: number[] = [];
    let fail = true;
    const writer = new SubjectWriter({
      maxRows: 2,
      write: async (rows) => {
        calls.push(rows.length);
        if (fail) {
          fail = false;
          throw new Error('store down');
        }
        return [{ tenant: 't', keyId: 'k' }];
      },
    });
    const out = await Promise.allSettled([
      writer.writeSubjectTokens('t', 'k', [row('t', 'k', 'a'), row('t', 'k', 'b')]),
      writer.writeSubjectTokens('t', 'k', [row('t', 'k', 'c')]),
    ]);
    assert.equal(out[0]!.status, 'rejected');
    assert.deepEqual(out[1], { status: 'fulfilled', value: true });
    assert.deepEqual(calls, [2, 1]);
    await writer.drain();
  });
});
