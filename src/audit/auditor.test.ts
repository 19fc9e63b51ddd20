import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import pino from 'pino';
import { LocalKek } from '../kms/index.js';
import type { AuditRow } from '../store/index.js';
import { AuditBacklogFullError, Auditor, type AuditSink } from './auditor.js';
import type { AuditEvent } from './event.js';

const event = (operation: string): AuditEvent => ({
  time: '2026-12-02T00:00:00.000Z',
  operation,
  outcome: 'ok',
});

/** A bounded sink like the audit spool: keeps rows, full at `max`. */
function boundedSink(max: number) {
  const rows: AuditRow[] = [];
  const chains: string[] = [];
  const sink: AuditSink & { rows: AuditRow[]; chains: string[] } = {
    rows,
    chains,
    get full() {
      return rows.length >= max;
    },
    openChain(c) {
      chains.push(c.chainId);
      return Promise.resolve();
    },
    writeAudit(r) {
      rows.push(...r);
      return Promise.resolve();
    },
  };
  return sink;
}

describe('Auditor with a bounded sink (the audit spool)', () => {
  it('hands the chain record to the sink and never stores it itself', async () => {
    const sink = boundedSink(10);
    const auditor = await Auditor.open({
      store: { insertAuditChain: () => Promise.reject(new Error('the store must not be asked')) },
      kek: new LocalKek(randomBytes(32), { bytes: (n) => randomBytes(n) }),
      sink,
      log: pino({ level: 'silent' }),
      lines: () => {},
    });
    assert.deepEqual(sink.chains, [auditor.chainId]);
    await auditor.record(event('detokenize'));
    assert.equal(sink.rows.length, 1);
    auditor.close();
  });

  it('at the bound refuses awaited events before chaining them: no hole, admits() is false', async () => {
    const sink = boundedSink(2);
    const lines: number[] = [];
    const auditor = await Auditor.open({
      store: { insertAuditChain: () => Promise.resolve() },
      kek: new LocalKek(randomBytes(32), { bytes: (n) => randomBytes(n) }),
      sink,
      log: pino({ level: 'silent' }),
      lines: (_text, _chain, seq) => lines.push(seq),
    });
    await auditor.record(event('detokenize'));
    assert.equal(auditor.admits(), true);
    await auditor.record(event('detokenize'));
    assert.equal(auditor.admits(), false, 'full');
    await assert.rejects(auditor.record(event('detokenize')), AuditBacklogFullError);
    assert.deepEqual(lines, [1, 2], 'the refused event got no link (and no log line)');
    // Room again: the next event is link 3, right after 2.
    sink.rows.length = 0;
    await auditor.record(event('decrypt'));
    assert.deepEqual(lines, [1, 2, 3]);
    auditor.close();
  });
});
