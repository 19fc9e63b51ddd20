/**
 * `sidekey audit verify`: recomputes every chain from its stored events.
 * Reports the first break in each chain: a changed event (hash mismatch), a
 * deleted one (sequence gap or previous-hash mismatch), reordered ones
 * (both), or a chain whose key cannot be unwrapped. A chain that `audit
 * prune` shortened is verified from its anchor (the last removed event's
 * sequence number and hash); what was removed is verified from its export
 * (`audit verify --file`, export-verify.ts).
 */
import { zeroize } from '../crypto/index.js';
import { type KekRing, kmsContext } from '../kms/index.js';
import type { AuditRow, Store } from '../store/index.js';
import { chainHash, GENESIS_HASH } from './chain.js';

export interface ChainReport {
  readonly chainId: string;
  readonly host: string;
  readonly events: number;
  readonly ok: boolean;
  /** Where and how the chain breaks, when it does. */
  readonly problem?: string;
  /** Set when the chain was pruned: verification started after this event. */
  readonly anchorSeq?: number;
}

const PAGE = 1000;

/**
 * Checks one chain's events in order, starting after `afterSeq` whose hash
 * is `prevHash` (0 and the genesis hash for a whole chain). Pure.
 */
export class ChainVerifier {
  private expectedSeq: number;
  private prev: Buffer;
  events = 0;

  constructor(
    private readonly key: Buffer,
    readonly chainId: string,
    afterSeq = 0,
    prevHash: Buffer = GENESIS_HASH,
  ) {
    this.expectedSeq = afterSeq + 1;
    this.prev = prevHash;
  }

  /** The next event's sequence number. */
  get nextSeq(): number {
    return this.expectedSeq;
  }

  /** The hash of the last event checked (or the starting hash). */
  get lastHash(): Buffer {
    return this.prev;
  }

  /** Undefined when `row` is the next link; otherwise what is wrong. */
  check(row: Pick<AuditRow, 'seq' | 'prevHash' | 'hash' | 'event'>): string | undefined {
    this.events++;
    if (row.seq !== this.expectedSeq) {
      return `event ${this.expectedSeq} is missing (next stored is ${row.seq})`;
    }
    if (!row.prevHash.equals(this.prev)) {
      return `event ${row.seq} does not follow event ${row.seq - 1} (deleted or reordered)`;
    }
    const hash = chainHash(this.key, this.chainId, row.seq, row.prevHash, row.event);
    if (!hash.equals(row.hash)) return `event ${row.seq} was altered (its hash does not match)`;
    this.prev = row.hash;
    this.expectedSeq++;
    return undefined;
  }
}

export async function verifyAuditChains(
  store: Pick<Store, 'listAuditChains' | 'readAuditEvents' | 'auditLog'>,
  keks: KekRing,
): Promise<ChainReport[]> {
  const reports: ChainReport[] = [];
  const anchors = new Map((await store.auditLog.anchors()).map((a) => [a.chainId, a]));
  for (const chain of await store.listAuditChains()) {
    const kek = keks.byRef(chain.kekRef);
    if (kek === undefined) {
      reports.push({
        chainId: chain.chainId,
        host: chain.host,
        events: 0,
        ok: false,
        problem: `its key is wrapped by ${chain.kekRef}, which is not configured`,
      });
      continue;
    }
    let key: Buffer;
    try {
      key = await kek.unwrap(chain.wrappedKey, kmsContext.auditChain(chain.chainId));
    } catch {
      reports.push({
        chainId: chain.chainId,
        host: chain.host,
        events: 0,
        ok: false,
        problem: 'its key does not unwrap (the chain record was altered)',
      });
      continue;
    }
    try {
      const anchor = anchors.get(chain.chainId);
      const verifier = new ChainVerifier(key, chain.chainId, anchor?.seq ?? 0, anchor?.hash ?? GENESIS_HASH);
      const report = await verifyOne(store, chain.host, verifier);
      reports.push(anchor === undefined ? report : { ...report, anchorSeq: anchor.seq });
    } finally {
      zeroize(key);
    }
  }
  return reports;
}

async function verifyOne(
  store: Pick<Store, 'readAuditEvents'>,
  host: string,
  verifier: ChainVerifier,
): Promise<ChainReport> {
  const chainId = verifier.chainId;
  for (;;) {
    const page = await store.readAuditEvents(chainId, verifier.nextSeq - 1, PAGE);
    if (page.length === 0) break;
    for (const row of page) {
      const problem = verifier.check(row);
      if (problem !== undefined) return { chainId, host, events: verifier.events, ok: false, problem };
    }
  }
  return { chainId, host, events: verifier.events, ok: true };
}
