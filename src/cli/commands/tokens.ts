/**
 * `sidekey tokens purge-expired [--tenant T] [--batch-size N] [--throttle-ms N] [--json]`
 *
 * Deletes the token records whose expiry has passed (API.md "Expiry").
 * Expired tokens already answer NOT_FOUND on every sidecar; this only frees
 * their rows. Each batch is one statement, so the command can be stopped
 * at any moment (Ctrl-C, SIGKILL) and run again to continue: nothing is
 * half-done and nothing is purged twice. Records that expire while it runs
 * are left for the next run (the cut is the time it started).
 *
 * Progress as `reencrypt`: a bar on a terminal, JSON lines otherwise (on
 * stderr); the summary, a JSON object, on stdout. With `--json` every
 * progress line and the summary are JSON lines on stdout.
 */
import { assertTenantName } from '../../tenants/index.js';
import { withAdmin } from '../admin-context.js';
import { flag, option, type Parsed } from '../args.js';
import { type CliIo, usageError } from '../io.js';
import { audited, intOption, stopOnSignal } from '../lifecycle-support.js';

const USAGE = 'usage: sidekey tokens purge-expired [--tenant T] [--batch-size N] [--throttle-ms N] [--json]';

export async function tokensCommand(args: Parsed, io: CliIo): Promise<number> {
  const [sub, ...extra] = args.positionals;
  if (sub !== 'purge-expired' || extra.length > 0) throw usageError(USAGE);
  const tenant = option(args, 'tenant');
  if (tenant !== undefined) {
    try {
      assertTenantName(tenant);
    } catch (err) {
      throw usageError((err as Error).message);
    }
  }
  const batch = intOption(args, 'batch-size', 1000, 1, 100_000);
  const throttleMs = intOption(args, 'throttle-ms', 0, 0, 60_000);
  const json = flag(args, 'json');
  const line = (o: object) => `${JSON.stringify(o)}\n`;
  const progress = (o: { done: number; total: number }) => {
    if (json) io.stdout(line({ event: 'progress', ...(tenant && { tenant }), ...o }));
    else if (io.terminal === true) io.stderr(`\rpurged ${o.done}/${o.total} expired record(s)`);
    else io.stderr(line({ event: 'progress', ...(tenant && { tenant }), ...o }));
  };
  const cut = new Date();
  const signal = stopOnSignal();
  let result: { purged: number; interrupted: boolean };
  try {
    result = await withAdmin(io, (ctx) =>
      audited(ctx, { operation: 'tokens.purge-expired', ...(tenant && { tenant }) }, async (detail, set) => {
        const total = await ctx.store.countExpiredTokens(tenant, cut);
        let purged = 0;
        progress({ done: 0, total });
        while (!signal.stopped()) {
          const n = await ctx.store.purgeExpiredTokens(tenant, cut, batch);
          if (n === 0) break;
          purged += n;
          progress({ done: purged, total: Math.max(total, purged) });
          if (throttleMs > 0) await new Promise((r) => setTimeout(r, throttleMs));
        }
        const interrupted = signal.stopped();
        Object.assign(detail, { purged, interrupted, cut: cut.toISOString() });
        set({ count: purged });
        return { purged, interrupted };
      }),
    );
  } finally {
    signal.dispose();
    if (!json && io.terminal === true) io.stderr('\n');
  }
  const summary = {
    event: 'done',
    ...(tenant && { tenant }),
    purged: result.purged,
    interrupted: result.interrupted,
    cut: cut.toISOString(),
  };
  if (json) io.stdout(line(summary));
  else {
    const { event: _event, ...rest } = summary;
    io.stdout(line(rest));
  }
  if (result.interrupted) {
    io.stderr(`interrupted after purging ${result.purged} record(s); re-run the same command to finish\n`);
    return 130;
  }
  if (!json) io.stderr(`purged ${result.purged} expired record(s)\n`);
  return 0;
}
