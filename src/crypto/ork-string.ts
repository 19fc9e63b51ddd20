/**
 * The ORK string an organisation holds (docs/formats.md "ORK string").
 *
 *   "sk_ork_" ‖ base64url( 0x01 ‖ u8 len ‖ tenant ‖ orkId(16) ‖ u8 len ‖ kekRef
 *                          ‖ u16be len ‖ wrappedOrk )
 *
 * `wrappedOrk` is the 32-byte ORK wrapped by the KEK with the encryption
 * context { purpose: "ork", tenant, ork_id }: the KMS refuses to unwrap it if
 * any of tenant, id or wrapped bytes were changed, so the string is
 * tamper-evident without a separate MAC. `kekRef` names the KEK that wrapped
 * it (routing only; a wrong ref simply fails to unwrap).
 */
import { fromBase64Url, toBase64Url } from './encoding.js';
import { ORK_ID_BYTES } from './envelope.js';
import { orkIdFromBytes, orkIdToBytes } from './identifiers.js';

// Strict, and a leading U+FEFF is kept: one tenant or KEK reference has one encoding.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

export const ORK_STRING_PREFIX = 'sk_ork_';
/** Frozen format byte of the ORK string payload. */
export const ORK_STRING_V1 = 0x01;
/** Upper bound on an ORK string's length; longer header values are refused unparsed. */
export const ORK_STRING_MAX_CHARS = 4096;

export interface OrkStringParts {
  readonly tenant: string;
  readonly orkId: string;
  readonly kekRef: string;
  readonly wrapped: Buffer;
}

export function encodeOrkString(parts: OrkStringParts): string {
  const tenant = Buffer.from(parts.tenant, 'utf8');
  const kekRef = Buffer.from(parts.kekRef, 'utf8');
  if (tenant.length === 0 || kekRef.length === 0 || parts.wrapped.length === 0) {
    throw new RangeError('ORK string fields must not be empty');
  }
  if (tenant.length > 255 || kekRef.length > 255 || parts.wrapped.length > 0xffff) {
    throw new RangeError('ORK string field too long');
  }
  const wrappedLen = Buffer.allocUnsafe(2);
  wrappedLen.writeUInt16BE(parts.wrapped.length, 0);
  const payload = Buffer.concat([
    Buffer.from([ORK_STRING_V1, tenant.length]),
    tenant,
    orkIdToBytes(parts.orkId),
    Buffer.from([kekRef.length]),
    kekRef,
    wrappedLen,
    parts.wrapped,
  ]);
  return ORK_STRING_PREFIX + toBase64Url(payload);
}

/** Parses the structure only (no cryptography); undefined when malformed. */
export function decodeOrkString(text: string): OrkStringParts | undefined {
  if (text.length > ORK_STRING_MAX_CHARS || !text.startsWith(ORK_STRING_PREFIX)) return undefined;
  const payload = fromBase64Url(text.slice(ORK_STRING_PREFIX.length));
  if (payload === undefined || payload.length < 2 || payload[0] !== ORK_STRING_V1) return undefined;
  let at = 1;
  const tenantLen = payload[at++]!;
  if (payload.length < at + tenantLen + ORK_ID_BYTES + 1) return undefined;
  const tenant = utf8OrUndefined(payload.subarray(at, at + tenantLen));
  if (tenant === undefined || tenant === '') return undefined;
  at += tenantLen;
  const orkId = orkIdFromBytes(payload.subarray(at, at + ORK_ID_BYTES));
  at += ORK_ID_BYTES;
  const kekLen = payload[at++]!;
  if (payload.length < at + kekLen + 2) return undefined;
  const kekRef = utf8OrUndefined(payload.subarray(at, at + kekLen));
  if (kekRef === undefined || kekRef === '') return undefined;
  at += kekLen;
  const wrappedLen = payload.readUInt16BE(at);
  at += 2;
  if (payload.length !== at + wrappedLen || wrappedLen === 0) return undefined;
  return { tenant, orkId, kekRef, wrapped: Buffer.from(payload.subarray(at)) };
}
