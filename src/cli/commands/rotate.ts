/**
 * `sidekey rotate tek --tenant T | --all [--if-older-than 90d] [--propagation-seconds N]`
 *
 * Two phases (src/lifecycle/tek-rotation.ts): add version N+1 as `active`
 * and announce it; wait until every sidecar can have seen it; make it
 * primary in one transaction and announce that. With `--all` every tenant
 * gets phase 1 first, then one wait, then phase 2. A run that stopped
 * between the phases (Ctrl-C, crash) is completed by the next run.
 *
 * The wait is acknowledged (src/cli/fleet-wait.ts): until every live
 * sidecar has applied the new version — typically well under a second — and
 * only for a sidecar that does not answer, until its key cache TTL has run
 * out. `--propagation-seconds N` waits a fixed N seconds instead (a rolling
 * upgrade from a release without the fleet registry, whose sidecars never
 * acknowledge). With the embedded store no daemon can run meanwhile (the
 * directory lock), so there is nothing to wait for.
 */
import { generateKey, zeroize } from '../../crypto/index.js';
import { kmsContext } from '../../kms/index.js';
import { formatDuration, parseDuration, planTekRotation, remainingWaitMs } from '../../lifecycle/index.js';
import { type AdminContext, withAdmin } from '../admin-context.js';
import { flag, option, type Parsed } from '../args.js';
import { awaitFleet } from '../fleet-wait.js';
import { CliError, type CliIo, usageError } from '../io.js';
import { audited, intOption, stopOnSignal } from '../lifecycle-support.js';

const USAGE =
  'usage: sidekey rotate tek (--tenant <tenant> | --all) [--if-older-than 90d] [--propagation-seconds N] [--json]';

interface Outcome {
  tenant: string;
  action: 'rotated' | 'completed' | 'skipped';
  primary: number;
  previous?: number;
  reason?: string;
}

export async function rotateCommand(args: Parsed, io: CliIo): Promise<number> {
  const [what] = args.positionals;
  if (what !== 'tek') throw usageError(USAGE);
  const tenant = option(args, 'tenant');
  const all = flag(args, 'all');
  if (all === (tenant !== undefined)) throw usageError(`give exactly one of --tenant and --all: ${USAGE}`);
  const olderText = option(args, 'if-older-than');
  const ifOlderThanMs = olderText === undefined ? undefined : parseDuration(olderText);
  if (olderText !== undefined && ifOlderThanMs === undefined)
    throw usageError('--if-older-than must look like 90d, 12h, 30m or 45s');
  const explicitWait =
    option(args, 'propagation-seconds') === undefined
      ? undefined
      : intOption(args, 'propagation-seconds', 0, 0, 86_400) * 1000;

  const outcomes = await withAdmin(io, (ctx) =>
    rotateTeks(ctx, io, {
      tenants: tenant === undefined ? undefined : [tenant],
      ...(ifOlderThanMs !== undefined && { ifOlderThanMs }),
      propagationMs: explicitWait ?? (ctx.store.kind === 'embedded' ? 0 : 'acknowledged'),
    }),
  );
  for (const o of outcomes) {
    io.stderr(
      o.action === 'skipped'
        ? `tenant ${o.tenant}: not rotated (${o.reason})\n`
        : `tenant ${o.tenant}: TEK version ${o.primary} is primary (was ${o.previous})\n`,
    );
  }
  if (flag(args, 'json')) io.stdout(`${JSON.stringify(outcomes, null, 2)}\n`);
  return 0;
}

