/**
 * `sidekey policy set|get|list|delete` (API.md "Field policies"). A change is
 * audited in the command's chain and announced to the fleet in the
 * transaction that makes it; sidecars apply it within seconds, or within
 * SIDEKEY_POLICY_CACHE_TTL_SECONDS if they missed the notification.
 */
import {
  applyChange,
  defaultPolicy,
  type FieldPolicy,
  fpeFormatOf,
  type PolicyChange,
  PolicyError,
  policyJson,
  sameFpeFormat,
} from '../../policy/index.js';
import { FIELD_PATTERN } from '../../service/index.js';
import type { PolicyRow } from '../../store/index.js';
import { assertTenantName, ensureTokenRootKey } from '../../tenants/index.js';
import { type AdminContext, withAdmin } from '../admin-context.js';
import { flag, option, type Parsed, required } from '../args.js';
import { awaitFleet } from '../fleet-wait.js';
import { CliError, type CliIo, table, usageError } from '../io.js';
import { audited } from '../lifecycle-support.js';

const USAGE = `usage: sidekey policy set --tenant T --field F [--kind random|deterministic|fpe] [--alphabet digits|alnum|<chars>] [--keep-prefix N] [--keep-suffix N] [--mask last4|first6last4|email|redact] [--ttl 90d|none]
       sidekey policy get --tenant T --field F [--json] | policy list --tenant T [--json] | policy delete --tenant T --field F`;

const COLUMNS = ['field', 'kind', 'alphabet', 'keepPrefix', 'keepSuffix', 'mask', 'ttlSeconds', 'updatedAt'];

export async function policyCommand(args: Parsed, io: CliIo): Promise<number> {
  const sub = args.positionals[0];
  const tenant = required(args, 'tenant', USAGE);
  assertTenantName(tenant);
  const json = flag(args, 'json');
  switch (sub) {
    case 'set': {
      const field = fieldArg(args);
      const change: PolicyChange = {
        ...optional(args, 'kind', 'kind'),
        ...optional(args, 'alphabet', 'alphabet'),
        ...optional(args, 'keep-prefix', 'keepPrefix'),
        ...optional(args, 'keep-suffix', 'keepSuffix'),
        ...optional(args, 'mask', 'mask'),
        ...optional(args, 'ttl', 'ttl'),
      };
      const row = await withAdmin(io, async (ctx) => {
        const set = await setPolicy(ctx, tenant, field, change);
        await awaitFleet(ctx, io, { kind: 'policy-set', tenant, what: `policy of field ${field}` });
        return set;
      });
      print(io, [row], json, true);
      io.stderr(
        `policy of ${tenant}/${field} set; new tokenizations use it, every token already issued stays readable\n`,
      );
      return 0;
    }
    case 'get': {
      const field = fieldArg(args);
      const row = await withAdmin(io, (ctx) => ctx.store.getPolicy(tenant, field));
      if (row === undefined)
        throw new CliError(
          `field ${field} of tenant ${tenant} has no policy (it gets random tokens, as in v1)`,
        );
      print(io, [row], json, true);
      return 0;
    }
    case 'list': {
      const rows = await withAdmin(io, (ctx) => ctx.store.listPolicies(tenant));
      print(io, rows, json, false);
      return 0;
    }
    case 'delete': {
      const field = fieldArg(args);
      await withAdmin(io, async (ctx) => {
        await audited(ctx, { operation: 'policy.delete', tenant, fields: [field] }, async () => {
          if (!(await ctx.store.deletePolicy(tenant, field)))
            throw new CliError(`field ${field} of tenant ${tenant} has no policy`);
        });
        await awaitFleet(ctx, io, { kind: 'policy-deleted', tenant, what: `policy of field ${field}` });
      });
      io.stderr(
        `policy of ${tenant}/${field} deleted; new tokens are random, existing tokens stay readable\n`,
      );
      return 0;
    }
    default:
      throw usageError(USAGE);
  }
}

async function setPolicy(
  ctx: AdminContext,
  tenant: string,
  field: string,
  change: PolicyChange,
): Promise<PolicyRow> {
  return audited(ctx, { operation: 'policy.set', tenant, fields: [field] }, async (detail) => {
    const state = (await ctx.store.listTenants()).find((t) => t.tenant === tenant)?.state;
    if (state === undefined) throw new CliError(`tenant ${tenant} does not exist`);
    if (state !== 'active') throw new CliError(`tenant ${tenant} was shredded`);
    const current = await ctx.store.getPolicy(tenant, field);
    let next: FieldPolicy;
    try {
      next = applyChange(current ?? defaultPolicy(tenant, field), change);
    } catch (err) {
      if (err instanceof PolicyError) throw new CliError(err.message, 2);
      throw err;
    }
    if (next.kind === 'fpe' && (current === undefined || !sameFpeFormat(current, next))) {
      // An fpe token cannot say which format made it: a second format in one
      // field could give two values the same token.
      const existing = await ctx.store.countFpeRecords(tenant, field);
      if (existing > 0)
        throw new CliError(
          `field ${field} has ${existing} fpe token(s) of another format; the alphabet and kept characters of a field cannot change once it has fpe tokens: use a new field name`,
        );
    }
    if (next.kind !== 'random') await ensureTokenRootKey(ctx, tenant);
    if (!(await ctx.store.putPolicy(next)))
      throw new CliError(`tenant ${tenant} does not exist or was shredded`);
    Object.assign(detail, {
      kind: next.kind,
      mask: next.mask,
      ttlSeconds: next.ttlSeconds ?? 'none',
      ...(next.kind === 'fpe' && fpeFormatOf(next)),
    });
    const row = await ctx.store.getPolicy(tenant, field);
    if (row === undefined) throw new CliError(`the policy of ${tenant}/${field} was deleted concurrently`);
    return row;
  });
}

function fieldArg(args: Parsed): string {
  const field = required(args, 'field', USAGE);
  if (!FIELD_PATTERN.test(field)) throw usageError('--field must match ^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$');
  return field;
}

function optional<K extends keyof PolicyChange>(args: Parsed, name: string, key: K): Partial<PolicyChange> {
  const v = option(args, name);
  if (v === undefined) return {};
  if (v.length > 1024 || !v.isWellFormed()) throw usageError(`--${name} is too long or not valid Unicode`);
  return { [key]: v };
}

function print(io: CliIo, rows: readonly PolicyRow[], json: boolean, single: boolean): void {
  const out = rows.map(policyJson);
  if (json) io.stdout(`${JSON.stringify(single ? out[0] : out, null, 2)}\n`);
  else io.stdout(table(out, COLUMNS));
}
