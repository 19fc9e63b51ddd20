/**
 * Mask rules (API.md "Masked reveal"): what a masked reveal shows of a value.
 * Pure, and by code point (never by UTF-16 unit, so no rule splits a
 * surrogate pair).
 *
 * Invariants:
 * - A masked value never holds more of the value than its rule keeps: the
 *   last 4 (`last4`) or first 6 and last 4 (`first6last4`) letters and
 *   digits, the first character of an email's local part, nothing for
 *   `redact`.
 * - When a value has no more letters and digits than the rule keeps, all
 *   of them are masked (a short value is not shown whole).
 * - A combining mark takes the fate of the letter before it (dropped after
 *   a masked one, so `*` never carries an accent that hints at the letter).
 */
import type { MaskRule } from '../store/index.js';

export const REDACTED = '***';

const LETTER_OR_DIGIT = /^[\p{L}\p{N}]$/u;
const MARK = /^\p{M}$/u;

export function maskValue(rule: MaskRule, value: string): string {
  switch (rule) {
    case 'last4':
      return keepEnds(value, 0, 4);
    case 'first6last4':
      return keepEnds(value, 6, 4);
    case 'email':
      return maskEmail(value);
    case 'redact':
      return REDACTED;
  }
}

/** Letters and digits become `*` except the first `head` and last `tail`; other characters stay. */
function keepEnds(value: string, head: number, tail: number): string {
  const chars = Array.from(value);
  let total = 0;
  for (const c of chars) if (LETTER_OR_DIGIT.test(c)) total++;
  const maskAll = total <= head + tail;
  let seen = 0;
  let lastMasked = false;
  let out = '';
  for (const c of chars) {
    if (LETTER_OR_DIGIT.test(c)) {
      const kept = !maskAll && (seen < head || seen >= total - tail);
      seen++;
      lastMasked = !kept;
      out += kept ? c : '*';
    } else if (MARK.test(c)) {
      if (!lastMasked) out += c;
    } else {
      lastMasked = false;
      out += c;
    }
  }
  return out;
}

/** `alice@example.com` → `a***@example.com`; without `@`, redacted. The domain is the part after the last `@`. */
function maskEmail(value: string): string {
  const at = value.lastIndexOf('@');
  if (at < 0) return REDACTED;
  const first = value.codePointAt(0);
  const head = at === 0 || first === undefined ? '' : String.fromCodePoint(first);
  return `${head}${REDACTED}${value.slice(at)}`;
}
