/**
 * Logging: JSON lines on stdout (pino). Operational logs under the name
 * `sidekey` at SIDEKEY_LOG_LEVEL; audit events under the name `audit`,
 * always at info (an operator turning logs down must not lose the audit
 * stream). Nothing logged may contain a value, a key or an ORK: log ids,
 * names and counts; the redact list is a second line of defence.
 */
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

export function createLoggers(level: string, destination?: DestinationStream): Loggers {
  const dest = destination ?? pino.destination({ dest: 1, sync: false });
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
