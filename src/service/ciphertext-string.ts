/**
 * The text form of a standalone ciphertext returned by encrypt:
 * "ct_" ‖ base64url(envelope), envelope as in crypto/envelope.ts.
 */
import { type CiphertextHeader, fromBase64Url, readCiphertextHeader, toBase64Url } from '../crypto/index.js';

export const CIPHERTEXT_PREFIX = 'ct_';

export function encodeCiphertext(envelope: Buffer): string {
  return CIPHERTEXT_PREFIX + toBase64Url(envelope);
}

export function decodeCiphertext(text: string): { bytes: Buffer; header: CiphertextHeader } | undefined {
  if (!text.startsWith(CIPHERTEXT_PREFIX)) return undefined;
  const bytes = fromBase64Url(text.slice(CIPHERTEXT_PREFIX.length));
  if (bytes === undefined) return undefined;
  const header = readCiphertextHeader(bytes);
  return header === undefined ? undefined : { bytes, header };
}
