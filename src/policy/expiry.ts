/**
 * Token expiry (API.md "Expiry"): pure rules, time passed in.
 *
 * - A token's TTL is its field policy's TTL, or the request's `ttlSeconds`
 *   when that is shorter (a request cannot outlive its policy).
 * - A token is readable while now < expiresAt; at expiresAt and after it is
 *   NOT_FOUND, like a deleted one (the boundary belongs to "expired").
 */
import { MAX_TTL_SECONDS } from './policy.js';

/** The TTL new tokens get: the shorter of the two; null when neither sets one. */
export function effectiveTtl(policyTtl: number | null, requestTtl: number | undefined): number | null {
  if (requestTtl === undefined) return policyTtl;
  return policyTtl === null ? requestTtl : Math.min(policyTtl, requestTtl);
}

export function expiresAtOf(ttlSeconds: number | null, nowMs: number): Date | null {
  return ttlSeconds === null ? null : new Date(nowMs + ttlSeconds * 1000);
}

export function isExpired(expiresAt: Date | null | undefined, nowMs: number): boolean {
  return expiresAt !== null && expiresAt !== undefined && expiresAt.getTime() <= nowMs;
}

/** Whether `n` is a TTL a request may ask for: a whole number of seconds, 1 to MAX_TTL_SECONDS. */
export function isValidTtl(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_TTL_SECONDS;
}
