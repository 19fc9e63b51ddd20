/**
 * `sidekey ingest-key rotate --tenant T [--grace 7d]` (issue 14): adds a new
 * ingest key pair per suite; the current pairs keep opening sealed values
 * for the grace period, then open nothing (every sidecar checks the time)
 * and are destroyed (deleted) by `ingest-key purge`, the next rotation or
 * `tenant shred`. Pairs whose grace has already passed are destroyed now.
 * Announced to the fleet (`ingest-keys-changed`) in the same transaction,
 * then waited for like every key change.
 *
 * `sidekey ingest-key purge [--tenant T]`: destroys the pairs whose grace
 * has passed, of one tenant or of all (a CronJob runs it daily), so a
 * retired private key does not wait for the next rotation to be gone.
 */
import { systemRandom } from '../../crypto/index.js';
import { newIngestKeys } from '../../ingest/index.js';
import { parseDuration } from '../../lifecycle/index.js';
import { withAdmin } from '../admin-context.js';
import { option, type Parsed, required } from '../args.js';
import { awaitFleet } from '../fleet-wait.js';
import { CliError, type CliIo, usageError } from '../io.js';
import { audited } from '../lifecycle-support.js';

const USAGE =
  'usage: sidekey ingest-key rotate --tenant <tenant> [--grace 7d] | ingest-key purge [--tenant <tenant>]';
const DEFAULT_GRACE = '7d';

export async function ingestKeyCommand(args: Parsed, io: CliIo): Promise<number> {
  if (args.positionals[0] === 'purge') return purge(args, io);
  if (args.positionals[0] !== 'rotate') throw usageError(USAGE);
  const tenant = required(args, 'tenant', USAGE);
  const graceText = option(args, 'grace') ?? DEFAULT_GRACE;
  const graceMs = parseDuration(graceText);
  if (graceMs === undefined) throw usageError('--grace must look like 7d, 12h, 30m, 45s or 0s');
  const result = await withAdmin(io, (ctx) =>
    audited(
      ctx,
      { operation: 'ingest-key.rotate', tenant, detail: { graceSeconds: graceMs / 1000 } },
      async (detail) => {
        const keys = await newIngestKeys(ctx.keks.primary, systemRandom, tenant);
        const r = await ctx.store.rotateIngestKeys(tenant, keys, graceMs / 1000);
        if (r === undefined) throw new CliError(`tenant ${tenant} does not exist or was shredded`);
        detail.generation = r.generation;
        detail.destroyed = r.destroyed;
        await awaitFleet(ctx, io, { kind: 'ingest-keys-rotated', tenant, what: 'the new ingest keys' });
        return { ...r, keyIds: keys.map((k) => k.keyId) };
      },
    ),
  );
  io.stdout(`${JSON.stringify({ tenant, generation: result.generation, keyIds: result.keyIds })}\n`);
  io.stderr(
    `tenant ${tenant}: ingest key generation ${result.generation} added; the previous keys open sealed values for ${graceText} more` +
      (result.destroyed > 0 ? `; ${result.destroyed} key pair(s) past their grace destroyed` : '') +
      '\n',
  );
  return 0;
}

async function purge(args: Parsed, io: CliIo): Promise<number> {
  const tenant = option(args, 'tenant');
  const destroyed = await withAdmin(io, (ctx) =>
    audited(
      ctx,
      { operation: 'ingest-key.purge', ...(tenant !== undefined && { tenant }) },
      async (detail) => {
        const r = await ctx.store.destroyExpiredIngestKeys(tenant);
        const total = r.reduce((n, x) => n + x.destroyed, 0);
        detail.destroyed = total;
        detail.tenants = r.length;
        if (total > 0)
          await awaitFleet(ctx, io, {
            kind: 'ingest-keys-purged',
            tenant: tenant ?? '*',
            what: 'the destroyed ingest keys',
          });
        return r;
      },
    ),
  );
  for (const x of destroyed) io.stdout(`${JSON.stringify(x)}\n`);
  const total = destroyed.reduce((n, x) => n + x.destroyed, 0);
  io.stderr(
    total === 0
      ? 'no ingest key pair is past its grace period\n'
      : `${total} ingest key pair(s) past their grace destroyed (${destroyed.length} tenant(s))\n`,
  );
  return 0;
}
