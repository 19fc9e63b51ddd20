import { systemRandom } from '../../crypto/index.js';
import { createTenant } from '../../tenants/index.js';
import { withAdmin } from '../admin-context.js';
import { flag, type Parsed } from '../args.js';
import { CliError, type CliIo, table, usageError } from '../io.js';

export async function tenantCommand(args: Parsed, io: CliIo): Promise<number> {
  const [sub, name] = args.positionals;
  switch (sub) {
    case 'create': {
      if (name === undefined) throw usageError('usage: sidekey tenant create <tenant>');
      await withAdmin(io, async (ctx) => {
        const created = await createTenant({ store: ctx.store, keks: ctx.keks, random: systemRandom }, name);
        await ctx.audit({
          operation: 'tenant.create',
          outcome: created ? 'ok' : 'FAILED_PRECONDITION',
          tenant: name,
        });
        if (!created) throw new CliError(`tenant ${name} already exists`);
      });
      io.stderr(`created tenant ${name} with TEK version 1\n`);
      return 0;
    }
    case 'list': {
      const tenants = await withAdmin(io, (ctx) => ctx.store.listTenants());
      if (flag(args, 'json')) io.stdout(`${JSON.stringify(tenants, null, 2)}\n`);
      else io.stdout(table(tenants, ['tenant', 'state', 'primaryVersion', 'createdAt']));
      return 0;
    }
    case 'shred':
    case 'purge': {
      if (name === undefined) throw usageError(`usage: sidekey tenant ${sub} <tenant> [--yes]`);
      const { shredCommand, purgeCommand } = await import('./tenant-shred.js');
      return sub === 'shred' ? shredCommand(name, args, io) : purgeCommand(name, args, io);
    }
    default:
      throw usageError(
        'usage: sidekey tenant create <tenant> | tenant list [--json] | tenant shred <tenant> [--yes] | tenant purge <tenant> [--yes]',
      );
  }
}