async function rotateTeks(
  ctx: AdminContext,
  io: CliIo,
  opts: { tenants: string[] | undefined; ifOlderThanMs?: number; propagationMs: number | 'acknowledged' },
): Promise<Outcome[]> {
  const known = await ctx.store.listTenants();
  if (opts.tenants !== undefined) {
    for (const t of opts.tenants) {
      const row = known.find((k) => k.tenant === t);
      if (row === undefined) throw new CliError(`tenant ${t} does not exist`);
      if (row.state !== 'active') throw new CliError(`tenant ${t} was shredded; its keys are destroyed`);
    }
  }
  const tenants = opts.tenants ?? known.filter((k) => k.state === 'active').map((k) => k.tenant);
  const outcomes: Outcome[] = [];
  const pending: { tenant: string; primary: number; version: number; addedAt: Date; resumed: boolean }[] = [];

  // Phase 1: every new version becomes decrypt-capable everywhere.
  for (const tenant of tenants) {
    let plan: ReturnType<typeof planTekRotation>;
    try {
      plan = planTekRotation(await ctx.store.getTenantKeys(tenant), {
        now: new Date(),
        ...(opts.ifOlderThanMs !== undefined && { ifOlderThanMs: opts.ifOlderThanMs }),
      });
    } catch (err) {
      throw new CliError(`tenant ${tenant}: ${(err as Error).message}`);
    }
    if (plan.action === 'skip') {
      outcomes.push({ tenant, action: 'skipped', primary: plan.primary, reason: plan.reason });
      continue;
    }
    if (plan.action === 'resume') {
      io.stderr(`tenant ${tenant}: completing the rotation to version ${plan.pending} started earlier\n`);
      pending.push({
        tenant,
        primary: plan.primary,
        version: plan.pending,
        addedAt: plan.addedAt,
        resumed: true,
      });
      continue;
    }
    const { next, primary } = plan;
    await audited(
      ctx,
      { operation: 'tek.rotate', tenant, tekVersions: [primary, next], detail: { phase: 'add-active' } },
      async () => {
        const tek = generateKey();
        try {
          const kek = ctx.keks.primary;
          const wrapped = await kek.wrap(tek, kmsContext.tek(tenant, next));
          if (!(await ctx.store.addTekVersion(tenant, next, { kekRef: kek.kekRef, wrapped })))
            throw new CliError(
              `tenant ${tenant}: version ${next} appeared meanwhile (another rotation?); re-run`,
            );
        } finally {
          zeroize(tek);
        }
      },
    );
    pending.push({ tenant, primary, version: next, addedAt: new Date(), resumed: false });
  }

  // The wait: no sidecar encrypts under a version another one cannot know yet.
  const changed = pending.length === 1 ? pending[0]!.tenant : '*';
  const propagationMs = opts.propagationMs;
  if (pending.length === 0) {
    // nothing to wait for
  } else if (propagationMs === 'acknowledged') {
    await awaitFleet(
      ctx,
      io,
      { kind: 'tek-added', tenant: changed, what: 'new TEK version' },
      { interruptMessage: 'interrupted before the new version(s) became primary; re-run to complete' },
    );
  } else {
    const now = new Date();
    const waitMs = Math.max(...pending.map((p) => remainingWaitMs(p.addedAt, propagationMs, now)));
    if (waitMs > 0) {
      // Catch Ctrl-C before saying we wait: a signal sent on reading the
      // line must find the handler (else it kills the command mid-rotation).
      const signal = stopOnSignal();
      io.stderr(
        `waiting ${formatDuration(waitMs)} for every sidecar to see the new version(s) (--propagation-seconds)\n`,
      );
      try {
        const until = Date.now() + waitMs;
        while (Date.now() < until) {
          if (signal.stopped())
            throw new CliError(
              'interrupted before the new version(s) became primary; re-run to complete',
              130,
            );
          await new Promise((r) => setTimeout(r, Math.min(200, until - Date.now())));
        }
      } finally {
        signal.dispose();
      }
    }
  }

  // Phase 2: each new version becomes primary, in one transaction per tenant.
  for (const p of pending) {
    await audited(
      ctx,
      {
        operation: 'tek.rotate',
        tenant: p.tenant,
        tekVersions: [p.primary, p.version],
        detail: { phase: 'promote' },
      },
      async () => {
        if (!(await ctx.store.promoteTekVersion(p.tenant, p.version)))
          throw new CliError(
            `tenant ${p.tenant}: version ${p.version} is no longer active; nothing was promoted`,
          );
      },
    );
    outcomes.push({
      tenant: p.tenant,
      action: p.resumed ? 'completed' : 'rotated',
      primary: p.version,
      previous: p.primary,
    });
  }
  // Not needed for safety (the old primary stays readable): sidecars encrypt under the new one from now on.
  if (pending.length > 0 && opts.propagationMs === 'acknowledged')
    await awaitFleet(ctx, io, { kind: 'tek-promoted', tenant: changed, what: 'new primary TEK version' });
  return outcomes;
}
