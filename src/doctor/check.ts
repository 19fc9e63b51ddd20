/** One finding of `sidekey doctor`: what was checked, how it went, and what to do when it failed. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable name (`kms.round-trip`, `postgres.grants`, …): scripts match on it. */
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** What to do, for `warn` and `fail`. */
  readonly fix?: string;
}

export const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
export const warn = (name: string, detail: string, fix: string): CheckResult => ({
  name,
  status: 'warn',
  detail,
  fix,
});
export const fail = (name: string, detail: string, fix: string): CheckResult => ({
  name,
  status: 'fail',
  detail,
  fix,
});
export const skip = (name: string, detail: string): CheckResult => ({ name, status: 'skip', detail });

/** A check that throws becomes a failure with its message (never a stack, never a secret). */
export async function guarded(
  name: string,
  fix: string,
  run: () => Promise<CheckResult | CheckResult[]>,
): Promise<CheckResult[]> {
  try {
    const r = await run();
    return Array.isArray(r) ? r : [r];
  } catch (err) {
    return [fail(name, err instanceof Error ? err.message : String(err), fix)];
  }
}

export const DAY_MS = 86_400_000;
/** Certificates expiring sooner than this are a warning (the alert rule uses the same 14 days). */
export const CERT_WARN_DAYS = 14;

/** Expiry of a certificate as a check result. */
export function certificateCheck(
  name: string,
  what: string,
  notAfter: Date | undefined,
  now: Date,
  renew: string,
): CheckResult {
  if (notAfter === undefined) return fail(name, `${what}: no readable PEM certificate`, renew);
  const days = (notAfter.getTime() - now.getTime()) / DAY_MS;
  if (days <= 0) return fail(name, `${what} expired on ${notAfter.toISOString()}`, renew);
  if (days < CERT_WARN_DAYS)
    return warn(name, `${what} expires in ${Math.floor(days)} day(s), on ${notAfter.toISOString()}`, renew);
  return ok(name, `${what} valid until ${notAfter.toISOString()} (${Math.floor(days)} days)`);
}
