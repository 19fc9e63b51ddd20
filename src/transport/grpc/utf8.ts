/**
 * Checks a request's wire bytes before they are decoded. The protobuf decoder
 * is lenient in two ways that would break API.md's promise that a value comes
 * back exactly as given or is refused: it replaces invalid UTF-8 in `string`
 * fields with U+FFFD (proto3 requires valid UTF-8), and it accepts truncated
 * messages. This walks the wire format of a request (requests are flat
 * messages of strings) and reports the first problem.
 */
import { isUtf8 } from 'node:buffer';

export interface StringField {
  readonly name: string;
  readonly repeated: boolean;
}

export type WireVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly malformed: true }
  /** `values[2]`, `tenant`, … */
  | { readonly ok: false; readonly malformed: false; readonly invalidUtf8: string };

const OK: WireVerdict = { ok: true };
const MALFORMED: WireVerdict = { ok: false, malformed: true };

export function checkWire(bytes: Uint8Array, strings: ReadonlyMap<number, StringField>): WireVerdict {
  const seen = new Map<number, number>();
  /** Field numbers of the groups we are inside (a deprecated encoding, skipped). */
  const groups: number[] = [];
  let pos = 0;
  const varint = (): number | undefined => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10 && pos < bytes.length; i++) {
      const b = bytes[pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    return undefined;
  };
  while (pos < bytes.length) {
    const tag = varint();
    if (tag === undefined) return MALFORMED;
    const fieldNumber = Math.floor(tag / 8);
    if (fieldNumber === 0) return MALFORMED;
    switch (tag % 8) {
      case 0:
        if (varint() === undefined) return MALFORMED;
        break;
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        const length = varint();
        if (length === undefined || pos + length > bytes.length) return MALFORMED;
        const field = groups.length === 0 ? strings.get(fieldNumber) : undefined;
        if (field !== undefined) {
          const index = seen.get(fieldNumber) ?? 0;
          seen.set(fieldNumber, index + 1);
          if (!isUtf8(bytes.subarray(pos, pos + length))) {
            return {
              ok: false,
              malformed: false,
              invalidUtf8: field.repeated ? `${field.name}[${index}]` : field.name,
            };
          }
        }
        pos += length;
        break;
      }
      case 3:
        groups.push(fieldNumber);
        break;
      case 4:
        if (groups.pop() !== fieldNumber) return MALFORMED;
        break;
      default:
        return MALFORMED;
    }
  }
  return pos === bytes.length && groups.length === 0 ? OK : MALFORMED;
}
