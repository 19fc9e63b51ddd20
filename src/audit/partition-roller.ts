/**
 * Keeps daily partitions of the audit log ahead of time: every sidecar (and
 * `sidekey migrate`, `audit export`, `audit prune`) asks the store to create
 * the partitions of today and the next `daysAhead` days. The store function
 * takes an advisory lock (one roller at a time) and attaches new tables
 * without blocking inserts; a day that is missed lands in the default
 * partition, so a write never fails for want of a partition.
 */
import type { AuditLogStore } from '../store/index.js';

export const PARTITION_DAYS_AHEAD = 7;
const EVERY_MS = 3_600_000;

/** The UTC day of `now` (midnight). */
export function utcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

export function rollAuditPartitions(
  log: Pick<AuditLogStore, 'rollForward'>,
  now: Date = new Date(),
  daysAhead = PARTITION_DAYS_AHEAD,
): Promise<number> {
  return log.rollForward(utcDay(now), daysAhead);
}

/** Rolls now and every hour until stopped; failures go to `onError` (the next hour retries). */
export function startPartitionRoller(
  log: Pick<AuditLogStore, 'rollForward'>,
  onError: (err: unknown) => void,
): { stop(): void } {
  const run = () => {
    rollAuditPartitions(log).catch(onError);
  };
  run();
  const timer = setInterval(run, EVERY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
