/**
 * The audit hash chain (pure). docs/formats.md "Audit chain".
 *
 *   hash_n = HMAC-SHA256(chainKey, lp("sidekey/audit/v1") ‖ lp(chainId) ‖ u64be(n) ‖ hash_{n-1} ‖ eventText)
 *   hash_0 = 32 zero bytes
 *
 * Each sidecar process has its own chain and its own random chain key,
 * wrapped by the KEK and stored beside the chain. Whoever edits, deletes or
 * reorders a stored event must recompute every later MAC, which needs the
 * chain key, which needs the KMS: a database administrator alone cannot
 * forge a consistent chain. (Deleting a chain's newest events is only
 * detectable against the copies shipped to the log stream, which carry
 * seq and hash; see docs/audit.md.)
 */
import { createHmac } from 'node:crypto';
import { lengthPrefixed } from '../crypto/index.js';

export const AUDIT_LABEL = lengthPrefixed('sidekey/audit/v1');
export const GENESIS_HASH = Buffer.alloc(32);

export function chainHash(
  chainKey: Uint8Array,
  chainId: string,
  seq: number,
  prevHash: Uint8Array,
  eventText: string,
): Buffer {
  const seqBytes = Buffer.allocUnsafe(8);
  seqBytes.writeBigUInt64BE(BigInt(seq), 0);
  return createHmac('sha256', chainKey)
    .update(AUDIT_LABEL)
    .update(lengthPrefixed(chainId))
    .update(seqBytes)
    .update(prevHash)
    .update(eventText, 'utf8')
    .digest();
}

export interface ChainLink {
  readonly seq: number;
  readonly prevHash: Buffer;
  readonly hash: Buffer;
}

/** The running head of one chain. */
export class ChainHead {
  private seq = 0;
  private head: Buffer = GENESIS_HASH;

  constructor(
    private readonly chainKey: Buffer,
    readonly chainId: string,
  ) {}

  append(eventText: string): ChainLink {
    const seq = this.seq + 1;
    const prevHash = this.head;
    const hash = chainHash(this.chainKey, this.chainId, seq, prevHash, eventText);
    this.seq = seq;
    this.head = hash;
    return { seq, prevHash, hash };
  }
}
