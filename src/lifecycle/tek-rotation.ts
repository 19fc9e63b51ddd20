/**
 * TEK rotation as a pure state transition (DESIGN.md "Fleet": two phases).
 *
 *   phase 1  add version N+1 as `active`: every sidecar can decrypt with it
 *            (sidecars look an unknown version up on demand), none encrypts
 *            with it yet;
 *   wait     the propagation delay, so every sidecar has seen N+1 before any
 *            encrypts under it;
 *   phase 2  in one transaction: N (primary) → `active`, N+1 → `primary`.
 *
 * An `active` version newer than the primary is a rotation that stopped
 * between the phases; the next run completes it instead of adding another.
 */
import type { TenantKeyRow } from '../store/index.js';

export type RotationPlan =
  | { readonly action: 'skip'; readonly reason: string; readonly primary: number }
  /** Phase 1 then phase 2. */
  | { readonly action: 'start'; readonly primary: number; readonly next: number }
  /** Only phase 2 is left: `pending` was added (at `addedAt`) and not yet promoted. */
  | { readonly action: 'resume'; readonly primary: number; readonly pending: number; readonly addedAt: Date };

export interface RotationPolicy {
  readonly now: Date;
  /** Rotate only when the primary is at least this old (schedules; idempotent). */
  readonly ifOlderThanMs?: number;
}

export function planTekRotation(keys: readonly TenantKeyRow[], policy: RotationPolicy): RotationPlan {
  const primary = keys.find((k) => k.state === 'primary');
  if (primary === undefined) {
    throw new RangeError(
      keys.some((k) => k.state === 'destroyed')
        ? 'the keys of this tenant were destroyed'
        : 'the tenant has no primary key',
    );
  }
  const pending = keys
    .filter((k) => k.state === 'active' && k.version > primary.version)
    .sort((a, b) => b.version - a.version)[0];
  if (pending !== undefined) {
    return {
      action: 'resume',
      primary: primary.version,
      pending: pending.version,
      addedAt: pending.createdAt,
    };
  }
  if (policy.ifOlderThanMs !== undefined) {
    const age = policy.now.getTime() - primary.createdAt.getTime();
    if (age < policy.ifOlderThanMs) {
      return {
        action: 'skip',
        primary: primary.version,
        reason: `primary version ${primary.version} is ${formatDuration(age)} old, younger than ${formatDuration(policy.ifOlderThanMs)}`,
      };
    }
  }
  const newest = Math.max(...keys.map((k) => k.version));
  return { action: 'start', primary: primary.version, next: newest + 1 };
}

/** How long phase 2 must still wait, given when the pending version was added. */
export function remainingWaitMs(addedAt: Date, propagationMs: number, now: Date): number {
  return Math.max(0, Math.min(propagationMs, addedAt.getTime() + propagationMs - now.getTime()));
}

const UNITS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90d`, `12h`, `30m`, `45s` → milliseconds; undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (m === null) return undefined;
  return Number(m[1]) * UNITS[m[2]!]!;
}

export function formatDuration(ms: number): string {
  const d = ms / UNITS.d!;
  if (d >= 1) return `${Math.floor(d)}d`;
  const h = ms / UNITS.h!;
  if (h >= 1) return `${Math.floor(h)}h`;
  const m = ms / UNITS.m!;
  if (m >= 1) return `${Math.floor(m)}m`;
  return `${Math.max(0, Math.floor(ms / 1000))}s`;
}
