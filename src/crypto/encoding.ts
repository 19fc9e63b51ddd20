/**
 * Byte encodings shared by every sidekey format (docs/formats.md "Encodings").
 * Frozen: changing any of these changes every derived key and every AAD.
 */

const utf8 = new TextEncoder();

/** u16 big-endian length ‖ bytes. Throws if longer than 65535 bytes. */
export function lengthPrefixed(data: Uint8Array | string): Buffer {
  const bytes = typeof data === 'string' ? utf8.encode(data) : data;
  if (bytes.length > 0xffff) throw new RangeError('length-prefixed field longer than 65535 bytes');
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  out.set(bytes, 2);
  return out;
}

export function u32be(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError('not a u32');
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(n, 0);
  return out;
}

export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Strict base64url (no padding, no other characters); undefined when malformed. */
export function fromBase64Url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  // Reject non-canonical encodings (stray low bits in the last character).
  return bytes.toString('base64url') === text ? bytes : undefined;
}

/**
 * Canonical encoding of a KMS encryption context, used by the local KEK as
 * associated data: u16 count ‖ for each key in ascending code-unit order:
 * lp(key) ‖ lp(value).
 */
export function canonicalContext(context: Readonly<Record<string, string>>): Buffer {
  const keys = Object.keys(context).sort();
  const parts: Buffer[] = [Buffer.from([keys.length >> 8, keys.length & 0xff])];
  for (const key of keys) parts.push(lengthPrefixed(key), lengthPrefixed(context[key] ?? ''));
  return Buffer.concat(parts);
}
