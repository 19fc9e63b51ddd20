/**
 * `sidekey audit prune`: removes the events before a cut that an export
 * holds, keeping each chain's anchor (its last removed event's sequence
 * number and hash) so that `audit verify` of what remains still passes.
 *
 * Crash safety: the anchors and the prune record are committed first, in
 * one transaction; everything after (dropping whole daily partitions,
 * deleting the remaining rows in batches) only removes events at or below
 * an anchor, so it is idempotent, and a later run finishes a prune left
 * `running` (SIGKILL, a lost connection) before anything else.
 */
import { randomBytes } from 'node:crypto';
import type { AuditAnchorRow, AuditRange, Store } from '../store/index.js';

export interface PrunePlan {
  readonly anchors: AuditAnchorRow[];
  /** Chains with events before the cut that the export does not hold (kept). */
  readonly uncovered: string[];
}

/**
 * The anchors a prune sets: per chain, the end of the run before the cut,
 * but never past what the export holds (`exportRanges`; undefined with
 * --force: the run itself). Pure.
 */
export function planPrune(
  before: readonly AuditRange[],
  exportRanges: readonly AuditRange[] | undefined,
): {
  readonly anchors: { chainId: string; seq: number; exportHash?: Buffer; hash?: Buffer }[];
  readonly uncovered: string[];
} {
  const byChain = new Map((exportRanges ?? []).map((r) => [r.chainId, r]));
  const anchors: { chainId: string; seq: number; exportHash?: Buffer; hash?: Buffer }[] = [];
  const uncovered: string[] = [];
  for (const r of before) {
    if (exportRanges === undefined) {
      anchors.push({ chainId: r.chainId, seq: r.toSeq, hash: r.toHash });
      continue;
    }
    const e = byChain.get(r.chainId);
    // The export must start at or before the first event to remove.
    if (e === undefined || e.fromSeq > r.fromSeq || e.toSeq < r.fromSeq) {
      uncovered.push(r.chainId);
      continue;
    }
    if (e.toSeq >= r.toSeq)
      anchors.push({
        chainId: r.chainId,
        seq: r.toSeq,
        hash: r.toHash,
        ...(e.toSeq === r.toSeq && { exportHash: e.toHash }),
      });
    else anchors.push({ chainId: r.chainId, seq: e.toSeq, exportHash: e.toHash });
  }
  return { anchors, uncovered };
}

export class PruneRefusedError extends Error {
  override readonly name = 'PruneRefusedError';
}

export interface PruneResult {
  readonly pruneId: string;
  readonly events: number;
  readonly partitions: number;
}

const BATCH = 5000;

/** Drops what it can as whole partitions, then deletes the rest in batches; marks the prune done. */
export async function completePrune(
  store: Pick<Store, 'auditLog'>,
  prune: { pruneId: string; until: Date },
  onProgress: (events: number) => void = () => {},
): Promise<PruneResult> {
  let partitions = 0;
  for (const p of await store.auditLog.partitions()) {
    if (p.to === undefined || p.to.getTime() > prune.until.getTime()) continue;
    try {
      if (await store.auditLog.dropPartitionIfPruned(p.name, prune.until)) partitions++;
    } catch {
      // Busy (lock timeout): its rows are deleted below instead.
    }
  }
  let events = 0;
  for (;;) {
    const n = await store.auditLog.deletePruned(BATCH);
    if (n === 0) break;
    events += n;
    onProgress(events);
  }
  await store.auditLog.finishPrune(prune.pruneId, events, partitions);
  return { pruneId: prune.pruneId, events, partitions };
}

/**
 * Sets the anchors for `until` (from `exportRanges`, or the runs before the
 * cut with --force) and removes the events at or below them.
 */
export async function pruneAudit(
  store: Pick<Store, 'auditLog' | 'readAuditEvents'>,
  until: Date,
  cover: { readonly exportId: string; readonly ranges: readonly AuditRange[] } | undefined,
  onProgress?: (events: number) => void,
): Promise<PruneResult & { readonly chains: number; readonly uncovered: string[] }> {
  const before = await store.auditLog.rangesBefore(until);
  const plan = planPrune(before, cover?.ranges);
  const anchors: AuditAnchorRow[] = [];
  for (const a of plan.anchors) {
    let hash = a.hash;
    if (hash === undefined) {
      const [row] = await store.readAuditEvents(a.chainId, a.seq - 1, 1);
      if (row === undefined || row.seq !== a.seq)
        throw new PruneRefusedError(`chain ${a.chainId}: event ${a.seq} is no longer stored`);
      hash = row.hash;
    }
    // The stored event the anchor names must be the one the export holds.
    if (a.exportHash !== undefined && !a.exportHash.equals(hash))
      throw new PruneRefusedError(
        `chain ${a.chainId}: event ${a.seq} differs from export ${cover?.exportId}; run \`sidekey audit verify\``,
      );
    anchors.push({ chainId: a.chainId, seq: a.seq, hash });
  }
  const pruneId = randomBytes(16).toString('hex');
  await store.auditLog.beginPrune({ pruneId, until, exportId: cover?.exportId ?? null }, anchors);
  const result = await completePrune(store, { pruneId, until }, onProgress);
  return { ...result, chains: anchors.length, uncovered: plan.uncovered };
}
