/**
 * Token and ORK identifiers (docs/formats.md "Token", "ORK id").
 * Tokens are random, not derived from the value: 128 bits from the CSPRNG,
 * so a token says nothing about its value and cannot be guessed.
 */
import { fromBase64Url, toBase64Url } from './encoding.js';
import type { RandomSource } from './primitives.js';

export const TOKEN_PREFIX = 'tok_';
export const TOKEN_RANDOM_BYTES = 16;
/** tok_ + 22 base64url characters (16 bytes, unpadded). */
export const TOKEN_PATTERN = /^tok_[A-Za-z0-9_-]{22}$/;

export function newToken(random: RandomSource): string {
  return TOKEN_PREFIX + toBase64Url(random.bytes(TOKEN_RANDOM_BYTES));
}

export function isTokenSyntax(token: string): boolean {
  return TOKEN_PATTERN.test(token) && fromBase64Url(token.slice(TOKEN_PREFIX.length)) !== undefined;
}

/** ORK ids: 16 random bytes, written as 32 lowercase hex characters. */
export const ORK_ID_PATTERN = /^[0-9a-f]{32}$/;

export function newOrkId(random: RandomSource): string {
  return Buffer.from(random.bytes(16)).toString('hex');
}

export function orkIdToBytes(orkId: string): Buffer {
  if (!ORK_ID_PATTERN.test(orkId)) throw new RangeError('malformed ORK id');
  return Buffer.from(orkId, 'hex');
}

export function orkIdFromBytes(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
