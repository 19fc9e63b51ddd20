/**
 * `sidekey tenant shred <tenant> [--yes]` — crypto-shredding: every TEK
 * version of the tenant is destroyed (its wrapped key overwritten with null,
 * the tenant marked shredded) in one transaction that announces it to every
 * sidecar. The tenant's data can then never be decrypted again: every call
 * gets FAILED_PRECONDITION.
 *
 * `sidekey tenant purge <tenant> [--yes]` — afterwards, deletes the (now
 * undecryptable) token rows in batches.
 *
 * Both are destructive: on a terminal the operator types the tenant name;
 * otherwise `--yes` is required.
 */
import { assertTenantName } from '../../tenants/index.js';
import { withAdmin } from '../admin-context.js';
import type { Parsed } from '../args.js';
import { awaitFleet } from '../fleet-wait.js';
import { CliError, type CliIo } from '../io.js';
import { audited, confirmDestructive, intOption } from '../lifecycle-support.js';

export async function shredCommand(tenant: string, args: Parsed, io: CliIo): Promise<number> {
  assertTenantName(tenant);
  await confirmDestructive(
    io,
    args,
    `tenant shred ${tenant}: every key version of ${tenant} will be destroyed; its data can never be decrypted again`,
    tenant,
  );
  const destroyed = await withAdmin(io, (ctx) =>
    audited(ctx, { operation: 'tenant.shred', tenant }, async (detail, set) => {
      const versions = await ctx.store.shredTenant(tenant);
      if (versions === undefined) throw new CliError(`tenant ${tenant} does not exist`);
      set({ tekVersions: versions });
      // Best effort: rewrite the key table so the old row versions (which
      // still held the wrapped keys) leave its live pages.
      try {
        await ctx.store.compactTenantKeys();
        detail.compacted = true;
      } catch (err) {
        detail.compacted = false;
        io.stderr(
          `note: could not compact the key table (${(err as Error).message}); VACUUM FULL sidekey_tenant_keys later\n`,
        );
      }
      return versions;
    }).then(async (versions) => {
      if (versions.length > 0) await awaitFleet(ctx, io, { kind: 'tenant-shredded', tenant, what: 'shred' });
      return versions;
    }),
  );
  io.stderr(
    destroyed.length === 0
      ? `tenant ${tenant} was already shredded\n`
      : `tenant ${tenant} shredded: TEK version(s) ${destroyed.join(', ')} destroyed; purge its token rows with: sidekey tenant purge ${tenant}\n`,
  );
  return 0;
}

export async function purgeCommand(tenant: string, args: Parsed, io: CliIo): Promise<number> {
  assertTenantName(tenant);
  const batch = intOption(args, 'batch-size', 1000, 1, 100_000);
  await confirmDestructive(
    io,
    args,
    `tenant purge ${tenant}: every token row of ${tenant} will be deleted`,
    tenant,
  );
  const deleted = await withAdmin(io, (ctx) =>
    audited(ctx, { operation: 'tenant.purge', tenant }, async (_detail, set) => {
      const t = (await ctx.store.listTenants()).find((x) => x.tenant === tenant);
      if (t === undefined) throw new CliError(`tenant ${tenant} does not exist`);
      if (t.state !== 'shredded')
        throw new CliError(`tenant ${tenant} is not shredded; run sidekey tenant shred first`);
      let total = 0;
      for (;;) {
        const n = await ctx.store.purgeTenantTokens(tenant, batch);
        total += n;
        if (n === 0) break;
      }
      set({ count: total });
      return total;
    }),
  );
  io.stderr(`deleted ${deleted} token row(s) of tenant ${tenant}\n`);
  return 0;
}
