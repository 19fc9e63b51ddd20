/**
 * Field policies (API.md "Field policies"): which token kind a field gets,
 * how a masked reveal shows it, and how long its tokens live. Pure: parsing
 * and merging of what an operator asks for; the store keeps the result and
 * the fleet reads it through PolicyBook.
 */
import type { MaskRule, PolicyRow, TokenKindName } from '../store/index.js';
import { type FpeFormat, formatProblem } from '../tokens/fpe.js';

export type FieldPolicy = Omit<PolicyRow, 'createdAt' | 'updatedAt'>;

export const TOKEN_KINDS: readonly TokenKindName[] = ['random', 'deterministic', 'fpe'];
export const MASK_RULES: readonly MaskRule[] = ['last4', 'first6last4', 'email', 'redact'];
/** The longest TTL a policy or a request may set: ten years (fits a 32-bit integer). */
export const MAX_TTL_SECONDS = 10 * 365 * 86_400;
/** The alphabet a new fpe policy gets when none is given. */
export const DEFAULT_FPE_ALPHABET = 'digits';

/** What a field without a policy behaves as (v1). */
export function defaultPolicy(tenant: string, field: string): FieldPolicy {
  return {
    tenant,
    field,
    kind: 'random',
    alphabet: null,
    keepPrefix: 0,
    keepSuffix: 0,
    mask: 'redact',
    ttlSeconds: null,
  };
}

/** What `policy set` was given; undefined keeps the current value. */
export interface PolicyChange {
  readonly kind?: string;
  readonly alphabet?: string;
  readonly keepPrefix?: string;
  readonly keepSuffix?: string;
  readonly mask?: string;
  readonly ttl?: string;
}

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

/** `90d`, `12h`, `30m`, `45s` or `none` → seconds (null for none). */
export function parseTtl(text: string): number | null {
  if (text === 'none') return null;
  const m = /^([1-9][0-9]{0,9})([smhd])$/.exec(text);
  if (m === null)
    throw new PolicyError(
      `--ttl must be like 90d, 12h, 30m, 45s or none, not ${JSON.stringify(text.slice(0, 32))}`,
    );
  const seconds = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  if (seconds > MAX_TTL_SECONDS) throw new PolicyError(`--ttl is at most ${MAX_TTL_SECONDS / 86_400}d`);
  return seconds;
}

function parseCount(name: string, text: string): number {
  if (!/^(0|[1-9][0-9]{0,2})$/.test(text))
    throw new PolicyError(`--${name} must be a whole number from 0 to 999`);
  return Number(text);
}

/**
 * The policy after `change`, starting from `current` (or a new policy:
 * random, redact, no TTL). Throws PolicyError with a one-line reason.
 */
export function applyChange(current: FieldPolicy, change: PolicyChange): FieldPolicy {
  let kind = current.kind;
  if (change.kind !== undefined) {
    if (!(TOKEN_KINDS as readonly string[]).includes(change.kind))
      throw new PolicyError(`--kind must be one of ${TOKEN_KINDS.join(', ')}`);
    kind = change.kind as TokenKindName;
  }
  let mask = current.mask;
  if (change.mask !== undefined) {
    if (!(MASK_RULES as readonly string[]).includes(change.mask))
      throw new PolicyError(`--mask must be one of ${MASK_RULES.join(', ')}`);
    mask = change.mask as MaskRule;
  }
  const next: FieldPolicy = {
    ...current,
    kind,
    mask,
    alphabet: change.alphabet ?? current.alphabet ?? (kind === 'fpe' ? DEFAULT_FPE_ALPHABET : null),
    keepPrefix:
      change.keepPrefix === undefined ? current.keepPrefix : parseCount('keep-prefix', change.keepPrefix),
    keepSuffix:
      change.keepSuffix === undefined ? current.keepSuffix : parseCount('keep-suffix', change.keepSuffix),
    ttlSeconds: change.ttl === undefined ? current.ttlSeconds : parseTtl(change.ttl),
  };
  const fpeOptions =
    change.alphabet !== undefined || change.keepPrefix !== undefined || change.keepSuffix !== undefined;
  if (fpeOptions && next.kind !== 'fpe')
    throw new PolicyError('--alphabet, --keep-prefix and --keep-suffix apply to --kind fpe only');
  if (next.kind === 'fpe') {
    const problem = formatProblem(fpeFormatOf(next));
    if (problem !== undefined) throw new PolicyError(problem);
  }
  return next;
}

export function fpeFormatOf(p: FieldPolicy): FpeFormat {
  return { alphabet: p.alphabet ?? DEFAULT_FPE_ALPHABET, keepPrefix: p.keepPrefix, keepSuffix: p.keepSuffix };
}

export function sameFpeFormat(a: FieldPolicy, b: FieldPolicy): boolean {
  const x = fpeFormatOf(a);
  const y = fpeFormatOf(b);
  return x.alphabet === y.alphabet && x.keepPrefix === y.keepPrefix && x.keepSuffix === y.keepSuffix;
}

/** The `--json` form (API.md): fpe policies also show their format. */
export function policyJson(p: PolicyRow): Record<string, unknown> {
  return {
    tenant: p.tenant,
    field: p.field,
    kind: p.kind,
    mask: p.mask,
    ttlSeconds: p.ttlSeconds,
    ...(p.kind === 'fpe' && { ...fpeFormatOf(p) }),
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}
