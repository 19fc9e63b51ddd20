/**
 * Logging: JSON lines on stdout (pino). Operational logs under the name
 * `sidekey` at SIDEKEY_LOG_LEVEL; audit events under the name `audit`,
 * always at info (an operator turning logs down must not lose the audit
 * stream). Nothing logged may contain a value, a key or an ORK: log ids,
 * names and counts; the redact list is a second line of defence.
 */
import { writeSync } from 'node:fs';
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger } from 'pino';

const REDACT = {
  paths: [
    'orkString',
    'ork',
    'key',
    'value',
    'values',
    'plaintext',
    'plaintexts',
    'headers["x-sidekey-org-key"]',
    'headers.authorization',
    'req.headers["x-sidekey-org-key"]',
    'req.headers.authorization',
  ],
  censor: '[redacted]',
};

/** Synchronous stderr, for commands whose stdout is their output. */
export function stderrDestination(): DestinationStream {
  return pino.destination({ dest: 2, sync: true });
}

/**
 * Writes one audit event to the log stream. The line has the shape pino
 * gives every other line (level, time, pid, name `audit`), and its `audit`
 * member is the stored event text byte for byte: serialised once, and a
 * copy anyone can compare with the store (docs/audit.md).
 */
export type AuditLines = (eventText: string, chainId: string, seq: number, hashHex: string) => void;

export interface Loggers {
  readonly log: Logger;
  /** Under the name `audit`: what goes wrong with the audit stream. */
  readonly audit: Logger;
  readonly auditLines: AuditLines;
}

/** How long a log line may wait to share one write with the lines after it. */
export const LOG_BATCH_MS = 10;
const LOG_BATCH_BYTES = 16 * 1024;

/**
 * stdout with one write per batch of lines instead of one per line (ADR-19):
 * at 1,000 requests/s every request's audit line was its own write system
 * call through the libuv thread pool. Lines are joined and handed to the
 * asynchronous pino destination at most LOG_BATCH_MS after the first of
 * them (or at once past LOG_BATCH_BYTES). Errors and fatal lines go out at
 * once with whatever waits before them, and what waits is written
 * synchronously when the process exits (process.exit after a fatal error,
 * the end of a graceful stop); a SIGKILL can lose at most LOG_BATCH_MS of
 * lines — a copy: audit events are durable in the store.
 */
export class BatchedStdout implements DestinationStream {
  private pending: string[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly onExit = () => this.drainSync();

  constructor(
    private readonly out: DestinationStream & { flush?: (cb?: (err?: Error) => void) => void },
    private readonly fd = 1,
  ) {
    process.on('exit', this.onExit);
  }

  write(line: string): void {
    this.pending.push(line);
    this.bytes += line.length;
    // pino's levels 50 (error) and 60 (fatal): the line may be the last before an exit.
    if (this.bytes >= LOG_BATCH_BYTES || line.startsWith('{"level":50') || line.startsWith('{"level":60')) {
      this.drain();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.drain(), LOG_BATCH_MS);
      this.timer.unref();
    }
  }

  /** pino's logger.flush(): hand everything waiting to the destination, then flush it. */
  flush(cb?: (err?: Error) => void): void {
    this.drain();
    if (this.out.flush !== undefined) this.out.flush(cb);
    else cb?.();
  }

  private take(): string {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const text = this.pending.length === 1 ? this.pending[0]! : this.pending.join('');
    this.pending = [];
    this.bytes = 0;
    return text;
  }

  private drain(): void {
    if (this.pending.length > 0) this.out.write(this.take());
  }

  /** At exit nothing asynchronous runs any more: what waits is written here and now. */
  private drainSync(): void {
    if (this.pending.length === 0) return;
    const text = this.take();
    const sonic = this.out as { flushSync?: () => void; destroyed?: boolean };
    try {
      // What the destination holds goes first, then ours, in order. (pino ends
      // its destination itself when the event loop runs dry: then it is empty.)
      if (sonic.destroyed !== true) sonic.flushSync?.();
    } catch {
      // not open yet, or already ended: ours still goes out below
    }
    try {
      writeSync(this.fd, text);
    } catch {
      // stdout is gone: nothing left to tell
    }
  }
}

export function createLoggers(level: string, destination?: DestinationStream): Loggers {
  const dest = destination ?? new BatchedStdout(pino.destination({ dest: 1, sync: false }));
  const base = { redact: REDACT, timestamp: pino.stdTimeFunctions.isoTime, base: { pid: process.pid } };
  const silent = level === 'silent';
  return {
    log: pino({ ...base, name: 'sidekey', level }, dest),
    audit: pino({ ...base, name: 'audit', level: silent ? 'silent' : 'info' }, dest),
    auditLines: silent ? () => {} : auditLineWriter(dest),
  };
}

/** Level 30 is pino's info. The event text is JSON (JSON.stringify: no raw newline); ids and hashes are hex. */
function auditLineWriter(dest: DestinationStream): AuditLines {
  const head = `{"level":30,"time":"`;
  const pid = `","pid":${process.pid},"name":"audit","audit":`;
  return (eventText, chainId, seq, hashHex) => {
    dest.write(
      `${head}${new Date().toISOString()}${pid}${eventText},"chain":"${chainId}","seq":${seq},"hash":"${hashHex}"}\n`,
    );
  };
}

/** A one-line, secret-free description of an error for the log. */
export function describeError(err: unknown): { type: string; message: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { type: err.name, message: err.message, ...(typeof code === 'string' && { code }) };
  }
  return { type: typeof err, message: 'non-error thrown' };
}
