/**
 * `sidekey ingest-key rotate --tenant T [--grace 7d]` (issue 14): adds a new
 * ingest key pair per suite; the current pairs keep opening sealed values
 * for the grace period, then open nothing and are destroyed (deleted) by the
 * next rotation or by `tenant shred`. Pairs whose grace has already passed
 * are destroyed now. Announced to the fleet (`ingest-keys-changed`) in the
 * same transaction, then waited for like every key change.
 */
import { systemRandom } from '../../crypto/index.js';
import { newIngestKeys } from '../../ingest/index.js';
import { parseDuration } from '../../lifecycle/index.js';
import { withAdmin } from '../admin-context.js';
import { option, type Parsed, required } from '../args.js';
import { awaitFleet } from '../fleet-wait.js';
import { CliError, type CliIo, usageError } from '../io.js';
import { audited } from '../lifecycle-support.js';

const USAGE = 'usage: sidekey ingest-key rotate --tenant <tenant> [--grace 7d]';
const DEFAULT_GRACE = '7d';

export async function ingestKeyCommand(args: Parsed, io: CliIo): Promise<number> {
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
