/**
 * `sidekey reencrypt --tenant T --ork-file F [--batch-size N] [--throttle-ms N]`
 *
 * Moves the records that ORK F made for tenant T to the primary TEK version.
 * The ORK is needed because sidekey alone cannot decrypt (DESIGN.md principle
 * 1): the organisation runs this with its own ORK. Batched, throttled,
 * resumable (re-run to finish after a crash or Ctrl-C), safe while sidecars
 * serve (src/lifecycle/move-records.ts). Progress on stderr; the summary, a
 * JSON object, on stdout.
 */
import { systemRandom } from '../../crypto/index.js';
import { SidekeyError } from '../../errors/index.js';
import type { OrkIdentity } from '../../keyring/index.js';
import { type MoveResult, moveRecords } from '../../lifecycle/index.js';
import { type AdminContext, withAdmin } from '../admin-context.js';
import { type Parsed, required } from '../args.js';
import { CliError, type CliIo } from '../io.js';
import {
  audited,
  commandKeyring,
  commandSubjectKeys,
  intOption,
  progressReporter,
  readOrkFile,
  stopOnSignal,
} from '../lifecycle-support.js';

const USAGE =
  'usage: sidekey reencrypt --tenant <tenant> --ork-file <path> [--batch-size N] [--throttle-ms N]\n' +
  '  moves the records made with that ORK to the primary TEK version. The ORK is required:\n' +
  '  sidekey alone cannot decrypt (the organisation holds the ORK).';

export interface MoveSettings {
  readonly batchSize: number;
  readonly throttleMs: number;
}

export function moveSettings(args: Parsed): MoveSettings {
  return {
    batchSize: intOption(args, 'batch-size', 500, 1, 10_000),
    throttleMs: intOption(args, 'throttle-ms', 0, 0, 60_000),
  };
}

export async function reencryptCommand(args: Parsed, io: CliIo): Promise<number> {
  if (args.positionals.length > 0) throw new CliError(USAGE, 2);
  const tenant = required(args, 'tenant', USAGE);
  const orkFile = required(args, 'ork-file', USAGE);
  const settings = moveSettings(args);
  const orkString = readOrkFile(orkFile, 'ORK file');
  const result = await withAdmin(io, async (ctx) => {
    const keyring = commandKeyring(ctx);
    try {
      return await audited(ctx, { operation: 'records.reencrypt', tenant }, async (detail, set) => {
        const id = await authenticateFor(keyring, orkString, tenant);
        const target = await keyring.primaryVersion(tenant);
        set({ orkId: id.orkId, tekVersions: [target] });
        const r = await runMove(
          ctx,
          io,
          keyring,
          { tenant, from: id, to: id, targetVersion: target },
          settings,
        );
        Object.assign(detail, summaryDetail(r));
        set({ count: r.moved });
        return { target, r };
      });
    } finally {
      keyring.clear();
    }
  });
  const { target, r } = result;
  io.stdout(`${JSON.stringify({ tenant, targetVersion: target, ...summary(r) })}\n`);
  return finish(io, r, `records of this ORK are on TEK version ${target}`);
}

/** The ORK string's identity, which must belong to `tenant`. */
export async function authenticateFor(
  keyring: ReturnType<typeof commandKeyring>,
  orkString: string,
  tenant: string,
): Promise<OrkIdentity> {
  const id = await keyring.authenticate(orkString);
  if (id.tenant !== tenant)
    throw new SidekeyError('PERMISSION_DENIED', `that ORK belongs to another tenant than ${tenant}`);
  return id;
}

export async function runMove(
  ctx: AdminContext,
  io: CliIo,
  keyring: ReturnType<typeof commandKeyring>,
  what: { tenant: string; from: OrkIdentity; to: OrkIdentity; targetVersion: number },
  settings: MoveSettings,
): Promise<MoveResult> {
  const progress = progressReporter(io, { tenant: what.tenant, orkId: what.from.orkId });
  const signal = stopOnSignal();
  const subjects = commandSubjectKeys(ctx);
  try {
    return await moveRecords(
      { store: ctx.store, keyring, subjects, random: systemRandom },
      {
        ...what,
        ...settings,
        onProgress: (p) => progress.update(p),
        shouldStop: signal.stopped,
      },
    );
  } finally {
    progress.end();
    signal.dispose();
    subjects.clear();
  }
}

export function summary(r: MoveResult) {
  return {
    moved: r.moved,
    skipped: r.skipped,
    unreadable: r.unreadable,
    forgotten: r.forgotten,
    passes: r.pass,
    complete: r.complete,
    interrupted: r.interrupted,
  };
}

export function summaryDetail(r: MoveResult): Record<string, number | boolean> {
  return summary(r);
}

/** Exit status and the closing note: 0 only when nothing is left to move. */
export function finish(io: CliIo, r: MoveResult, doneNote: string): number {
  if (r.interrupted) {
    io.stderr(`interrupted after moving ${r.moved} record(s); re-run the same command to finish\n`);
    return 130;
  }
  if (r.unreadable > 0) {
    io.stderr(
      `${r.unreadable} record(s) could not be opened (retired or destroyed TEK version, or failed integrity) and were left as they are\n`,
    );
    return 1;
  }
  if (!r.complete) {
    io.stderr('records were still being written under the old key when this run ended; re-run to finish\n');
    return 1;
  }
  io.stderr(`moved ${r.moved} record(s); ${doneNote}\n`);
  return 0;
}
