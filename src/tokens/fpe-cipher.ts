/**
 * The FF1 transform of fpe tokens (fpe.ts says which characters and which
 * tweak; docs/formats.md "fpe tokens"). A module of its own so that
 * @noble/ciphers — about 2 MiB of AES tables built at import — is loaded by
 * the first fpe minter (kinds.ts), not by every daemon (ADR-19, "memory").
 */
import { FF1 } from '@noble/ciphers/ff1.js';
import { lengthPrefixed } from '../crypto/encoding.js';
import { alphabetChars, FPE_MIN_DOMAIN, type FpeFormat, type FpeRefusal, MAX_FPE_CHARS } from './fpe.js';

/**
 * The fpe token of `value`, or why it cannot have one. `decrypt` inverts it
 * (sidekey never needs to: the record holds the value; recovery tools and
 * tests do).
 */
export function fpeTransform(
  key: Uint8Array,
  tenant: string,
  field: string,
  format: FpeFormat,
  value: string,
  direction: 'encrypt' | 'decrypt' = 'encrypt',
): { readonly token: string } | { readonly refused: FpeRefusal } {
  const alphabet = alphabetChars(format.alphabet);
  if (typeof alphabet === 'string') throw new RangeError(alphabet);
  const index = new Map(alphabet.map((c, i) => [c, i]));
  const chars = Array.from(value);
  const positions: number[] = [];
  const numerals: number[] = [];
  for (let i = 0; i < chars.length; i++) {
    const n = index.get(chars[i]!);
    if (n !== undefined) {
      positions.push(i);
      numerals.push(n);
    }
  }
  if (numerals.length === 0) return { refused: 'no-alphabet-chars' };
  if (numerals.length > MAX_FPE_CHARS) return { refused: 'too-long' };
  const middle = numerals.length - format.keepPrefix - format.keepSuffix;
  if (middle <= 0 || BigInt(alphabet.length) ** BigInt(middle) < FPE_MIN_DOMAIN) {
    return { refused: 'domain-too-small' };
  }
  const clear = (from: number, to: number) =>
    positions
      .slice(from, to)
      .map((p) => chars[p])
      .join('');
  const tweak = Buffer.concat([
    lengthPrefixed(tenant),
    lengthPrefixed(field),
    lengthPrefixed(clear(0, format.keepPrefix)),
    lengthPrefixed(clear(format.keepPrefix + middle, numerals.length)),
  ]);
  const cipher = FF1(alphabet.length, key, tweak);
  const part = numerals.slice(format.keepPrefix, format.keepPrefix + middle);
  const out = direction === 'encrypt' ? cipher.encrypt(part) : cipher.decrypt(part);
  for (let j = 0; j < out.length; j++) chars[positions[format.keepPrefix + j]!] = alphabet[out[j]!]!;
  return { token: chars.join('') };
}
