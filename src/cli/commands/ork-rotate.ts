/**
 * `sidekey ork rotate --tenant T --from-file OLD --new-ork-file NEW [--label L] [--batch-size N] [--throttle-ms N]`
 *
 * Issues a new ORK, writes it to NEW (created 0600, synced) before anything
 * is encrypted under it, records in the store that OLD is being replaced by
 * it (ids only — sidekey never stores an ORK), then moves OLD's records to
 * the new ORK at the primary TEK version (src/lifecycle/move-records.ts).
 * The new ORK gets the old one's scope (allowed operations, reveal level).
 * An interrupted run is resumed by running the same command again: NEW then
 * exists and must hold the same new ORK. Afterwards OLD can be revoked.
 *
 * stdout: the new ORK string alone (as `ork issue`); notes and progress on stderr.
 */
import { closeSync, fsyncSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { systemRandom } from '../../crypto/index.js';
import { issueOrk } from '../../tenants/index.js';
import { withAdmin } from '../admin-context.js';
import { option, type Parsed, required } from '../args.js';
import { CliError, type CliIo, usageError } from '../io.js';
import { audited, commandKeyring, readOrkFile } from '../lifecycle-support.js';
import { authenticateFor, finish, moveSettings, runMove, summary, summaryDetail } from './reencrypt.js';

const USAGE =
  'usage: sidekey ork rotate --tenant <tenant> --from-file <old ORK file> --new-ork-file <path> [--label L] [--batch-size N] [--throttle-ms N]';

export async function orkRotateCommand(args: Parsed, io: CliIo): Promise<number> {
  const tenant = required(args, 'tenant', USAGE);
  const fromFile = required(args, 'from-file', USAGE);
  const newFile = required(args, 'new-ork-file', USAGE);
  const label = option(args, 'label');
  if (label !== undefined && (label.length > 200 || !label.isWellFormed()))
    throw usageError('--label must be at most 200 characters');
  const settings = moveSettings(args);
  const oldString = readOrkFile(fromFile, 'ORK file');

  const out = await withAdmin(io, async (ctx) => {
    const keyring = commandKeyring(ctx);
    try {
      return await audited(ctx, { operation: 'ork.rotate', tenant }, async (detail, set) => {
        const from = await authenticateFor(keyring, oldString, tenant);
        set({ orkId: from.orkId });
        const started = await ctx.store.getOrkReplacement(tenant, from.orkId);
        let newString = existingOrk(newFile);
        if (newString === undefined) {
          if (started !== undefined) {
            throw new CliError(
              `ORK ${from.orkId} is already being replaced by ${started.toOrkId}, whose ORK was written to the --new-ork-file of that run; give that file`,
            );
          }
          newString = await issueInto(newFile, async () => {
            // The new ORK gets the old one's scope (API.md "ORK scopes").
            const issued = await issueOrk(
              { store: ctx.store, keks: ctx.keks, random: systemRandom },
              tenant,
              label ?? `replaces ${from.orkId}`,
              from.scope,
            );
            await ctx.audit({
              operation: 'ork.issue',
              outcome: 'ok',
              tenant,
              orkId: issued.orkId,
              detail: { replaces: from.orkId },
            });
            return issued.orkString;
          });
        }
        const to = await authenticateFor(keyring, newString, tenant);
        if (to.orkId === from.orkId) throw new CliError('the new ORK file holds the old ORK');
        // The new ORK joins the old one's lineage, so deterministic and fpe
        // tokens stay the same (idempotent: a rerun keeps the first seal).
        await ctx.store.setOrkLineageSeal(
          tenant,
          to.orkId,
          await keyring.lineageSealFor(from, to, systemRandom),
        );
        const replacement = await ctx.store.beginOrkReplacement(tenant, from.orkId, to.orkId);
        if (replacement.toOrkId !== to.orkId) {
          throw new CliError(
            `ORK ${from.orkId} is being replaced by ${replacement.toOrkId}, not by the ORK in ${newFile}`,
          );
        }
        detail.newOrkId = to.orkId;
        const target = await keyring.primaryVersion(tenant);
        set({ tekVersions: [target] });
        io.stderr(`moving the records of ORK ${from.orkId} to ORK ${to.orkId} (TEK version ${target})\n`);
        const r = await runMove(ctx, io, keyring, { tenant, from, to, targetVersion: target }, settings);
        Object.assign(detail, summaryDetail(r));
        set({ count: r.moved });
        if (r.complete && r.unreadable === 0) await ctx.store.finishOrkReplacement(tenant, from.orkId);
        return { r, newString, fromId: from.orkId, toId: to.orkId };
      });
    } finally {
      keyring.clear();
    }
  });
  const { r, newString, fromId, toId } = out;
  // The new ORK string alone on stdout; it is also in --new-ork-file.
  io.stdout(`${newString}\n`);
  io.stderr(`${JSON.stringify({ tenant, from: fromId, to: toId, ...summary(r) })}\n`);
  const code = finish(io, r, `they now belong to ORK ${toId}`);
  if (code === 0) {
    io.stderr(
      `switch the application to the new ORK (in ${newFile}), then revoke the old one: sidekey ork revoke --tenant ${tenant} ${fromId}\n`,
    );
  }
  return code;
}

/** The ORK string already in `path`, or undefined if the file is absent or empty (a crash before it was written). */
function existingOrk(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return text.trim() === '' ? undefined : readOrkFile(path, 'new ORK file');
}

/**
 * Creates `path` (0600, must not exist or be empty) before the ORK is
 * issued, so an unwritable path fails before anything changes; then writes
 * and syncs the ORK string, so it is on disk before any record uses it.
 */
async function issueInto(path: string, issue: () => Promise<string>): Promise<string> {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new CliError(`cannot create ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    fd = openSync(path, 'r+'); // exists and is empty (checked by the caller)
  }
  let written = false;
  try {
    const orkString = await issue();
    writeSync(fd, `${orkString}\n`);
    fsyncSync(fd);
    written = true;
    return orkString;
  } finally {
    closeSync(fd);
    if (!written) {
      try {
        unlinkSync(path);
      } catch {
        // nothing to clean up
      }
    }
  }
}
