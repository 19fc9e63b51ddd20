import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import type { AuditRow, WriteBatch } from '../store/index.js';
import { GroupCommitWriter } from '../writer/group-commit.js';
import { ChainHead } from './chain.js';
import { AuditSpool } from './spool.js';
import { decodeSegment, encodeEvent, encodeSegmentStart, type SpoolChain } from './spool-format.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sidekey-spool-'));
  dirs.push(d);
  return d;
}

const silent = pino({ level: 'silent' });
const CHAIN: SpoolChain = {
  chainId: 'ab'.repeat(16),
  kekRef: 'local:test',
  wrappedKey: Buffer.from('00112233', 'hex'),
  host: 'pod-1',
};

/** A store that is up or down at will; it keeps what it committed (idempotent by chain+seq, as the SQL store). */
function fakeStore() {
  const chains: string[] = [];
  const rows = new Map<string, AuditRow>();
  const state = { up: true, writes: 0 };
  const down = () => Promise.reject(Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' }));
  return {
    state,
    chains,
    rows,
    insertAuditChain(c: Omit<SpoolChain, never>): Promise<void> {
      if (!state.up) return down();
      if (!chains.includes(c.chainId)) chains.push(c.chainId);
      return Promise.resolve();
    },
    write(batch: WriteBatch): Promise<void> {
      state.writes++;
      if (!state.up) return down();
      for (const r of batch.audit) {
        assert.ok(chains.includes(r.chainId), 'the chain record is stored before its rows');
        const key = `${r.chainId}/${r.seq}`;
        if (!rows.has(key)) rows.set(key, r);
      }
      return Promise.resolve();
    },
    seqs(chainId: string): number[] {
      return [...rows.values()]
        .filter((r) => r.chainId === chainId)
        .map((r) => r.seq)
        .sort((a, b) => a - b);
    },
  };
}

function rowsOf(chain: SpoolChain, n: number): AuditRow[] {
  const head = new ChainHead(Buffer.alloc(32, 7), chain.chainId);
  return Array.from({ length: n }, (_, i) => {
    const event = JSON.stringify({ operation: 'detokenize', i });
    const link = head.append(event);
    return { chainId: chain.chainId, seq: link.seq, prevHash: link.prevHash, hash: link.hash, event };
  });
}

async function openSpool(
  dir: string,
  store: ReturnType<typeof fakeStore>,
  extra: { maxEvents?: number; segmentEvents?: number; sync?: 'each' | 'interval' } = {},
) {
  const writer = new GroupCommitWriter({
    maxRows: 1000,
    write: (b) => store.write(b),
    retryDelayMs: 20,
    lazyAuditMs: 1,
  });
  const spool = await AuditSpool.open({
    dir,
    store,
    downstream: writer,
    maxEvents: extra.maxEvents ?? 1000,
    log: silent,
    retryMs: 20,
    ...(extra.segmentEvents !== undefined && { segmentEvents: extra.segmentEvents }),
    ...(extra.sync !== undefined && { sync: extra.sync }),
  });
  return { spool, writer };
}

async function until(what: string, f: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function spooledSeqs(dir: string): number[] {
  return (
    readdirSync(dir)
      .filter((f) => f.endsWith('.spool'))
      .sort()
      // A segment prepared ahead may not have its header yet.
      .flatMap((f) => decodeSegment(readFileSync(join(dir, f)))?.rows.map((r) => r.seq) ?? [])
  );
}

describe('AuditSpool', () => {
  for (const sync of ['each', 'interval'] as const)
    it(`acknowledges rows once they are in the segment file, then ships them in order and deletes shipped segments (sync: ${sync})`, async () => {
      const dir = tempDir();
      const store = fakeStore();
      const { spool, writer } = await openSpool(dir, store, { segmentEvents: 4, sync });
      await spool.openChain(CHAIN);
      const rows = rowsOf(CHAIN, 10);
      // Every row acknowledged is in a file at that moment (durable before the store has it).
      await Promise.all(
        rows.map((r) =>
          spool.writeAudit([r]).then(() => {
            assert.ok(spooledSeqs(dir).includes(r.seq) || store.rows.has(`${CHAIN.chainId}/${r.seq}`));
          }),
        ),
      );
      await until('all rows stored', () => store.rows.size === 10);
      assert.deepEqual(store.seqs(CHAIN.chainId), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      await until('backlog 0', () => spool.backlog === 0);
      // Full, shipped segments are gone; the current one (and the next, prepared ahead) stay until close.
      await until('shipped segments deleted', () =>
        readdirSync(dir)
          .filter((f) => f.endsWith('.spool'))
          .every((f) => f >= `${CHAIN.chainId}.00000002.spool`),
      );
      await writer.close();
      assert.equal(await spool.close(), 0);
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.endsWith('.spool')),
        [],
        'a clean close leaves no segment',
      );
    });

  it('sync interval: a row is acknowledged once written, and shipped only after an fdatasync covers it (no chain hole after a node crash)', async () => {
    const dir = tempDir();
    const store = fakeStore();
    const { spool, writer } = await openSpool(dir, store, { sync: 'interval' });
    await spool.openChain(CHAIN);
    const rows = rowsOf(CHAIN, 3);
    for (const r of rows) {
      await spool.writeAudit([r]);
      // Acknowledged: in the file already, and not shipped (the sync runs on a timer, after this turn).
      assert.ok(spooledSeqs(dir).includes(r.seq));
      assert.equal(writer.auditDepth, 0, 'not handed to the writer before its sync');
      assert.equal(store.rows.has(`${CHAIN.chainId}/${r.seq}`), false);
    }
    await until('all rows stored', () => store.rows.size === 3);
    assert.deepEqual(store.seqs(CHAIN.chainId), [1, 2, 3]);
    await writer.close();
    assert.equal(await spool.close(), 0);
  });

  it('goes on while the store is down, up to the bound; then it is full; it ships everything when the store is back', async () => {
    const dir = tempDir();
    const store = fakeStore();
    store.state.up = false;
    const { spool, writer } = await openSpool(dir, store, { maxEvents: 5 });
    await spool.openChain(CHAIN);
    const rows = rowsOf(CHAIN, 5);
    for (const r of rows) await spool.writeAudit([r]);
    assert.equal(spool.backlog, 5);
    assert.equal(spool.full, true, 'at the bound');
    assert.deepEqual(spooledSeqs(dir), [1, 2, 3, 4, 5], 'durable on disk while the store is down');
    store.state.up = true;
    await until('all rows stored', () => store.rows.size === 5, 10_000);
    await until('backlog 0', () => spool.backlog === 0);
    assert.equal(spool.full, false);
    await writer.close();
    await spool.close();
  });

  it('replays what an earlier process spooled: idempotent, cut at a torn tail, the chain without a hole', async () => {
    const dir = tempDir();
    const rows = rowsOf(CHAIN, 6);
    // What a process killed mid-write leaves: rows 1–5 synced, row 6 torn.
    const file = join(dir, `${CHAIN.chainId}.00000000.spool`);
    appendFileSync(file, encodeSegmentStart({ ...CHAIN, segment: 0 }));
    for (const r of rows.slice(0, 5)) appendFileSync(file, encodeEvent(r));
    const torn = encodeEvent(rows[5]!);
    appendFileSync(file, torn.subarray(0, torn.length - 3));
    const store = fakeStore();
    // Rows 1–2 were stored before the kill.
    store.chains.push(CHAIN.chainId);
    for (const r of rows.slice(0, 2)) store.rows.set(`${r.chainId}/${r.seq}`, r);

    const { spool, writer } = await openSpool(dir, store);
    assert.equal(spool.recovered, 5, 'the torn row is not replayed');
    await until('replayed', () => spool.backlog === 0);
    assert.deepEqual(store.seqs(CHAIN.chainId), [1, 2, 3, 4, 5]);
    for (const r of rows.slice(0, 5)) assert.ok(store.rows.get(`${r.chainId}/${r.seq}`)!.hash.equals(r.hash));
    await until(
      'the replayed segment is deleted',
      () => !readdirSync(dir).includes(`${CHAIN.chainId}.00000000.spool`),
    );
    await writer.close();
    await spool.close();
  });

  it('a damaged frame in the middle ends the replay there (nothing after it is trusted)', async () => {
    const dir = tempDir();
    const rows = rowsOf(CHAIN, 4);
    const file = join(dir, `${CHAIN.chainId}.00000000.spool`);
    appendFileSync(file, encodeSegmentStart({ ...CHAIN, segment: 0 }));
    for (const r of rows) appendFileSync(file, encodeEvent(r));
    const bytes = readFileSync(file);
    const third = bytes.length - encodeEvent(rows[3]!).length - 5;
    bytes[third] = bytes[third]! ^ 0xff; // a flipped bit inside row 3
    truncateSync(file, 0);
    appendFileSync(file, bytes);
    const store = fakeStore();
    const { spool, writer } = await openSpool(dir, store);
    assert.equal(spool.recovered, 2);
    await until('replayed', () => spool.backlog === 0);
    assert.deepEqual(store.seqs(CHAIN.chainId), [1, 2]);
    await writer.close();
    await spool.close();
  });

  it('takes the directory lock: a second spool on the same directory is refused', async () => {
    const dir = tempDir();
    const store = fakeStore();
    const { spool, writer } = await openSpool(dir, store);
    await assert.rejects(openSpool(dir, store), /in use by another sidekey process/);
    await writer.close();
    await spool.close();
  });
});

describe('spool format (docs/formats.md §20)', () => {
  const chain: SpoolChain = {
    chainId: '0123456789abcdef0123456789abcdef',
    kekRef: 'local:kek.key',
    wrappedKey: Buffer.from('a1b2c3', 'hex'),
    host: 'pod-1',
  };
  const row: AuditRow = {
    chainId: chain.chainId,
    seq: 1,
    prevHash: Buffer.alloc(32),
    hash: Buffer.alloc(32, 0x11),
    event: '{"operation":"detokenize"}',
  };
  const START =
    '534b41554453503100000078917a011aaa31d8ca7b22636861696e4964223a223031323334353637383961626364656630313233343536373839616263646566222c226b656b526566223a226c6f63616c3a6b656b2e6b6579222c22777261707065644b6579223a22613162326333222c22686f7374223a22706f642d31222c227365676d656e74223a307d';
  const EVENT =
    '0000006294edc6118c7f6e900000000000000001000000000000000000000000000000000000000000000000000000000000000011111111111111111111111111111111111111111111111111111111111111117b226f7065726174696f6e223a226465746f6b656e697a65227d';

  it('encodes the pinned vectors byte for byte', () => {
    assert.equal(encodeSegmentStart({ ...chain, segment: 0 }).toString('hex'), START);
    assert.equal(encodeEvent(row).toString('hex'), EVENT);
  });

  it('decodes them back; a truncated frame is a torn tail, not a row', () => {
    const file = Buffer.from(START + EVENT, 'hex');
    const d = decodeSegment(file)!;
    assert.deepEqual(d.header, { ...chain, segment: 0 });
    assert.deepEqual(d.rows, [row]);
    assert.equal(d.tornBytes, 0);
    const torn = decodeSegment(file.subarray(0, file.length - 1))!;
    assert.deepEqual(torn.rows, []);
    assert.equal(torn.tornBytes, EVENT.length / 2 - 1);
    assert.equal(
      decodeSegment(Buffer.from('SKAUDSP2', 'latin1')),
      undefined,
      'another magic is not a segment',
    );
  });
});

describe('AuditSpool: a segment without a readable header', () => {
  it('is renamed .damaged and not replayed', async () => {
    const dir = tempDir();
    const file = `${CHAIN.chainId}.00000000.spool`;
    appendFileSync(join(dir, file), encodeSegmentStart({ ...CHAIN, segment: 0 }).subarray(0, 11));
    const store = fakeStore();
    const { spool, writer } = await openSpool(dir, store);
    assert.equal(spool.recovered, 0);
    assert.ok(readdirSync(dir).includes(`${file}.damaged`));
    assert.ok(!readdirSync(dir).includes(file));
    await writer.close();
    await spool.close();
  });
});
