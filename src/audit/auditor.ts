/**
 * The auditor: every operation's event goes to the log stream (pino, logger
 * name `audit`) and to the store as the next link of this process's chain.
 * `record` resolves once the event is durable; reveals await it before they
 * return plaintext. Durable means committed in the store, or — with the
 * audit spool as the sink (ADR-17, SIDEKEY_AUDIT_DURABILITY=spool) — synced
 * to the spool file, which ships it to the store.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { generateKey, zeroize } from '../crypto/index.js';
import { type KekPort, kmsContext } from '../kms/index.js';
import type { AuditLines } from '../observability/index.js';
import type { AuditChainRow, AuditRow, Store } from '../store/index.js';
import { ChainHead } from './chain.js';
import { type AuditEvent, eventText } from './event.js';

export interface AuditSink {
  /** `urgent: false`: nobody waits, the rows may wait for the sink's next write (GroupCommitWriter). */
  writeAudit(rows: readonly AuditRow[], options?: { urgent?: boolean }): Promise<void>;
  /**
   * A sink that stores the chain record itself, ahead of the chain's rows
   * (the audit spool): the Auditor hands it the record instead of storing it.
   */
  openChain?(chain: Omit<AuditChainRow, 'startedAt'>): Promise<void>;
  /** A bounded sink at its bound: events callers wait for are refused before they are chained. */
  readonly full?: boolean;
}

/** The sink is at its bound (the audit spool is full): the event was not chained. */
export class AuditBacklogFullError extends Error {
  override readonly name = 'AuditBacklogFullError';
  constructor() {
    super('the audit backlog is full (SIDEKEY_AUDIT_SPOOL_MAX_EVENTS events not yet stored)');
  }
}

export interface AuditorDeps {
  readonly store: Pick<Store, 'insertAuditChain'>;
  readonly kek: KekPort;
  readonly sink: AuditSink;
  /** Problems with the audit stream (an event not yet durable). */
  readonly log: Logger;
  /** The log-stream copy of every event. */
  readonly lines: AuditLines;
}

interface Pending {
  readonly row: AuditRow;
  readonly urgent: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const REGISTER_RETRY_MS = 1000;

export class Auditor {
  /** Rows waiting for the chain record to be stored (audit rows reference it). */
  private pending: Pending[] = [];
  private registered = false;
  private registering: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly head: ChainHead,
    private readonly chainKey: Buffer,
    private readonly wrappedKey: Buffer,
    private readonly deps: AuditorDeps,
  ) {}

  /**
   * Opens a new chain: a fresh key, wrapped by the KEK. The chain record is
   * stored before the first event; when the store is down at start, events
   * wait (in order) until it is back, so the chain never has a hole.
   */
  static async open(deps: AuditorDeps): Promise<Auditor> {
    const chainId = randomBytes(16).toString('hex');
    const chainKey = generateKey();
    const wrappedKey = await deps.kek.wrap(chainKey, kmsContext.auditChain(chainId));
    const auditor = new Auditor(new ChainHead(chainKey, chainId), chainKey, wrappedKey, deps);
    if (deps.sink.openChain !== undefined) {
      await deps.sink.openChain({ chainId, kekRef: deps.kek.kekRef, wrappedKey, host: hostname() });
      auditor.registered = true;
    } else {
      await auditor.register().catch(() => {});
    }
    return auditor;
  }

  get chainId(): string {
    return this.head.chainId;
  }

  /** Events waiting for the chain record to be stored (the store was down at start). */
  get backlog(): number {
    return this.pending.length;
  }

  /** Appends the event to the chain and the log; resolves when it is durable in the store. */
  record(event: AuditEvent): Promise<void> {
    if (this.deps.sink.full === true) return Promise.reject(new AuditBacklogFullError());
    return this.append(event, true);
  }

  /** False while the sink is at its bound: the service refuses new operations (fail closed). */
  admits(): boolean {
    return this.deps.sink.full !== true;
  }

  /** Best effort: the caller does not wait, but a failure is logged (the row stays queued). */
  recordInBackground(event: AuditEvent): void {
    this.append(event, false).catch((err: unknown) => {
      this.deps.log.warn(
        { err: errorSummary(err), chain: this.head.chainId },
        'audit event not yet durable; retrying',
      );
    });
  }

  private append(event: AuditEvent, urgent: boolean): Promise<void> {
    const text = eventText(event);
    const link = this.head.append(text);
    this.deps.lines(text, this.head.chainId, link.seq, link.hash.toString('hex'));
    const row: AuditRow = {
      chainId: this.head.chainId,
      seq: link.seq,
      prevHash: link.prevHash,
      hash: link.hash,
      event: text,
    };
    if (this.registered) return this.deps.sink.writeAudit([row], { urgent });
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ row, urgent, resolve, reject });
      this.register().catch(() => {});
    });
  }

  close(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    zeroize(this.chainKey);
  }

  private register(): Promise<void> {
    if (this.registered) return Promise.resolve();
    this.registering ??= this.deps.store
      .insertAuditChain({
        chainId: this.head.chainId,
        kekRef: this.deps.kek.kekRef,
        wrappedKey: this.wrappedKey,
        host: hostname(),
      })
      .then(
        () => {
          this.registered = true;
          const rows = this.pending;
          this.pending = [];
          // In order, behind the chain record.
          for (const p of rows)
            this.deps.sink.writeAudit([p.row], { urgent: p.urgent }).then(p.resolve, p.reject);
        },
        (err: unknown) => {
          this.registering = undefined;
          // Waiters are told; their rows stay, in order, for the next attempt.
          for (const p of this.pending) {
            p.reject(err);
            p.resolve = noop;
            p.reject = noop;
          }
          if (this.retryTimer === undefined) {
            this.retryTimer = setTimeout(() => {
              this.retryTimer = undefined;
              this.register().catch(() => {});
            }, REGISTER_RETRY_MS);
            this.retryTimer.unref();
          }
          throw err;
        },
      );
    return this.registering;
  }
}

function noop(): void {}

function errorSummary(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : 'unknown error';
}
