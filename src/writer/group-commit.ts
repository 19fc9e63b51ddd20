/**
 * Group commit of token records and audit events.
 *
 * Requests enqueue rows and await their promise. On the next turn of the
 * event loop (so requests whose bytes already arrived join in) the writer
 * flushes whatever is queued as ONE transaction — one multi-row statement
 * per table, at most `maxRows` rows. Up to `maxInFlight` transactions run at
 * once; while all are busy, rows accumulate and go out together, so batches
 * grow with load and latency stays about one commit at low load. (The
 * embedded store has one connection: it runs with one flush in flight.)
 *
 * Audit rows nobody waits for (`urgent: false`: the events of operations
 * that do not reveal) do not start a flush of their own: they ride with the
 * next flush of token rows or waited-for audit rows, or go out after
 * `lazyAuditMs` (or once `maxRows` of them are queued). Without that, at
 * moderate rates every request cost two transactions — its token rows, then,
 * a turn later, its audit row — and PostgreSQL CPU per request was four
 * times what it is under load.
 *
 * Durability contract: a request's promise resolves only after the
 * transaction holding its rows committed. When a flush fails, its token rows
 * are rejected (never acknowledged; nothing half-applied is visible: one
 * transaction) while its audit rows are kept, in order, for a later flush,
 * so the audit chain never loses an event. (Chains are verified from their
 * stored order, not their commit order: concurrent flushes may commit event
 * n+1 before event n.)
 */
import type { AuditRow, TokenRow, WriteBatch } from '../store/index.js';

export interface GroupCommitOptions {
  readonly maxRows: number;
  /** Concurrent transactions; default 1. */
  readonly maxInFlight?: number;
  readonly write: (batch: WriteBatch) => Promise<void>;
  /** Observes each flush (rows, seconds, error). */
  readonly onFlush?: (rows: number, seconds: number, error?: unknown) => void;
  /** Retry delay for audit rows kept after a failed flush. */
  readonly retryDelayMs?: number;
  /** Longest wait of an audit row nobody waits for; default 5 ms. */
  readonly lazyAuditMs?: number;
}

interface Pending<T> {
  readonly rows: readonly T[];
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  /** Somebody waits for these rows: they start a flush (always true for token rows). */
  readonly urgent: boolean;
  /** Called once the rows committed, even after failed flushes and retries (the audit spool). */
  readonly committed?: () => void;
}

export class GroupCommitWriter {
  private tokens: Pending<TokenRow>[] = [];
  private audit: Pending<AuditRow>[] = [];
  private queuedRows = 0;
  private inFlight = 0;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Queued audit entries with `urgent` set. */
  private urgentAudit = 0;
  private queuedAuditRows = 0;
  /** Lazy audit rows have waited long enough (or must go now: drain, retry). */
  private auditDue = false;
  private lazyTimer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  private readonly maxInFlight: number;

