/**
 * The audit spool (ADR-17): a local write-ahead log of audit rows in the
 * data directory, between the Auditor and the group-commit writer.
 *
 * `writeAudit` appends the rows to the current segment file and resolves once
 * an fdatasync covering them returned. Rows of one event-loop turn (and those
 * arriving while a sync runs) share one write and one fdatasync. With
 * `sync: 'interval'` (ADR-20) it resolves once the rows are written — in the
 * kernel's page cache, which outlives a kill -9 of this process — with one
 * synchronous write per turn, and an fdatasync runs off the answer's path
 * within SPOOL_SYNC_INTERVAL_MS. Either way rows are shipped only once an
 * fdatasync covers them, so the store never holds a row the spool could
 * lose in a crash of the node: a chain may end early, never with a hole.
 * After the sync the rows go on to the writer as lazy audit rows (`urgent: false`), in
 * seq order, behind the chain record (stored first, idempotently); the writer
 * retries them until they commit. A segment holds at most `segmentEvents`
 * rows; once it is full and all its rows committed, its file is deleted.
 *
 * At start, segments left by earlier processes (kill -9, a lost store) are
 * read back, cut at their first torn frame or chain break, and shipped the
 * same way: inserts are idempotent by (chain_id, seq), so a row stored before
 * the crash is not stored twice and the chain has no hole.
 *
 * The backlog (rows spooled or being spooled, not yet committed) is bounded
 * by `maxEvents`: at the bound `full` is true and the Auditor refuses the
 * events callers wait for (reveals) before chaining them, and the service
 * refuses new operations (fail closed, UNAVAILABLE). Memory is bounded with
 * it: the rows are the writer's queue.
 */
import { mkdirSync, writeSync } from 'node:fs';
import { type FileHandle, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type DirLock, lockDataDir } from '../store/dir-lock.js';
import type { AuditRow, Store } from '../store/index.js';
import type { AuditSink } from './auditor.js';
import { type FoundChain, readLeftovers, type Segment, syncDir, writeFully } from './spool-files.js';
import { encodeEvent, encodeSegmentStart, type SpoolChain, segmentFileName } from './spool-format.js';

export const SPOOL_DIR = 'audit-spool';
/**
 * How long spooled rows may wait for a flush of their own (the writer's
 * lazy window): they are durable already, so they wait for token rows to
 * ride with, or 50 ms — ten times fewer transactions than the 5 ms of
 * ADR-6 at low rates, and a backlog of 50 ms of events at most in normal operation.
 */
export const SPOOL_SHIP_DELAY_MS = 50;
/**
 * With `sync: 'interval'`: the longest a written row waits for its fdatasync
 * (what a crash of the node, not of the process, can lose; ADR-20).
 */
export const SPOOL_SYNC_INTERVAL_MS = 10;
const DEFAULT_SEGMENT_EVENTS = 4096;
const DEFAULT_RETRY_MS = 1000;

export interface SpoolDownstream {
  writeAudit(rows: readonly AuditRow[], options: { urgent?: boolean; committed?: () => void }): Promise<void>;
}

export interface AuditSpoolOptions {
  /** The spool directory (`<data dir>/audit-spool`). */
  readonly dir: string;
  readonly store: Pick<Store, 'insertAuditChain'>;
  readonly downstream: SpoolDownstream;
  /** Rows spooled but not yet committed, at most. */
  readonly maxEvents: number;
  /** `each` (default): resolve after the fdatasync; `interval`: after the write, synced every SPOOL_SYNC_INTERVAL_MS. */
  readonly sync?: 'each' | 'interval';
  /** Spool problems (never a value: ids, counts, error names). */
  readonly log: Logger;
  readonly segmentEvents?: number;
  readonly retryMs?: number;
}

/** One chain's shipping state: the current process's chain or one left over. */
class ChainShipper {
  registered = false;
  private registering = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Durable rows waiting for the chain record, in order. */
  private waiting: { rows: AuditRow[]; segment: Segment }[] = [];
  readonly segments = new Map<number, Segment>();

  constructor(
    readonly chain: SpoolChain,
    private readonly spool: AuditSpool,
  ) {}

