/**
 * `sidekey audit prune`: removes the events before a cut that an export
 * holds, keeping each chain's anchor (its last removed event's sequence
 * number and hash) so that `audit verify` of what remains still passes.
 *
 * Coverage is per chain: a chain's events before the cut are removed up to
 * the last one a recorded export holds (an export range that starts at or
 * before the chain's first remaining event); a chain no export holds is
 * kept whole. With --force the anchors are the runs before the cut.
 *
 * Crash safety: the anchors and the prune record are committed first, in
 * one transaction; everything after (dropping whole daily partitions,
 * deleting the remaining rows in batches) only removes events at or below
 * an anchor, so it is idempotent, and a later run finishes a prune left
 * `running` (SIGKILL, a lost connection) before anything else.
 */
import { randomBytes } from 'node:crypto';
import type { AuditAnchorRow, AuditRange, Store } from '../store/index.js';

export interface PlannedAnchor {
  readonly chainId: string;
  readonly seq: number;
  /** The stored hash of event `seq`, when the run before the cut ends there. */
  readonly hash?: Buffer;
  /** The export's hash of event `seq`, when the export ends there (checked against the store). */
  readonly exportHash?: Buffer;
  readonly exportId?: string;
}

/**
 * The anchors a prune sets: per chain, the end of the run before the cut,
 * but never past what an export holds (`exported`; undefined with --force:
 * the run itself). Pure.
 */
export function planPrune(
  before: readonly AuditRange[],
  exported: readonly (AuditRange & { readonly exportId: string })[] | undefined,
): { readonly anchors: PlannedAnchor[]; readonly uncovered: string[] } {
  const anchors: PlannedAnchor[] = [];
  const uncovered: string[] = [];
  for (const r of before) {
    if (exported === undefined) {
      anchors.push({ chainId: r.chainId, seq: r.toSeq, hash: r.toHash });
      continue;
    }
    // The export reaching furthest among those that start at or before the first event to remove.
    let best: (AuditRange & { readonly exportId: string }) | undefined;
    for (const e of exported) {
      if (e.chainId !== r.chainId || e.fromSeq > r.fromSeq || e.toSeq < r.fromSeq) continue;
      if (best === undefined || e.toSeq > best.toSeq) best = e;
    }
    if (best === undefined) {
      uncovered.push(r.chainId);
      continue;
    }
    if (best.toSeq >= r.toSeq)
      anchors.push({
        chainId: r.chainId,
        seq: r.toSeq,
        hash: r.toHash,
        exportId: best.exportId,
        ...(best.toSeq === r.toSeq && { exportHash: best.toHash }),
      });
    else
      anchors.push({ chainId: r.chainId, seq: best.toSeq, exportHash: best.toHash, exportId: best.exportId });
  }
  return { anchors, uncovered };
}

export class PruneRefusedError extends Error {
  override readonly name = 'PruneRefusedError';
}

export interface PrunePlan {
  readonly until: Date;
  readonly anchors: AuditAnchorRow[];
  /** Chains with events before the cut that no export holds (kept). */
  readonly uncovered: string[];
  /** The exports the anchors come from (empty with --force). */
  readonly exportIds: string[];
}

/** Reads what a prune to `until` would remove; changes nothing. */
export async function planAuditPrune(
  store: Pick<Store, 'auditLog' | 'readAuditEvents'>,
  until: Date,
  force: boolean,
): Promise<PrunePlan> {
  const before = await store.auditLog.rangesBefore(until);
  const exported = force ? undefined : await store.auditLog.exportedRanges(before.map((r) => r.chainId));
  const plan = planPrune(before, exported);
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
        `chain ${a.chainId}: event ${a.seq} differs from export ${a.exportId}; run \`sidekey audit verify\``,
      );
    anchors.push({ chainId: a.chainId, seq: a.seq, hash });
  }
  const exportIds = [...new Set(plan.anchors.flatMap((a) => (a.exportId === undefined ? [] : [a.exportId])))];
  return { until, anchors, uncovered: plan.uncovered, exportIds };
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
  }
  await store.auditLog.finishPrune(prune.pruneId, events, partitions);
  return { pruneId: prune.pruneId, events, partitions };
}

/** Records the plan's anchors (durable first), then removes the events at or below them. */
export async function executePrune(store: Pick<Store, 'auditLog'>, plan: PrunePlan): Promise<PruneResult> {
  const pruneId = randomBytes(16).toString('hex');
  const exportId = plan.exportIds.length === 0 ? null : plan.exportIds.join(',');
  await store.auditLog.beginPrune({ pruneId, until: plan.until, exportId }, plan.anchors);
  return completePrune(store, { pruneId, until: plan.until });
}
