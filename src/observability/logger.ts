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

export interface Loggers {
  readonly log: Logger;
  readonly audit: Logger;
}

export function createLoggers(level: string, destination?: DestinationStream): Loggers {
  const dest = destination ?? pino.destination({ dest: 1, sync: false });
  const base = { redact: REDACT, timestamp: pino.stdTimeFunctions.isoTime, base: { pid: process.pid } };
  return {
    log: pino({ ...base, name: 'sidekey', level }, dest),
    audit: pino({ ...base, name: 'audit', level: level === 'silent' ? 'silent' : 'info' }, dest),
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