  ship(rows: AuditRow[], segment: Segment): void {
    if (rows.length === 0) return;
    if (!this.registered) {
      this.waiting.push({ rows, segment });
      this.register();
      return;
    }
    this.spool.forward(rows, segment, this);
  }

  register(): void {
    if (this.registered || this.registering || this.spool.isClosed) return;
    this.registering = true;
    this.spool.options.store.insertAuditChain(this.chain).then(
      () => {
        this.registering = false;
        this.registered = true;
        const waiting = this.waiting;
        this.waiting = [];
        for (const w of waiting) this.spool.forward(w.rows, w.segment, this);
      },
      (err: unknown) => {
        this.registering = false;
        this.spool.options.log.warn(
          { err: errorSummary(err), chain: this.chain.chainId },
          'audit chain record not yet stored; spooled events wait',
        );
        if (this.retryTimer === undefined && !this.spool.isClosed) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.register();
          }, this.spool.options.retryMs ?? DEFAULT_RETRY_MS);
          this.retryTimer.unref();
        }
      },
    );
  }

  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}

interface Buffered {
  readonly rows: readonly AuditRow[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class AuditSpool implements AuditSink {
  private current: ChainShipper | undefined;
  private segment: Segment | undefined;
  private handle: FileHandle | undefined;
  private position = 0;
  private buffer: Buffered[] = [];
  private flushing: Promise<void> | undefined;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private uncommitted = 0;
  private closed = false;
  private readonly leftovers = new Set<ChainShipper>();
  /** `interval`: rows written and not yet covered by an fdatasync (shipped once they are), the timer and the sync running. */
  private written: { rows: AuditRow[]; segment: Segment; shipper: ChainShipper }[] = [];
  private syncTimer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  /** The next segment's file, prepared ahead. */
  private next: { readonly number: number; readonly ready: Promise<PreparedSegment> } | undefined;

  private constructor(
    readonly options: AuditSpoolOptions,
    private readonly lock: DirLock,
    /** Rows found in segments of earlier processes at open. */
    readonly recovered: number,
  ) {}

  /** Locks the directory, reads what earlier processes left and starts shipping it. */
  static async open(options: AuditSpoolOptions): Promise<AuditSpool> {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    const lock = await lockDataDir(options.dir);
    try {
      const found = readLeftovers(options.dir, options.log);
      let recovered = 0;
      for (const c of found) recovered += c.rows.length;
      const spool = new AuditSpool(options, lock, recovered);
      for (const c of found) spool.adopt(c);
      return spool;
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Rows spooled (or being spooled) and not yet committed to the store. */
  get backlog(): number {
    return this.uncommitted;
  }

  /** At the bound: the Auditor refuses awaited events and the service refuses new operations. */
  get full(): boolean {
    return this.uncommitted >= this.options.maxEvents;
  }

  /** Starts this process's chain: its first segment (the chain record in its header) is durable on return. */
  async openChain(chain: SpoolChain): Promise<void> {
    this.current = new ChainShipper(chain, this);
    await this.startSegment(0);
    this.current.register();
  }

  writeAudit(rows: readonly AuditRow[]): Promise<void> {
    if (this.closed || this.current === undefined)
      return Promise.reject(new Error('the audit spool is closed'));
    if (rows.length === 0) return Promise.resolve();
    this.uncommitted += rows.length;
    return new Promise<void>((resolve, reject) => {
      this.buffer.push({ rows, resolve, reject });
      this.schedule();
    });
  }

  /** Hands durable rows to the writer; `committed` follows them through its retries. */
  forward(rows: AuditRow[], segment: Segment, shipper: ChainShipper): void {
    this.options.downstream
      .writeAudit(rows, { urgent: false, committed: () => this.committed(rows.length, segment, shipper) })
      .catch(() => {
        // The writer keeps audit rows after a failed flush and retries them; `committed` tells us when.
      });
  }

  /** Writes what is buffered (at shutdown, before the writer drains). */
  async settle(): Promise<void> {
    while (this.flushing !== undefined || (this.buffer.length > 0 && this.retryTimer === undefined)) {
      if (this.flushing === undefined) this.startFlush();
      await this.flushing;
    }
    // `interval`: what is written is synced and shipped now, so the writer's drain stores it.
    await this.syncAllWritten().catch(() => {});
  }

  /**
   * Waits for the spool's writes, closes the segment and releases the lock.
   * Segments whose rows all committed are deleted; the rest stay for the next
   * start. Returns the rows left for it.
   */
  async close(): Promise<number> {
    if (this.closed) return this.uncommitted;
    await this.settle();
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const b of this.buffer) b.reject(new Error('the audit spool is closed'));
    this.buffer = [];
    // Rows a failed sync left unshipped stay in the file for the next start.
    await this.syncAllWritten().catch(() => {});
    await this.handle?.close().catch(() => {});
    this.handle = undefined;
    const next = await this.next?.ready.catch(() => undefined);
    this.next = undefined;
    if (next !== undefined) {
      // Prepared ahead, never written to: nothing to keep.
      await next.handle.close().catch(() => {});
      await unlink(join(this.options.dir, next.file)).catch(() => {});
    }
    const shippers = [...this.leftovers, ...(this.current ? [this.current] : [])];
    for (const s of shippers) {
      s.stop();
      for (const seg of s.segments.values()) {
        seg.sealed = true;
        if (seg.committed >= seg.rows) await this.removeSegment(s, seg);
      }
    }
    this.lock.release();
    return this.uncommitted;
  }

  private adopt(found: FoundChain): void {
    const shipper = new ChainShipper(found.chain, this);
    this.leftovers.add(shipper);
    for (const seg of found.segments) shipper.segments.set(seg.segment.number, seg.segment);
    this.uncommitted += found.rows.length;
    for (const seg of found.segments) {
      if (seg.rows.length === 0) void this.removeSegment(shipper, seg.segment);
      else shipper.ship(seg.rows, seg.segment);
    }
    if (found.rows.length === 0) this.leftovers.delete(shipper);
  }

  private committed(n: number, segment: Segment, shipper: ChainShipper): void {
    this.uncommitted -= n;
    segment.committed += n;
    if (segment.sealed && segment.committed >= segment.rows) void this.removeSegment(shipper, segment);
  }

  private async removeSegment(shipper: ChainShipper, segment: Segment): Promise<void> {
    if (!shipper.segments.delete(segment.number)) return;
    if (shipper !== this.current && shipper.segments.size === 0) this.leftovers.delete(shipper);
    await unlink(join(this.options.dir, segment.file)).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.options.log.warn(
          { err: errorSummary(err), file: segment.file },
          'could not delete a shipped spool segment',
        );
    });
  }

  private schedule(): void {
    if (this.scheduled || this.flushing !== undefined || this.retryTimer !== undefined) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.flushing === undefined && this.buffer.length > 0) this.startFlush();
    });
  }

  private startFlush(): void {
    this.flushing = this.flushOnce().finally(() => {
      this.flushing = undefined;
      if (this.buffer.length > 0 && !this.closed) this.schedule();
    });
  }

  /** One write and one fdatasync for everything buffered (a new segment first when the current one is full). */
  private async flushOnce(): Promise<void> {
    const batch = this.buffer;
    this.buffer = [];
    const shipper = this.current!;
    const limit = this.options.segmentEvents ?? DEFAULT_SEGMENT_EVENTS;
    // Rows past the current segment's room go to the next segment(s): one write+sync per segment.
    let rows = batch.flatMap((b) => b.rows);
    try {
      while (rows.length > 0) {
        if (this.segment!.rows >= limit) await this.startSegment(this.segment!.number + 1);
        const segment = this.segment!;
        const take = rows.slice(0, limit - segment.rows);
        const bytes = Buffer.concat(take.map(encodeEvent));
        if (this.options.sync === 'interval') this.writeNow(bytes);
        else {
          await writeFully(this.handle!, bytes, this.position);
          await this.handle!.datasync();
        }
        this.position += bytes.length;
        segment.rows += take.length;
        rows = rows.slice(take.length);
        if (this.options.sync === 'interval') {
          this.written.push({ rows: take, segment, shipper });
          this.armSync();
        } else shipper.ship(take, segment);
        this.prepareAhead(limit);
      }
    } catch (err) {
      // Waiters are told (no reveal is answered on these rows); the rows not yet
      // durable stay first in line (the chain must not get a hole) and are
      // written again from the same position.
      this.options.log.error({ err: errorSummary(err) }, 'audit spool write failed; retrying');
      for (const b of batch) b.reject(err);
      this.buffer.unshift({ rows, resolve: noop, reject: noop });
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.schedule();
      }, this.options.retryMs ?? DEFAULT_RETRY_MS);
      this.retryTimer.unref();
      return;
    }
    for (const b of batch) b.resolve();
  }

  /**
   * `interval`: one synchronous positional write (a copy into the page cache,
   * no thread-pool round trip); the fdatasync follows within SPOOL_SYNC_INTERVAL_MS.
   */
  private writeNow(bytes: Buffer): void {
    const fd = this.handle!.fd;
    for (let done = 0; done < bytes.length; )
      done += writeSync(fd, bytes, done, bytes.length - done, this.position + done);
  }

  private armSync(): void {
    if (this.syncTimer !== undefined || this.written.length === 0 || this.closed) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      this.syncWritten().catch(() => {
        // Logged; the rows stay first in line and the next interval tries again.
      });
    }, SPOOL_SYNC_INTERVAL_MS);
  }

  /** `interval`: one fdatasync for every row written so far, then those rows are shipped; one at a time. */
  private syncWritten(): Promise<void> {
    if (this.syncing !== undefined) return this.syncing;
    if (this.written.length === 0 || this.handle === undefined) return Promise.resolve();
    const batch = this.written;
    this.written = [];
    const synced = this.handle.datasync().then(
      () => {
        for (const w of batch) w.shipper.ship(w.rows, w.segment);
      },
      (err: unknown) => {
        this.written.unshift(...batch);
        this.options.log.error({ err: errorSummary(err) }, 'audit spool fdatasync failed; retrying');
        throw err;
      },
    );
    this.syncing = synced.finally(() => {
      this.syncing = undefined;
      this.armSync();
    });
    return this.syncing;
  }

  /** `interval`: everything written is synced and shipped before the segment changes or the spool stops. */
  private async syncAllWritten(): Promise<void> {
    if (this.syncTimer !== undefined) clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    await this.syncing?.catch(() => {});
    await this.syncWritten();
  }

  /**
   * Makes segment `n` of the current chain current. Its file (magic and
   * header synced, directory entry synced) is prepared ahead, once the
   * current segment is half full: a directory sync can take a journal
   * commit, and no reveal should wait for one.
   */
  private async startSegment(n: number): Promise<void> {
    // The current segment's rows synced first: a failure fails this flush, which is retried, before anything changed.
    await this.syncAllWritten();
    const shipper = this.current!;
    const previous = this.segment;
    const pending = this.next?.number === n ? this.next.ready : this.prepareSegment(n);
    this.next = undefined;
    const prepared = await pending;
    await this.handle?.close().catch(() => {});
    this.handle = prepared.handle;
    this.position = prepared.position;
    this.segment = { number: n, file: prepared.file, rows: 0, committed: 0, sealed: false };
    shipper.segments.set(n, this.segment);
    if (previous !== undefined) {
      previous.sealed = true;
      if (previous.committed >= previous.rows) void this.removeSegment(shipper, previous);
    }
  }

  /** Starts preparing the next segment's file (once the current one is half full). */
  private prepareAhead(limit: number): void {
    const segment = this.segment!;
    if (this.next !== undefined || segment.rows < limit / 2) return;
    const ready = this.prepareSegment(segment.number + 1);
    ready.catch(() => {
      // Tried again at the rotation, whose failure is a failed flush (retried).
    });
    this.next = { number: segment.number + 1, ready };
  }

  private async prepareSegment(n: number): Promise<PreparedSegment> {
    const chain = this.current!.chain;
    const file = segmentFileName(chain.chainId, n);
    const handle = await open(join(this.options.dir, file), 'wx', 0o600);
    try {
      const start = encodeSegmentStart({ ...chain, segment: n });
      await writeFully(handle, start, 0);
      await handle.datasync();
      await syncDir(this.options.dir);
      return { handle, file, position: start.length };
    } catch (err) {
      await handle.close().catch(() => {});
      await unlink(join(this.options.dir, file)).catch(() => {});
      throw err;
    }
  }
}

interface PreparedSegment {
  readonly handle: FileHandle;
  readonly file: string;
  readonly position: number;
}

function noop(): void {}

function errorSummary(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : 'unknown error';
}
