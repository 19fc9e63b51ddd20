/**
 * The audit export: JSON lines (docs/formats.md §21). Pure encoding and
 * decoding; export.ts writes files, export-verify.ts checks them.
 *
 *   line 1        {"type":"sidekey-audit-export","version":1,"exportId":…,"until":…,"createdAt":…}
 *   per chain     {"type":"chain","chainId":…,"host":…,"startedAt":…,"kekRef":…,"wrappedKey":<base64>,"afterSeq":n,"prevHash":<hex>}
 *   its events    {"type":"event","chainId":…,"seq":n,"prevHash":<hex>,"hash":<hex>,"event":<the stored text, as a JSON string>}
 *   last line     {"type":"end","chains":n,"events":n}
 */
import type { AuditChainRow, AuditRow } from '../store/index.js';

export const EXPORT_TYPE = 'sidekey-audit-export';
export const EXPORT_VERSION = 1;

export interface ExportHeader {
  readonly exportId: string;
  readonly until: Date;
  readonly createdAt: Date;
}

export interface ExportChain {
  readonly chain: Omit<AuditChainRow, 'startedAt'> & { readonly startedAt: Date };
  /** The chain's anchor at export time: 0 and the genesis hash when nothing was pruned. */
  readonly afterSeq: number;
  readonly prevHash: Buffer;
}

export function headerLine(h: ExportHeader): string {
  return `${JSON.stringify({
    type: EXPORT_TYPE,
    version: EXPORT_VERSION,
    exportId: h.exportId,
    until: h.until.toISOString(),
    createdAt: h.createdAt.toISOString(),
  })}\n`;
}

export function chainLine(c: ExportChain): string {
  return `${JSON.stringify({
    type: 'chain',
    chainId: c.chain.chainId,
    host: c.chain.host,
    startedAt: c.chain.startedAt.toISOString(),
    kekRef: c.chain.kekRef,
    wrappedKey: c.chain.wrappedKey.toString('base64'),
    afterSeq: c.afterSeq,
    prevHash: c.prevHash.toString('hex'),
  })}\n`;
}

export function eventLine(row: AuditRow): string {
  return `${JSON.stringify({
    type: 'event',
    chainId: row.chainId,
    seq: row.seq,
    prevHash: row.prevHash.toString('hex'),
    hash: row.hash.toString('hex'),
    event: row.event,
  })}\n`;
}

export function endLine(chains: number, events: number): string {
  return `${JSON.stringify({ type: 'end', chains, events })}\n`;
}

export type ParsedLine =
  | { readonly type: 'header'; readonly exportId: string; readonly until: string }
  | {
      readonly type: 'chain';
      readonly chainId: string;
      readonly host: string;
      readonly kekRef: string;
      readonly wrappedKey: Buffer;
      readonly afterSeq: number;
      readonly prevHash: Buffer;
    }
  | { readonly type: 'event'; readonly row: AuditRow }
  | { readonly type: 'end'; readonly chains: number; readonly events: number };

const HEX32 = /^[0-9a-f]{64}$/;
const CHAIN_ID = /^[0-9a-f]{32}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** One line (without its newline), or a reason it is not a valid line. */
export function parseLine(text: string): ParsedLine | { readonly error: string } {
  let x: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return { error: 'not a JSON object' };
    x = v as Record<string, unknown>;
  } catch {
    return { error: 'not JSON (edited or truncated)' };
  }
  const str = (k: string) => (typeof x[k] === 'string' ? (x[k] as string) : undefined);
  const seqOf = (k: string) =>
    Number.isSafeInteger(x[k]) && (x[k] as number) >= 0 ? (x[k] as number) : undefined;
  switch (x.type) {
    case EXPORT_TYPE: {
      const exportId = str('exportId');
      const until = str('until');
      if (x.version !== EXPORT_VERSION || exportId === undefined || until === undefined)
        return { error: `not a version ${EXPORT_VERSION} sidekey audit export header` };
      return { type: 'header', exportId, until };
    }
    case 'chain': {
      const chainId = str('chainId');
      const kekRef = str('kekRef');
      const wrapped = str('wrappedKey');
      const prev = str('prevHash');
      const afterSeq = seqOf('afterSeq');
      if (
        chainId === undefined ||
        !CHAIN_ID.test(chainId) ||
        kekRef === undefined ||
        wrapped === undefined ||
        !BASE64.test(wrapped) ||
        prev === undefined ||
        !HEX32.test(prev) ||
        afterSeq === undefined
      )
        return { error: 'a malformed chain record' };
      return {
        type: 'chain',
        chainId,
        host: str('host') ?? '',
        kekRef,
        wrappedKey: Buffer.from(wrapped, 'base64'),
        afterSeq,
        prevHash: Buffer.from(prev, 'hex'),
      };
    }
    case 'event': {
      const chainId = str('chainId');
      const prev = str('prevHash');
      const hash = str('hash');
      const event = str('event');
      const seq = seqOf('seq');
      if (
        chainId === undefined ||
        prev === undefined ||
        !HEX32.test(prev) ||
        hash === undefined ||
        !HEX32.test(hash) ||
        event === undefined ||
        seq === undefined ||
        seq === 0
      )
        return { error: 'a malformed event record' };
      return {
        type: 'event',
        row: { chainId, seq, prevHash: Buffer.from(prev, 'hex'), hash: Buffer.from(hash, 'hex'), event },
      };
    }
    case 'end': {
      const chains = seqOf('chains');
      const events = seqOf('events');
      if (chains === undefined || events === undefined) return { error: 'a malformed end record' };
      return { type: 'end', chains, events };
    }
    default:
      return { error: 'an unknown record type' };
  }
}
