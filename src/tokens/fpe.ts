/**
 * Format-preserving tokens: NIST SP 800-38G FF1 with AES-256, from
 * @noble/ciphers (never a home-made cipher). This module only decides which
 * characters are encrypted and with which tweak (docs/formats.md "fpe tokens").
 *
 * Invariants:
 * - Characters of the alphabet are encrypted; every other character (spaces,
 *   dashes, `@`, …) stays where it is, so the token has the value's length
 *   and shape.
 * - The first `keepPrefix` and last `keepSuffix` alphabet characters stay in
 *   clear (a card's BIN and last four) and are bound into the tweak, with the
 *   tenant and the field: tweak = lp(tenant) ‖ lp(field) ‖ lp(prefix) ‖ lp(suffix).
 * - The encrypted part must have at least 1,000,000 possible values
 *   (radix^length, SP 800-38G Rev. 1); shorter values are refused.
 * - At most MAX_FPE_CHARS alphabet characters per value: FF1's big-integer
 *   arithmetic is quadratic in the length, so longer values are refused
 *   rather than allowed to stall the daemon.
 * The cipher itself is in fpe-cipher.ts, imported by the fpe minter on its
 * first use: @noble/ciphers builds about 2 MiB of AES tables when it is
 * loaded, which a daemon without an fpe field never needs (ADR-19, "memory").
 */

export const FPE_MIN_DOMAIN = 1_000_000n;
export const MAX_FPE_CHARS = 256;
export const MAX_ALPHABET_CHARS = 256;

/** Named alphabets; any other alphabet is given as its characters. */
export const NAMED_ALPHABETS: Readonly<Record<string, string>> = {
  digits: '0123456789',
  alnum: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
};

export interface FpeFormat {
  /** `digits`, `alnum` or the characters themselves. */
  readonly alphabet: string;
  readonly keepPrefix: number;
  readonly keepSuffix: number;
}

/** The alphabet's characters (code points), or a one-line reason it is unusable. */
export function alphabetChars(spec: string): string[] | string {
  const chars = Array.from(NAMED_ALPHABETS[spec] ?? spec);
  if (chars.length < 2) return 'an alphabet needs at least 2 characters';
  if (chars.length > MAX_ALPHABET_CHARS) return `an alphabet has at most ${MAX_ALPHABET_CHARS} characters`;
  if (new Set(chars).size !== chars.length) return 'an alphabet must not repeat a character';
  return chars;
}

/** The fewest encrypted characters that meet the domain rule for this radix. */
export function minEncryptedChars(radix: number): number {
  let n = 0;
  for (let d = 1n; d < FPE_MIN_DOMAIN; d *= BigInt(radix)) n++;
  return n;
}

/** Why a format can never tokenize anything (keep-prefix + keep-suffix leave no room), or undefined. */
export function formatProblem(format: FpeFormat): string | undefined {
  const chars = alphabetChars(format.alphabet);
  if (typeof chars === 'string') return chars;
  const need = minEncryptedChars(chars.length);
  if (format.keepPrefix + format.keepSuffix + need > MAX_FPE_CHARS) {
    return `keep-prefix + keep-suffix leave too few characters to encrypt: at most ${MAX_FPE_CHARS} alphabet characters per value, and at least ${need} must be encrypted`;
  }
  return undefined;
}

export type FpeRefusal = 'no-alphabet-chars' | 'domain-too-small' | 'too-long';

/** Why a value was refused, without the value. */
export function describeRefusal(reason: FpeRefusal, format: FpeFormat): string {
  switch (reason) {
    case 'no-alphabet-chars':
      return `has no character of the field's fpe alphabet (${format.alphabet.length > 16 ? 'custom' : format.alphabet})`;
    case 'domain-too-small':
      return `has too few characters to encrypt after keeping ${format.keepPrefix} + ${format.keepSuffix}: the encrypted part needs at least ${FPE_MIN_DOMAIN} possible values`;
    case 'too-long':
      return `has more than ${MAX_FPE_CHARS} characters of the fpe alphabet`;
  }
}
