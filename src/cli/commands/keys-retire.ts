/**
 * `sidekey keys retire --tenant T --below N [--force] [--yes]` — sets a
 * minimum decryption version: the active TEK versions below N become
 * `retired`, and every sidecar refuses them (FAILED_PRECONDITION) once told
 * (`tek-changed`) or once its key cache expires. Refused while token records
 * still use those versions (re-encrypt them first), unless `--force`, which
 * makes those records unreadable and is confirmed like any destructive
 * command. Standalone ciphertexts (`/v1/encrypt`) are not stored, so sidekey
 * cannot count them: the application re-encrypts its own before retiring.
 */
import { withAdmin } from '../admin-context.js';
import { flag, type Parsed, required } from '../args.js';
import { CliError, type CliIo } from '../io.js';
import { audited, confirmDestructive, intOption } from '../lifecycle-support.js';

const USAGE = 'usage: sidekey keys retire --tenant <tenant> --below N [--force] [--yes]';

export async function retireCommand(args: Parsed, io: CliIo): Promise<number> {
  const tenant = required(args, 'tenant', USAGE);
  required(args, 'below', USAGE);
  const below = intOption(args, 'below', 0, 2, 2_147_483_647);
  const force = flag(args, 'force');
  if (force) {
    await confirmDestructive(
      io,
      args,
      `keys retire --force: records of ${tenant} still under versions below ${below} become unreadable`,
      tenant,
    );
  }
  const retired = await withAdmin(io, (ctx) =>
    audited(ctx, { operation: 'tek.retire', tenant, detail: { below, force } }, async (detail, set) => {
      const keys = await ctx.store.getTenantKeys(tenant);
      if (keys.length === 0) throw new CliError(`tenant ${tenant} does not exist`);
      const primary = keys.find((k) => k.state === 'primary');
      if (primary === undefined) throw new CliError(`tenant ${tenant} has no primary key (shredded?)`);
      if (below > primary.version)
        throw new CliError(`--below ${below} would retire the primary version ${primary.version}`);
      const r = await ctx.store.retireTekVersions(tenant, below, force);
      detail.blockingRecords = r.blockingRecords;
      if (r.blockingRecords > 0 && !force) {
        throw new CliError(
          `${r.blockingRecords} record(s) of ${tenant} still use TEK versions below ${below}: ` +
            'run sidekey reencrypt with each ORK first (sidekey keys status shows which), or --force to make them unreadable',
        );
      }
      set({ tekVersions: r.retired });
      return r.retired;
    }),
  );
  io.stderr(
    retired.length === 0
      ? `no active TEK version of ${tenant} below ${below} to retire\n`
      : `retired TEK version(s) ${retired.join(', ')} of ${tenant}: they no longer decrypt\n`,
  );
  return 0;
}
