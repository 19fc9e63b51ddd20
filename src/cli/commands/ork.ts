import { FULL_SCOPE, scopeOf } from '../../access/index.js';
import { ORK_ID_PATTERN, systemRandom } from '../../crypto/index.js';
import { issueOrk } from '../../tenants/index.js';
import { withAdmin } from '../admin-context.js';
import { flag, option, type Parsed, required } from '../args.js';
import { awaitFleet } from '../fleet-wait.js';
import { CliError, type CliIo, table, usageError } from '../io.js';
import { scopeChange } from './ork-scope.js';

const USAGE =
  'usage: sidekey ork issue --tenant <tenant> [--label L] [--allow OPS] [--reveal full|masked|none] | ork list --tenant <tenant> [--json] | ork revoke --tenant <tenant> <ork-id> | ork scope --tenant <tenant> <ork-id> [--allow OPS] [--reveal …] | ork rotate --tenant <tenant> --from-file OLD --new-ork-file NEW';

export async function orkCommand(args: Parsed, io: CliIo): Promise<number> {
  const [sub, id] = args.positionals;
  switch (sub) {
    case 'issue': {
      const tenant = required(args, 'tenant', USAGE);
      const label = option(args, 'label') ?? '';
      if (label.length > 200 || !label.isWellFormed())
        throw usageError('--label must be at most 200 characters');
      const scope = scopeChange(args, FULL_SCOPE);
      const issued = await withAdmin(io, async (ctx) => {
        const result = await issueOrk(
          { store: ctx.store, keks: ctx.keks, random: systemRandom },
          tenant,
          label,
          scope,
        );
        await ctx.audit({
          operation: 'ork.issue',
          outcome: 'ok',
          tenant,
          orkId: result.orkId,
          detail: { allow: scope.allow.join(','), reveal: scope.reveal },
        });
        return result;
      });
      // The ORK string alone on stdout, once; sidekey keeps no copy.
      io.stdout(`${issued.orkString}\n`);
      io.stderr(`issued ORK ${issued.orkId} for tenant ${tenant}; store it now, it cannot be shown again\n`);
      return 0;
    }
    case 'list': {
      const tenant = required(args, 'tenant', USAGE);
      const orks = await withAdmin(io, (ctx) => ctx.store.listOrks(tenant));
      const rows = orks.map((o) => ({
        id: o.orkId,
        label: o.label,
        state: o.state,
        fingerprint: o.fingerprint,
        createdAt: o.createdAt.toISOString(),
        revokedAt: o.revokedAt?.toISOString() ?? null,
        ...scopeOf(o.allow, o.reveal),
      }));
      if (flag(args, 'json')) io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      else
        io.stdout(
          table(
            rows.map((r) => ({ ...r, allow: r.allow.join(',') })),
            ['id', 'label', 'state', 'allow', 'reveal', 'createdAt', 'revokedAt'],
          ),
        );
      return 0;
    }
    case 'revoke': {
      const tenant = required(args, 'tenant', USAGE);
      if (id === undefined || !ORK_ID_PATTERN.test(id))
        throw usageError(`an ORK id (32 hex characters) is required: ${USAGE}`);
      const stranded = await withAdmin(io, async (ctx) => {
        const revoked = await ctx.store.revokeOrk(tenant, id);
        await ctx.audit({
          operation: 'ork.revoke',
          outcome: revoked ? 'ok' : 'NOT_FOUND',
          tenant,
          orkId: id,
        });
        if (!revoked) throw new CliError(`no active ORK ${id} for tenant ${tenant}`);
        await awaitFleet(ctx, io, { kind: 'ork-revoked', tenant, what: `revocation of ORK ${id}` });
        // Records still under the ORK can no longer be read by anyone (docs/operations.md).
        return (await ctx.store.recordCounts(tenant))
          .filter((c) => c.orkId === id)
          .reduce((n, c) => n + c.records, 0);
      });
      io.stderr(`revoked ORK ${id} of tenant ${tenant}\n`);
      if (stranded > 0)
        io.stderr(
          `note: ${stranded} record(s) made with this ORK can no longer be read; \`sidekey ork rotate\` before revoking keeps them\n`,
        );
      return 0;
    }
    case 'rotate':
      return (await import('./ork-rotate.js')).orkRotateCommand(args, io);
    case 'scope':
      return (await import('./ork-scope.js')).orkScopeCommand(args, io);
    default:
      throw usageError(USAGE);
  }
}
