/**
 * The text form of a standalone ciphertext returned by encrypt:
 * "ct_" ‖ base64url(envelope), envelope as in crypto/envelope.ts (format
 * 0x02) or crypto/subject.ts (format 0x03, a data subject's).
 */
import {
  type CiphertextHeader,
  fromBase64Url,
  readCiphertextHeader,
  readSubjectCiphertextHeader,
  toBase64Url,
} from '../crypto/index.js';

export const CIPHERTEXT_PREFIX = 'ct_';

/** The header of either format; `subjectKeyId` only for a subject's ciphertext. */
export interface AnyCiphertextHeader extends CiphertextHeader {
  readonly subjectKeyId?: string;
}

export function encodeCiphertext(envelope: Buffer): string {
  return CIPHERTEXT_PREFIX + toBase64Url(envelope);
}

export function decodeCiphertext(text: string): { bytes: Buffer; header: AnyCiphertextHeader } | undefined {
  if (!text.startsWith(CIPHERTEXT_PREFIX)) return undefined;
  const bytes = fromBase64Url(text.slice(CIPHERTEXT_PREFIX.length));
  if (bytes === undefined) return undefined;
  const header = readCiphertextHeader(bytes) ?? readSubjectCiphertextHeader(bytes);
  return header === undefined ? undefined : { bytes, header };
}
