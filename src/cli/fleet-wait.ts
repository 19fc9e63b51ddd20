/**
 * The acknowledged wait of the commands that change keys or policies
 * (docs/operations.md "Acknowledged waits"): number the change that has just
 * committed, wait until every live sidecar has applied it (falling back to
 * its cache TTL only for a sidecar that does not answer) and say
 * `applied by N of M sidecars`.
 *
 * One call for any such command:
 *
 *     await awaitFleet(ctx, io, { kind: 'policy-set', tenant });
 *
 * With the embedded store no sidecar can run meanwhile (the data-directory
 * lock), so there is nothing to wait for.
 */
import { awaitFleetApplied, describeFleetWait, type FleetWaitResult } from '../fleet/index.js';
import type { AdminContext } from './admin-context.js';
import { CliError, type CliIo } from './io.js';
import { stopOnSignal } from './lifecycle-support.js';

export interface FleetChange {
  /** What changed: `tek-added`, `tek-promoted`, `ork-revoked`, `tenant-shredded`, `policy-set`, … */
  readonly kind: string;
  /** The tenant it concerns (`*` for several). */
  readonly tenant: string;
  /** What the operator is told it waits for ("the new TEK version"). */
  readonly what?: string;
}

export async function awaitFleet(
  ctx: Pick<AdminContext, 'store' | 'config'>,
  io: Pick<CliIo, 'stderr'>,
  change: FleetChange,
  options: { readonly interruptMessage?: string } = {},
): Promise<FleetWaitResult | undefined> {
  if (ctx.store.kind === 'embedded') return undefined;
  const changeId = await ctx.store.fleet.announceChange(change.kind, change.tenant);
  const signal = stopOnSignal();
  try {
    const result = await awaitFleetApplied(ctx.store.fleet, changeId, {
      ttlMs: Math.max(ctx.config.caches.tekTtlMs, ctx.config.caches.orkTtlMs, ctx.config.caches.policyTtlMs),
      stopped: signal.stopped,
      onFallback: (silent, waitMs) =>
        io.stderr(
          `waiting up to ${Math.ceil(waitMs / 1000)} s (their key cache TTL) for ${silent.length} sidecar(s) that do not answer: ${silent.map((s) => `${s.sidecarId.slice(0, 12)} (${s.host})`).join(', ')}\n`,
        ),
    });
    io.stderr(
      `${change.tenant === '*' ? '' : `tenant ${change.tenant}: `}${change.what ?? change.kind} ${describeFleetWait(result)}\n`,
    );
    if (result.interrupted)
      throw new CliError(
        options.interruptMessage ?? 'interrupted before every sidecar applied the change',
        130,
      );
    return result;
  } finally {
    signal.dispose();
  }
}