  constructor(private readonly options: GroupCommitOptions) {
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 1);
  }

  get depth(): number {
    return this.queuedRows;
  }

  /** Audit rows queued and not yet committed (the audit backlog). */
  get auditDepth(): number {
    return this.queuedAuditRows;
  }

  writeTokens(rows: readonly TokenRow[]): Promise<void> {
    return this.enqueue(this.tokens, rows, true);
  }

  /**
   * Resolves once the rows are committed. `urgent: false` when the caller
   * does not wait for them: they join the next flush instead of starting one.
   * `committed` is called when the rows finally commit: unlike the promise
   * (rejected by the first failed flush) it follows the rows through retries.
   */
  writeAudit(
    rows: readonly AuditRow[],
    options: { urgent?: boolean; committed?: () => void } = {},
  ): Promise<void> {
    const urgent = options.urgent ?? true;
    if (!this.closed && rows.length > 0) {
      this.queuedAuditRows += rows.length;
      if (urgent) this.urgentAudit++;
      else this.armLazyTimer();
    }
    return this.enqueue(this.audit, rows, urgent, options.committed);
  }

  /**
   * Writes everything queued. Audit rows kept after failures are retried up
   * to `attempts` times; returns the number of rows still unwritten.
   */
  async drain(attempts = 3): Promise<number> {
    for (let i = 0; i < attempts && (this.busy() || this.queuedRows > 0); i++) {
      if (this.retryTimer !== undefined) {
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
      }
      this.auditDue = true;
      this.kick();
      await new Promise<void>((resolve) => {
        if (!this.busy()) resolve();
        else this.idleWaiters.push(resolve);
      });
    }
    return this.queuedRows;
  }

  async close(): Promise<number> {
    const left = await this.drain();
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.lazyTimer) clearTimeout(this.lazyTimer);
    return left;
  }

  private busy(): boolean {
    return this.scheduled || this.inFlight > 0;
  }

  private enqueue<T>(
    queue: Pending<T>[],
    rows: readonly T[],
    urgent: boolean,
    committed?: () => void,
  ): Promise<void> {
    if (this.closed) return Promise.reject(new Error('writer is closed'));
    if (rows.length === 0) {
      committed?.();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      queue.push({ rows, resolve, reject, urgent, ...(committed && { committed }) });
      this.queuedRows += rows.length;
      this.kick();
    });
  }

  /**
   * Token rows always start a flush. Audit rows alone wait for the retry
   * timer after a failure, and lazy ones also for their timer (or a full batch).
   */
  private hasWork(): boolean {
    if (this.tokens.length > 0) return true;
    if (this.audit.length === 0 || this.retryTimer !== undefined) return false;
    return this.urgentAudit > 0 || this.auditDue || this.queuedAuditRows >= this.options.maxRows;
  }

  private armLazyTimer(): void {
    if (this.lazyTimer !== undefined || this.auditDue) return;
    this.lazyTimer = setTimeout(() => {
      this.lazyTimer = undefined;
      this.auditDue = true;
      this.kick();
    }, this.options.lazyAuditMs ?? 5);
    // Not unref-ed: a short wait, and the row must not be stranded if nothing else keeps the process alive.
  }

  private kick(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || !this.hasWork()) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < this.maxInFlight && this.hasWork()) this.startFlush();
      this.notifyIdle();
    });
  }

  private startFlush(): void {
    this.inFlight++;
    this.flushOnce()
      .catch(() => {
        // Token waiters were rejected in flushOnce; kept audit rows wait for a retry.
        if (this.tokens.length === 0) this.scheduleRetry();
      })
      .finally(() => {
        this.inFlight--;
        this.kick();
        this.notifyIdle();
      });
  }

  private notifyIdle(): void {
    if (this.busy()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.auditDue = true;
      this.kick();
    }, this.options.retryDelayMs ?? 500);
    this.retryTimer.unref();
  }

  /** Takes a batch off the queues synchronously, then writes it in one transaction. */
  private async flushOnce(): Promise<void> {
    const tokens = take(this.tokens, this.options.maxRows);
    const audit = take(this.audit, Math.max(1, this.options.maxRows - count(tokens)));
    const batch: WriteBatch = { tokens: tokens.flatMap((p) => p.rows), audit: audit.flatMap((p) => p.rows) };
    const rows = batch.tokens.length + batch.audit.length;
    this.queuedRows -= rows;
    this.queuedAuditRows -= batch.audit.length;
    for (const p of audit) if (p.urgent) this.urgentAudit--;
    if (this.audit.length === 0) {
      // Everything lazy went out: the next lazy row starts a new wait.
      this.auditDue = false;
      clearTimeout(this.lazyTimer);
      this.lazyTimer = undefined;
    }
    const started = process.hrtime.bigint();
    try {
      await this.options.write(batch);
    } catch (err) {
      this.options.onFlush?.(rows, elapsed(started), err);
      for (const p of tokens) p.reject(err);
      for (const p of audit) p.reject(err);
      // Keep the audit rows, in order, ahead of anything queued since; their
      // waiters were told, the rows themselves are retried.
      this.audit.unshift(
        ...audit.map((p) => ({
          rows: p.rows,
          resolve: noop,
          reject: noop,
          urgent: false,
          ...(p.committed && { committed: p.committed }),
        })),
      );
      this.queuedRows += batch.audit.length;
      this.queuedAuditRows += batch.audit.length;
      throw err;
    }
    this.options.onFlush?.(rows, elapsed(started));
    for (const p of tokens) p.resolve();
    for (const p of audit) {
      p.resolve();
      p.committed?.();
    }
  }
}

function noop(): void {}

function count<T>(items: readonly Pending<T>[]): number {
  let n = 0;
  for (const p of items) n += p.rows.length;
  return n;
}

/** Removes and returns a prefix of the queue holding at most `max` rows (always at least one entry). */
function take<T>(queue: Pending<T>[], max: number): Pending<T>[] {
  let n = 0;
  let i = 0;
  while (i < queue.length && (i === 0 || n + queue[i]!.rows.length <= max)) {
    n += queue[i]!.rows.length;
    i++;
  }
  return queue.splice(0, i);
}

function elapsed(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}
