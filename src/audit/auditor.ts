/**
 * The auditor: every operation's event goes to the log stream (pino, logger
 * name `audit`) and to the store as the next link of this process's chain.
 * `record` resolves once the event is durable; reveals await it before they
 * return plaintext.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { generateKey, zeroize } from '../crypto/index.js';
import { type KekPort, kmsContext } from '../kms/index.js';
import type { AuditRow, Store } from '../store/index.js';
import { ChainHead } from './chain.js';
import { type AuditEvent, eventText } from './event.js';

export interface AuditSink {
  writeAudit(rows: readonly AuditRow[]): Promise<void>;
}

export interface AuditorDeps {
  readonly store: Pick<Store, 'insertAuditChain'>;
  readonly kek: KekPort;
  readonly sink: AuditSink;
  readonly log: Logger;
}

export class Auditor {
  private constructor(
    private readonly head: ChainHead,
    private readonly chainKey: Buffer,
    private readonly deps: AuditorDeps,
  ) {}

  /** Opens a new chain: a fresh key, wrapped by the KEK and stored with the chain id. */
  static async open(deps: AuditorDeps): Promise<Auditor> {
    const chainId = randomBytes(16).toString('hex');
    const chainKey = generateKey();
    const wrappedKey = await deps.kek.wrap(chainKey, kmsContext.auditChain(chainId));
    await deps.store.insertAuditChain({ chainId, kekRef: deps.kek.kekRef, wrappedKey, host: hostname() });
    return new Auditor(new ChainHead(chainKey, chainId), chainKey, deps);
  }

  get chainId(): string {
    return this.head.chainId;
  }

  /** Appends the event to the chain and the log; resolves when it is durable in the store. */
  record(event: AuditEvent): Promise<void> {
    const text = eventText(event);
    const link = this.head.append(text);
    this.deps.log.info({
      audit: event,
      chain: this.head.chainId,
      seq: link.seq,
      hash: link.hash.toString('hex'),
    });
    return this.deps.sink.writeAudit([
      { chainId: this.head.chainId, seq: link.seq, prevHash: link.prevHash, hash: link.hash, event: text },
    ]);
  }

  /** Best effort: the caller does not wait, but a failure is logged (the row stays queued). */
  recordInBackground(event: AuditEvent): void {
    this.record(event).catch((err: unknown) => {
      this.deps.log.warn(
        { err: errorSummary(err), chain: this.head.chainId },
        'audit event not yet durable; retrying',
      );
    });
  }

  close(): void {
    zeroize(this.chainKey);
  }
}

function errorSummary(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : 'unknown error';
}
