/**
 * KEK rotation commands (docs/kms.md "KEK rotation"):
 *   sidekey rotate kek --to <ref>
 *   sidekey ork reissue --tenant <tenant> --ork-file <old> [--to <ref>]
 */
import { readFileSync } from 'node:fs';
import { systemRandom } from '../../crypto/index.js';
import { createKekFromRef, type KekPort, KekRefError, type KekSpec, parseKekRef } from '../../kms/index.js';
import { rotateKek } from '../../lifecycle/kek-rotation.js';
import { reissueOrk } from '../../lifecycle/ork-reissue.js';
import { type AdminContext, withAdmin } from '../admin-context.js';
import { flag, option, type Parsed, required } from '../args.js';
import { CliError, type CliIo, usageError } from '../io.js';

const ROTATE_USAGE = 'usage: sidekey rotate kek --to <local | aws:<key> | vault:<key>> [--json]';
const REISSUE_USAGE = 'usage: sidekey ork reissue --tenant <tenant> --ork-file <path> [--to <key ref>]';
/** Progress lines on stderr at most every this many keys. */
const PROGRESS_EVERY = 100;

function kekRefOption(args: Parsed, usage: string): KekSpec | undefined {
  const text = option(args, 'to');
  if (text === undefined) return undefined;
  try {
    return parseKekRef(text);
  } catch (err) {
    if (err instanceof KekRefError) throw usageError(`--to ${err.message}; ${usage}`);
    throw err;
  }
}

/** The target KEK: one of the ring's when the reference names it, else built from the reference. */
async function targetKek(
  ctx: AdminContext,
  spec: KekSpec,
): Promise<{ kek: KekPort; close: () => Promise<void> }> {
  let built: KekPort;
  try {
    built = await createKekFromRef(spec, ctx.config, {
      random: systemRandom,
      warn: (m) => ctx.loggers.log.warn(m),
    });
  } catch (err) {
    if (err instanceof KekRefError) throw new CliError(`--to ${err.message}`);
    throw err;
  }
  const configured = ctx.keks.byRef(built.kekRef);
  if (configured !== undefined) {
    await built.close();
    return { kek: configured, close: async () => {} };
  }
  return { kek: built, close: () => built.close() };
}

export async function rotateKekCommand(args: Parsed, io: CliIo): Promise<number> {
  const spec = kekRefOption(args, ROTATE_USAGE);
  if (spec === undefined) throw usageError(`--to is required: ${ROTATE_USAGE}`);
  let stop = false;
  const onSignal = () => {
    stop = true;
    io.stderr('rotate kek: stopping after the current key; run the same command again to resume\n');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const report = await withAdmin(io, async (ctx) => {
      const target = await targetKek(ctx, spec);
      try {
        // Opens this command's audit chain first, so its key is re-wrapped too.
        await ctx.audit({ operation: 'kek.rotate.start', outcome: 'ok', detail: { to: target.kek.kekRef } });
        io.stderr(
          `rotate kek: re-wrapping every tenant key and audit chain key under ${target.kek.kekRef}\n`,
        );
        let last = 0;
        const result = await rotateKek(
          { store: ctx.store, keks: ctx.keks, target: target.kek },
          {
            shouldStop: () => stop,
            onProgress: (p) => {
              if (p.rewrapped - last >= PROGRESS_EVERY) {
                last = p.rewrapped;
                io.stderr(`rotate kek: ${p.rewrapped} keys re-wrapped (at ${p.item})\n`);
              }
            },
          },
        );
        const missing = [...new Set(result.failures.map((f) => f.kekRef))];
        await ctx.audit({
          operation: 'kek.rotate',
          outcome: result.failures.length > 0 || result.stopped ? 'FAILED_PRECONDITION' : 'ok',
          count: result.tenantKeys,
          detail: {
            to: result.target,
            tenantKeys: result.tenantKeys,
            tokenRootKeys: result.tokenRootKeys,
            subjectKeys: result.subjectKeys,
            ingestKeys: result.ingestKeys,
            auditChains: result.auditChains,
            changed: result.changed,
            failed: result.failures.length,
            stopped: result.stopped,
            ...(missing.length > 0 && { failedKekRefs: missing.join(',') }),
          },
        });
        return result;
      } finally {
        await target.close();
      }
    });
    if (flag(args, 'json')) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    io.stderr(
      `rotate kek: ${report.tenantKeys} tenant key(s), ${report.tokenRootKeys} token root key(s), ${report.subjectKeys} subject key(s) and ${report.auditChains} audit chain key(s) re-wrapped under ${report.target}` +
        `rotate kek: ${report.tenantKeys} tenant key(s), ${report.tokenRootKeys} token root key(s), ${report.ingestKeys} ingest key(s) and ${report.auditChains} audit chain key(s) re-wrapped under ${report.target}` +
        `${report.changed > 0 ? `; ${report.changed} changed meanwhile (run again)` : ''}\n`,
    );
    for (const f of report.failures)
      io.stderr(`rotate kek: not re-wrapped: ${f.item} (${f.kekRef}): ${f.reason}\n`);
    if (report.stopped) throw new CliError('rotate kek stopped before the end; run it again to resume');
    if (report.failures.length > 0) {
      const refs = [...new Set(report.failures.map((f) => f.kekRef))].join(', ');
      throw new CliError(
        `${report.failures.length} key(s) could not be re-wrapped (wrapped by ${refs}); configure that KEK in SIDEKEY_KMS_PREVIOUS and run again`,
      );
    }
    if (report.changed > 0) throw new CliError(`${report.changed} key(s) changed while rotating; run again`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export async function orkReissueCommand(args: Parsed, io: CliIo): Promise<number> {
  const tenant = required(args, 'tenant', REISSUE_USAGE);
  const file = required(args, 'ork-file', REISSUE_USAGE);
  const spec = kekRefOption(args, REISSUE_USAGE);
  let old: string;
  try {
    old = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new CliError(`--ork-file: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const reissued = await withAdmin(io, async (ctx) => {
    const target =
      spec === undefined ? { kek: ctx.keks.primary, close: async () => {} } : await targetKek(ctx, spec);
    try {
      const result = await reissueOrk({ store: ctx.store, keks: ctx.keks, target: target.kek }, tenant, old);
      await ctx.audit({
        operation: 'ork.reissue',
        outcome: 'ok',
        tenant,
        orkId: result.orkId,
        detail: { from: result.fromKekRef, to: result.toKekRef },
      });
      return result;
    } finally {
      await target.close();
    }
  });
  // The new ORK string alone on stdout, once; sidekey keeps no copy.
  io.stdout(`${reissued.orkString}\n`);
  io.stderr(
    `re-issued ORK ${reissued.orkId} of tenant ${tenant} under ${reissued.toKekRef}; the old string keeps working while ${reissued.fromKekRef} is configured\n`,
  );
  return 0;
}
