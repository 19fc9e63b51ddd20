import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditRow, TokenRow, WriteBatch } from '../store/index.js';
import { GroupCommitWriter } from './group-commit.js';

const token = (n: number): TokenRow => ({
  token: `t${n}`,
  tenant: 'a',
  field: 'f',
  orkId: 'o',
  tekVersion: 1,
  envelope: Buffer.alloc(1),
});
const audit = (seq: number): AuditRow => ({
  chainId: 'c',
  seq,
  prevHash: Buffer.alloc(32),
  hash: Buffer.alloc(32),
  event: '{}',
});

/** A store write that commits when released, so tests control timing. */
function gatedStore() {
  const batches: WriteBatch[] = [];
  let release: (() => void) | undefined;
  let fail: Error | undefined;
  return {
    batches,
    failNext(err: Error) {
      fail = err;
    },
    release() {
      release?.();
    },
    write(batch: WriteBatch): Promise<void> {
      batches.push(batch);
      if (fail) {
        const err = fail;
        fail = undefined;
        return Promise.reject(err);
      }
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    },
  };
}

describe('GroupCommitWriter', () => {
  it('flushes at once when idle and groups what arrives during a flush into one transaction', async () => {
    const store = gatedStore();
    const w = new GroupCommitWriter({ maxRows: 100, write: (b) => store.write(b) });
    const first = w.writeTokens([token(1)]);
    await new Promise((r) => setImmediate(r));
    assert.equal(store.batches.length, 1, 'an idle writer flushes on the next turn of the event loop');
    const later = [w.writeTokens([token(2)]), w.writeTokens([token(3), token(4)]), w.writeAudit([audit(1)])];
    assert.equal(store.batches.length, 1, 'rows wait while a flush is in flight');
    let resolved = false;
    void first.then(() => {
      resolved = true;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(resolved, false, 'not acknowledged before commit');
    store.release();
    await first;
    for (let i = 0; i < 5 && store.batches.length < 2; i++) await new Promise((r) => setImmediate(r));
    assert.equal(store.batches.length, 2);
    assert.deepEqual(
      store.batches[1]!.tokens.map((t) => t.token),
      ['t2', 't3', 't4'],
    );
    assert.equal(store.batches[1]!.audit.length, 1);
    store.release();
    await Promise.all(later);
    assert.equal(w.depth, 0);
  });

  it('caps a transaction at maxRows rows', async () => {
    const batches: WriteBatch[] = [];
    const w = new GroupCommitWriter({
      maxRows: 3,
      write: async (b) => {
        batches.push(b);
      },
    });
    await Promise.all([1, 2, 3, 4, 5, 6, 7].map((n) => w.writeTokens([token(n)])));
    assert.ok(batches.every((b) => b.tokens.length + b.audit.length <= 3));
    assert.deepEqual(
      batches.flatMap((b) => b.tokens.map((t) => t.token)),
      ['t1', 't2', 't3', 't4', 't5', 't6', 't7'],
    );
  });

  it('on failure rejects the token writes and keeps audit rows, in order, for the next flush', async () => {
    const store = gatedStore();
    const w = new GroupCommitWriter({ maxRows: 100, write: (b) => store.write(b), retryDelayMs: 10 });
    const blocker = w.writeTokens([token(0)]);
    await new Promise((r) => setImmediate(r)); // the blocker's flush is in flight
    const t = w.writeTokens([token(1)]);
    const a = w.writeAudit([audit(1)]);
    store.failNext(new Error('connection lost'));
    store.release();
    await blocker;
    await assert.rejects(t, /connection lost/);
    await assert.rejects(a, /connection lost/);
    const next = w.writeTokens([token(2)]);
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    store.release();
    await next;
    const last = store.batches.at(-1)!;
    assert.deepEqual(
      last.audit.map((r) => r.seq),
      [1],
      'the audit row was retried',
    );
    assert.deepEqual(
      last.tokens.map((r) => r.token),
      ['t2'],
      'the failed token row was not',
    );
  });

  it('runs up to maxInFlight transactions at once', async () => {
    const store = gatedStore();
    let open = 0;
    let most = 0;
    const w = new GroupCommitWriter({
      maxRows: 1,
      maxInFlight: 3,
      write: async (b) => {
        open++;
        most = Math.max(most, open);
        await new Promise((r) => setTimeout(r, 5));
        open--;
        store.batches.push(b);
      },
    });
    await Promise.all([1, 2, 3, 4, 5, 6].map((n) => w.writeTokens([token(n)])));
    assert.equal(most, 3);
    assert.equal(store.batches.length, 6);
  });

  it('drain writes what is queued and close refuses new rows', async () => {
    const batches: WriteBatch[] = [];
    const w = new GroupCommitWriter({
      maxRows: 10,
      write: async (b) => {
        batches.push(b);
      },
    });
    void w.writeAudit([audit(1)]);
    assert.equal(await w.close(), 0);
    assert.equal(batches.length, 1);
    await assert.rejects(w.writeTokens([token(9)]), /closed/);
  });

  describe('audit rows nobody waits for (urgent: false)', () => {
    const recording = (lazyAuditMs: number, maxRows = 100) => {
      const batches: WriteBatch[] = [];
      const w = new GroupCommitWriter({
        maxRows,
        lazyAuditMs,
        write: async (b) => {
          batches.push(b);
        },
      });
      return { w, batches };
    };
    const turn = () => new Promise((r) => setImmediate(r));

    it('do not start a flush of their own, and go out after lazyAuditMs', async () => {
      const { w, batches } = recording(30);
      const done = w.writeAudit([audit(1)], { urgent: false });
      await turn();
      await turn();
      assert.equal(batches.length, 0, 'no transaction for a lone lazy audit row');
      await done;
      assert.equal(batches.length, 1);
      assert.deepEqual(
        batches[0]!.audit.map((r) => r.seq),
        [1],
      );
    });

    it('ride with the next token flush, in order, in one transaction', async () => {
      const { w, batches } = recording(60_000);
      const lazy = w.writeAudit([audit(1)], { urgent: false });
      await turn();
      await w.writeTokens([token(1)]);
      await lazy;
      assert.equal(batches.length, 1);
      assert.deepEqual(
        batches[0]!.tokens.map((r) => r.token),
        ['t1'],
      );
      assert.deepEqual(
        batches[0]!.audit.map((r) => r.seq),
        [1],
      );
      await w.close();
    });

    it('ride with an urgent audit row, which flushes at once', async () => {
      const { w, batches } = recording(60_000);
      const lazy = w.writeAudit([audit(1)], { urgent: false });
      await w.writeAudit([audit(2)]);
      await lazy;
      assert.equal(batches.length, 1);
      assert.deepEqual(
        batches[0]!.audit.map((r) => r.seq),
        [1, 2],
      );
      await w.close();
    });

    it('go out at once when a full batch of them is queued', async () => {
      const { w, batches } = recording(60_000, 3);
      const rows = [1, 2, 3].map((n) => w.writeAudit([audit(n)], { urgent: false }));
      await Promise.all(rows);
      assert.equal(batches.length, 1);
      assert.equal(batches[0]!.audit.length, 3);
      await w.close();
    });

    it('are written by close without waiting for their timer', async () => {
      const { w, batches } = recording(60_000);
      const lazy = w.writeAudit([audit(1)], { urgent: false });
      assert.equal(await w.close(), 0);
      await lazy;
      assert.equal(batches.length, 1);
    });

    it('after a failed flush are kept and retried with the next one', async () => {
      const store = gatedStore();
      const w = new GroupCommitWriter({
        maxRows: 100,
        lazyAuditMs: 60_000,
        retryDelayMs: 10,
        write: (b) => store.write(b),
      });
      store.failNext(new Error('connection lost'));
      const lazy = w.writeAudit([audit(1)], { urgent: false });
      const tokens = w.writeTokens([token(1)]);
      await assert.rejects(tokens, /connection lost/);
      await assert.rejects(lazy, /connection lost/);
      // The retry timer (10 ms) sends the kept row without waiting for the lazy timer (60 s).
      while (store.batches.length < 2) await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(
        store.batches[1]!.audit.map((r) => r.seq),
        [1],
      );
      assert.equal(store.batches[1]!.tokens.length, 0, 'the failed token rows are not retried');
      store.release();
      assert.equal(await w.close(), 0);
    });

    it('tell `committed` when they finally commit, through a failed flush and its retry', async () => {
      const store = gatedStore();
      const w = new GroupCommitWriter({
        maxRows: 100,
        lazyAuditMs: 1,
        retryDelayMs: 10,
        write: (b) => store.write(b),
      });
      store.failNext(new Error('connection lost'));
      let committed = 0;
      const lazy = w.writeAudit([audit(1), audit(2)], {
        urgent: false,
        committed: () => {
          committed++;
        },
      });
      await assert.rejects(lazy, /connection lost/);
      assert.equal(committed, 0, 'not at the failure');
      while (store.batches.length < 2) await new Promise((r) => setTimeout(r, 5));
      assert.equal(committed, 0, 'not before the retry commits');
      store.release();
      assert.equal(await w.close(), 0);
      assert.equal(committed, 1, 'once, after the retry committed');
    });
  });
});
