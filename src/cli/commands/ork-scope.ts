/**
 * `sidekey ork scope --tenant T <ork-id> [--allow OPS] [--reveal full|masked|none]`
 *
 * Changes what an ORK may do (API.md "ORK scopes"). The scope is stored with
 * the ORK's id, never in the ORK string: the holder keeps the same string
 * and cannot edit its scope. Every sidecar hears of the change at commit
 * (`ork-changed`) and drops the ORK's cached identity, which carries the
 * scope; the ORK cache TTL bounds it for a sidecar that missed it.
 */
import { type OrkScope, parseAllow, parseReveal, ScopeError, scopeOf } from '../../access/index.js';
import { ORK_ID_PATTERN } from '../../crypto/index.js';
import { withAdmin } from '../admin-context.js';
import { option, type Parsed, required } from '../args.js';
import { awaitFleet } from '../fleet-wait.js';
import { CliError, type CliIo, usageError } from '../io.js';

const USAGE =
  'usage: sidekey ork scope --tenant <tenant> <ork-id> [--allow tokenize,detokenize,encrypt,decrypt,delete,forget] [--reveal full|masked|none]';

/** `current` with the `--allow` and `--reveal` given (unknown names: a usage error, nothing changed). */
export function scopeChange(args: Parsed, current: OrkScope): OrkScope {
  const allow = option(args, 'allow');
  const reveal = option(args, 'reveal');
  try {
    return {
      allow: allow === undefined ? current.allow : parseAllow(allow),
      reveal: reveal === undefined ? current.reveal : parseReveal(reveal),
    };
  } catch (err) {
    if (err instanceof ScopeError) throw usageError(err.message);
    throw err;
  }
}

export async function orkScopeCommand(args: Parsed, io: CliIo): Promise<number> {
  const tenant = required(args, 'tenant', USAGE);
  const id = args.positionals[1];
  if (id === undefined || !ORK_ID_PATTERN.test(id) || args.positionals.length > 2)
    throw usageError(`an ORK id (32 hex characters) is required: ${USAGE}`);
  if (option(args, 'allow') === undefined && option(args, 'reveal') === undefined)
    throw usageError(`give --allow, --reveal or both: ${USAGE}`);
  scopeChange(args, scopeOf(undefined, undefined)); // refuse bad input before connecting
  const scope = await withAdmin(io, async (ctx) => {
    const row = await ctx.store.getOrk(tenant, id);
    const next = scopeChange(args, scopeOf(row?.allow, row?.reveal));
    const changed = row?.state === 'active' && (await ctx.store.setOrkScope(tenant, id, next));
    await ctx.audit({
      operation: 'ork.scope',
      outcome: changed ? 'ok' : 'NOT_FOUND',
      tenant,
      orkId: id,
      detail: { allow: next.allow.join(','), reveal: next.reveal },
    });
    if (!changed) throw new CliError(`no active ORK ${id} for tenant ${tenant}`);
    // Returns once every live sidecar has applied it (issue 16).
    await awaitFleet(ctx, io, { kind: 'ork-scope', tenant, what: `scope of ORK ${id}` });
    return next;
  });
  io.stdout(`${JSON.stringify({ tenant, id, allow: scope.allow, reveal: scope.reveal })}\n`);
  io.stderr(
    `ORK ${id} of tenant ${tenant} may now ${scope.allow.join(', ') || 'do nothing'} (reveal ${scope.reveal})\n`,
  );
  return 0;
}
