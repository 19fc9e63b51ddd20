/**
 * `sidekey audit verify`: recomputes every chain from its stored events.
 * Reports the first break in each chain: a changed event (hash mismatch), a
 * deleted one (sequence gap or previous-hash mismatch), reordered ones
 * (both), or a chain whose key cannot be unwrapped.
 */
import { zeroize } from '../crypto/index.js';
import { type KekRing, kmsContext } from '../kms/index.js';
import type { Store } from '../store/index.js';
import { chainHash, GENESIS_HASH } from './chain.js';

export interface ChainReport {
  readonly chainId: string;
  readonly host: string;
  readonly events: number;
  readonly ok: boolean;
  /** Where and how the chain breaks, when it does. */
  readonly problem?: string;
}

const PAGE = 1000;

export async function verifyAuditChains(
  store: Pick<Store, 'listAuditChains' | 'readAuditEvents'>,
  keks: KekRing,
): Promise<ChainReport[]> {
  const reports: ChainReport[] = [];
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
      reports.push(await verifyOne(store, chain.chainId, chain.host, key));
    } finally {
      zeroize(key);
    }
  }
  return reports;
}

async function verifyOne(
  store: Pick<Store, 'readAuditEvents'>,
  chainId: string,
  host: string,
  key: Buffer,
): Promise<ChainReport> {
  let expectedSeq = 1;
  let prev: Buffer = GENESIS_HASH;
  let events = 0;
  for (;;) {
    const page = await store.readAuditEvents(chainId, expectedSeq - 1, PAGE);
    if (page.length === 0) break;
    for (const row of page) {
      events++;
      if (row.seq !== expectedSeq) {
        return {
          chainId,
          host,
          events,
          ok: false,
          problem: `event ${expectedSeq} is missing (next stored is ${row.seq})`,
        };
      }
      if (!row.prevHash.equals(prev)) {
        return {
          chainId,
          host,
          events,
          ok: false,
          problem: `event ${row.seq} does not follow event ${row.seq - 1} (deleted or reordered)`,
        };
      }
      const hash = chainHash(key, chainId, row.seq, row.prevHash, row.event);
      if (!hash.equals(row.hash)) {
        return {
          chainId,
          host,
          events,
          ok: false,
          problem: `event ${row.seq} was altered (its hash does not match)`,
        };
      }
      prev = row.hash;
      expectedSeq++;
    }
  }
  return { chainId, host, events, ok: true };
}
