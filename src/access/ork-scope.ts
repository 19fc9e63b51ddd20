/**
 * ORK scopes (API.md "ORK scopes"): which operations an organisation key may
 * call and how much a reveal shows it. Stored with the ORK's id (never in
 * the ORK string, so its holder cannot edit it), cached with the ORK's
 * identity by every sidecar and dropped from those caches by the
 * `ork-changed` announcement. Pure: parsing and the check.
 */

/** Every operation a scope can allow; `forget` is for subjects/forget (issue 13). */
export const ORK_OPERATIONS = ['tokenize', 'detokenize', 'encrypt', 'decrypt', 'delete', 'forget'] as const;
export type OrkOperation = (typeof ORK_OPERATIONS)[number];

/** `full`: values; `masked`: every reveal is masked; `none`: no reveal at all. */
export const REVEAL_LEVELS = ['full', 'masked', 'none'] as const;
export type RevealLevel = (typeof REVEAL_LEVELS)[number];

export interface OrkScope {
  /** In ORK_OPERATIONS order, no duplicates. */
  readonly allow: readonly OrkOperation[];
  readonly reveal: RevealLevel;
}

/** What an ORK may do when nothing narrower was asked for (every v1 ORK). */
export const FULL_SCOPE: OrkScope = Object.freeze({ allow: ORK_OPERATIONS, reveal: 'full' });

export class ScopeError extends Error {
  override readonly name = 'ScopeError';
}

/** `tokenize,detokenize` → the operations (in canonical order); throws ScopeError naming what is wrong. */
export function parseAllow(text: string): OrkOperation[] {
  const names = text.split(',').map((s) => s.trim());
  if (names.length === 0 || names.some((n) => n === ''))
    throw new ScopeError(`--allow must be a comma list of ${ORK_OPERATIONS.join(', ')}`);
  for (const n of names) {
    if (!(ORK_OPERATIONS as readonly string[]).includes(n))
      throw new ScopeError(
        `--allow: unknown operation ${JSON.stringify(n.slice(0, 32))}; use ${ORK_OPERATIONS.join(', ')}`,
      );
  }
  return ORK_OPERATIONS.filter((op) => names.includes(op));
}

export function parseReveal(text: string): RevealLevel {
  if (!(REVEAL_LEVELS as readonly string[]).includes(text))
    throw new ScopeError(`--reveal must be one of ${REVEAL_LEVELS.join(', ')}`);
  return text as RevealLevel;
}

/** A stored scope, checked: unknown names (a newer release's) are dropped, never granted. */
export function scopeOf(
  allow: readonly string[] | null | undefined,
  reveal: string | null | undefined,
): OrkScope {
  if (allow === null || allow === undefined) return FULL_SCOPE;
  return {
    allow: ORK_OPERATIONS.filter((op) => allow.includes(op)),
    reveal: (REVEAL_LEVELS as readonly string[]).includes(reveal ?? '') ? (reveal as RevealLevel) : 'none',
  };
}

const REVEALS: ReadonlySet<OrkOperation> = new Set(['detokenize', 'decrypt']);

/**
 * Calls no scope names, allowed by the operations they serve: the ingest
 * public keys (issue 14) are what sealed tokenize and encrypt need.
 */
const IMPLIED: Readonly<Record<'ingest-keys', readonly OrkOperation[]>> = {
  'ingest-keys': ['tokenize', 'encrypt'],
};

/**
 * Why `scope` refuses `operation`, or undefined when it allows it: `allow`
 * (not in the list) or `reveal` (a reveal with `--reveal none`).
 */
export function refusal(
  scope: OrkScope,
  operation: OrkOperation | keyof typeof IMPLIED,
): 'allow' | 'reveal' | undefined {
  if (operation === 'ingest-keys')
    return IMPLIED[operation].some((op) => scope.allow.includes(op)) ? undefined : 'allow';
  if (!scope.allow.includes(operation)) return 'allow';
  if (scope.reveal === 'none' && REVEALS.has(operation)) return 'reveal';
  return undefined;
}
