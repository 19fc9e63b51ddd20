/**
 * The audit spool's file format (pure). docs/formats.md §20.
 *
 *   file    = magic ‖ frame(header) ‖ frame(event)*
 *   magic   = "SKAUDSP1" (8 bytes)
 *   frame   = u32be(len(payload)) ‖ SHA-256(payload)[0..8] ‖ payload
 *   header  = UTF-8 JSON {"chainId","kekRef","wrappedKey" (hex),"host","segment"}
 *   event   = u64be(seq) ‖ prev_hash (32) ‖ hash (32) ‖ event text (UTF-8)
 *
 * A frame that runs past the end of the file or whose check does not match
 * ends the file: it is the torn tail of a write that never completed or, with
 * SIDEKEY_AUDIT_SPOOL_SYNC=interval after a crash of the node, where pages
 * not yet synced begin (ADR-20). Nothing after it is trusted, and nothing
 * after it was shipped to the store (rows ship only once synced).
 */
import { createHash } from 'node:crypto';
import type { AuditChainRow, AuditRow } from '../store/index.js';

export const SPOOL_MAGIC = Buffer.from('SKAUDSP1', 'latin1');
const FRAME_HEAD = 12;
const CHECK_BYTES = 8;
const HASH_BYTES = 32;
const EVENT_HEAD = 8 + 2 * HASH_BYTES;

export type SpoolChain = Omit<AuditChainRow, 'startedAt'>;

export interface SpoolHeader extends SpoolChain {
  /** The segment's number within its chain (0, 1, …). */
  readonly segment: number;
}

function frame(payload: Buffer): Buffer {
  const head = Buffer.allocUnsafe(FRAME_HEAD);
  head.writeUInt32BE(payload.length, 0);
  createHash('sha256').update(payload).digest().copy(head, 4, 0, CHECK_BYTES);
  return Buffer.concat([head, payload]);
}

/** The first bytes of a segment file: the magic and the header frame. */
export function encodeSegmentStart(h: SpoolHeader): Buffer {
  const json = JSON.stringify({
    chainId: h.chainId,
    kekRef: h.kekRef,
    wrappedKey: h.wrappedKey.toString('hex'),
    host: h.host,
    segment: h.segment,
  });
  return Buffer.concat([SPOOL_MAGIC, frame(Buffer.from(json, 'utf8'))]);
}

export function encodeEvent(row: AuditRow): Buffer {
  const text = Buffer.from(row.event, 'utf8');
  const payload = Buffer.allocUnsafe(EVENT_HEAD + text.length);
  payload.writeBigUInt64BE(BigInt(row.seq), 0);
  row.prevHash.copy(payload, 8);
  row.hash.copy(payload, 8 + HASH_BYTES);
  text.copy(payload, EVENT_HEAD);
  return frame(payload);
}

export interface DecodedSegment {
  readonly header: SpoolHeader;
  readonly rows: AuditRow[];
  /** Bytes after the last whole frame (a torn tail); 0 for a clean file. */
  readonly tornBytes: number;
}

/** Parses a segment; undefined when even the magic or the header is incomplete or damaged. */
export function decodeSegment(bytes: Buffer): DecodedSegment | undefined {
  if (bytes.length < SPOOL_MAGIC.length || !bytes.subarray(0, SPOOL_MAGIC.length).equals(SPOOL_MAGIC))
    return undefined;
  let offset = SPOOL_MAGIC.length;
  const first = readFrame(bytes, offset);
  if (first === undefined) return undefined;
  const header = parseHeader(first.payload);
  if (header === undefined) return undefined;
  offset = first.next;
  const rows: AuditRow[] = [];
  for (;;) {
    const f = readFrame(bytes, offset);
    if (f === undefined || f.payload.length < EVENT_HEAD) break;
    const seq = f.payload.readBigUInt64BE(0);
    if (seq < 1n || seq > BigInt(Number.MAX_SAFE_INTEGER)) break;
    rows.push({
      chainId: header.chainId,
      seq: Number(seq),
      prevHash: Buffer.from(f.payload.subarray(8, 8 + HASH_BYTES)),
      hash: Buffer.from(f.payload.subarray(8 + HASH_BYTES, EVENT_HEAD)),
      event: f.payload.subarray(EVENT_HEAD).toString('utf8'),
    });
    offset = f.next;
  }
  return { header, rows, tornBytes: bytes.length - offset };
}

function readFrame(bytes: Buffer, offset: number): { payload: Buffer; next: number } | undefined {
  if (bytes.length - offset < FRAME_HEAD) return undefined;
  const len = bytes.readUInt32BE(offset);
  const end = offset + FRAME_HEAD + len;
  if (end > bytes.length) return undefined;
  const payload = bytes.subarray(offset + FRAME_HEAD, end);
  const check = createHash('sha256').update(payload).digest().subarray(0, CHECK_BYTES);
  if (!check.equals(bytes.subarray(offset + 4, offset + FRAME_HEAD))) return undefined;
  return { payload, next: end };
}

function parseHeader(payload: Buffer): SpoolHeader | undefined {
  try {
    const h = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    if (
      typeof h.chainId !== 'string' ||
      !/^[0-9a-f]{32}$/.test(h.chainId) ||
      typeof h.kekRef !== 'string' ||
      typeof h.wrappedKey !== 'string' ||
      !/^([0-9a-f]{2})+$/.test(h.wrappedKey) ||
      typeof h.host !== 'string' ||
      !Number.isSafeInteger(h.segment) ||
      (h.segment as number) < 0
    )
      return undefined;
    return {
      chainId: h.chainId,
      kekRef: h.kekRef,
      wrappedKey: Buffer.from(h.wrappedKey, 'hex'),
      host: h.host,
      segment: h.segment as number,
    };
  } catch {
    return undefined;
  }
}

/** A segment's file name: `<chain id>.<segment, 8 digits>.spool` (sorts in order). */
export function segmentFileName(chainId: string, segment: number): string {
  return `${chainId}.${String(segment).padStart(8, '0')}.spool`;
}

export const SEGMENT_FILE = /^([0-9a-f]{32})\.(\d{8})\.spool$/;
