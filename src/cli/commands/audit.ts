/**
 * `sidekey audit verify | export | prune | partitions` (API.md "Audit at
 * scale"; docs/operations.md "Audit retention"). Export and prune are
 * recorded in the store and audited in the command's own chain; `verify
 * --file` needs the KMS only.
 */
import {
  completePrune,
  ExportFileExistsError,
  executePrune,
  exportAudit,
  type PrunePlan,
  PruneRefusedError,
  parseCut,
  planAuditPrune,
  rollAuditPartitions,
  verifyAuditChains,
  verifyExportFile,
} from '../../audit/index.js';
import { loadConfig } from '../../config/index.js';
import { systemRandom } from '../../crypto/index.js';
import { createKekRing } from '../../kms/index.js';
import { createLoggers, stderrDestination } from '../../observability/index.js';
import { type AdminContext, withAdmin } from '../admin-context.js';
import { flag, option, type Parsed } from '../args.js';
import { CliError, type CliIo, table, usageError } from '../io.js';
import { confirmDestructive } from '../lifecycle-support.js';

const USAGE =
  'usage: sidekey audit verify [--file FILE] [--json] | audit export --until TIME|30d --out FILE[.gz] | audit prune --until TIME|30d [--yes] [--force] | audit partitions [--json]';

export async function auditCommand(args: Parsed, io: CliIo): Promise<number> {
  switch (args.positionals[0]) {
    case 'verify':
      return option(args, 'file') === undefined ? verifyLive(args, io) : verifyFile(args, io);
    case 'export':
      return exportCommand(args, io);
    case 'prune':
      return pruneCommand(args, io);
    case 'partitions':
      return partitionsCommand(args, io);
    default:
      throw usageError(USAGE);
  }
}

async function verifyLive(args: Parsed, io: CliIo): Promise<number> {
  const reports = await withAdmin(io, (ctx) => verifyAuditChains(ctx.store, ctx.keks));
  const broken = reports.filter((r) => !r.ok);
  if (flag(args, 'json')) io.stdout(`${JSON.stringify(reports, null, 2)}\n`);
  else {
    for (const r of reports) {
      const from = r.anchorSeq === undefined ? '' : ` after anchor ${r.anchorSeq}`;
      io.stdout(
        `${r.ok ? 'ok    ' : 'BROKEN'} chain ${r.chainId} (${r.host}): ${r.events} events${from}${r.problem ? `; ${r.problem}` : ''}\n`,
      );
    }
  }
  if (broken.length > 0) {
    const first = broken[0]!;
    throw new CliError(
      `audit verification failed: chain ${first.chainId}: ${first.problem} (${broken.length} broken chain(s))`,
    );
  }
  io.stderr(`verified ${reports.length} chain(s), ${reports.reduce((n, r) => n + r.events, 0)} events\n`);
  return 0;
}

async function verifyFile(args: Parsed, io: CliIo): Promise<number> {
  const file = option(args, 'file')!;
  const config = loadConfig(io.env, io.cwd);
  // As withAdmin: notes (a development KEK) go to the log on stderr, at error level unless asked.
  const loggers = createLoggers(config.logLevel === 'info' ? 'error' : config.logLevel, stderrDestination());
  const keks = await createKekRing(config, { random: systemRandom, warn: (m) => loggers.log.warn(m) });
  let verdict: Awaited<ReturnType<typeof verifyExportFile>>;
  try {
    verdict = await verifyExportFile(file, keks);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES')
      throw new CliError(`cannot read ${file} (${code as string})`);
    throw err;
  } finally {
    for (const k of keks.all()) await k.close();
    loggers.log.flush();
  }
  if (!verdict.ok) throw new CliError(`${file}: line ${verdict.line}: ${verdict.problem}`);
  if (flag(args, 'json')) io.stdout(`${JSON.stringify(verdict, null, 2)}\n`);
  else {
    for (const c of verdict.chains)
      io.stdout(
        `ok     chain ${c.chainId} (${c.host}): events ${c.afterSeq + 1}…${c.lastSeq}, last hash ${c.lastHash}\n`,
      );
  }
  io.stderr(
    `verified export ${verdict.exportId}: ${verdict.chains.length} chain(s), ${verdict.events} events\n`,
  );
  return 0;
}

/** --until parsed against now; the store's oldest event checked by the caller. */
function cutOf(args: Parsed, usage: string): Date {
  const text = option(args, 'until');
  if (text === undefined) throw usageError(usage);
  const cut = parseCut(text, new Date());
  if ('error' in cut) throw usageError(cut.error);
  return cut.until;
}

async function requireOlderEvents(ctx: AdminContext, until: Date): Promise<void> {
  if (!(await ctx.store.auditLog.hasEventsBefore(until)))
    throw new CliError(
      `--until ${until.toISOString()} is before the oldest event: no stored event is older than the cut`,
    );
}

async function exportCommand(args: Parsed, io: CliIo): Promise<number> {
  const usage = 'usage: sidekey audit export --until TIME|30d --out FILE[.gz]';
  const until = cutOf(args, usage);
  const out = option(args, 'out');
  if (out === undefined || out === '') throw usageError(usage);
  const result = await withAdmin(io, async (ctx) => {
    await requireOlderEvents(ctx, until);
    await rollAuditPartitions(ctx.store.auditLog);
    try {
      const r = await exportAudit(ctx.store, until, out);
      await ctx.audit({
        operation: 'audit.export',
        outcome: 'ok',
        detail: { exportId: r.exportId, until: until.toISOString(), chains: r.chains, events: r.events },
      });
      return r;
    } catch (err) {
      if (err instanceof ExportFileExistsError) throw new CliError(err.message);
      throw err;
    }
  });
  if (flag(args, 'json')) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  else io.stdout(`${result.exportId}\n`);
  io.stderr(
    `exported ${result.events} events of ${result.chains} chain(s) before ${until.toISOString()} to ${out} (export ${result.exportId}, sha256 ${result.sha256})\n`,
  );
  return 0;
}

async function pruneCommand(args: Parsed, io: CliIo): Promise<number> {
  const usage = 'usage: sidekey audit prune --until TIME|30d [--yes] [--force]';
  const until = cutOf(args, usage);
  const force = flag(args, 'force');
  return withAdmin(io, async (ctx) => {
    const log = ctx.store.auditLog;
    // A rerun after an interruption (SIGKILL, a lost connection) finishes that prune first.
    const running = await log.runningPrune();
    if (running === undefined) await requireOlderEvents(ctx, until);
    else {
      await confirmDestructive(
        io,
        args,
        `audit prune: an interrupted prune (before ${running.until.toISOString()}) is finished first`,
        'prune',
      );
      const done = await completePrune(ctx.store, running);
      io.stderr(
        `finished the interrupted prune ${running.pruneId} (before ${running.until.toISOString()}): ${done.events} events, ${done.partitions} partition(s) removed\n`,
      );
    }
    let plan: PrunePlan;
    try {
      plan = await planAuditPrune(ctx.store, until, force);
    } catch (err) {
      if (err instanceof PruneRefusedError) throw new CliError(err.message);
      throw err;
    }
    if (plan.anchors.length === 0 && plan.uncovered.length > 0) {
      const latest = await log.latestExport();
      throw new CliError(
        `no export covers the events before ${until.toISOString()}: run \`sidekey audit export --until ${until.toISOString()} --out <file>\` first` +
          (latest === undefined
            ? ' (there is no export yet)'
            : ` (the newest, ${latest.exportId}, reaches ${latest.until.toISOString()})`) +
          ', or pass --force to prune without one',
      );
    }
    if (plan.anchors.length === 0) {
      io.stderr(`nothing ${running === undefined ? '' : 'more '}to prune before ${until.toISOString()}\n`);
      return 0;
    }
    await confirmDestructive(
      io,
      args,
      `audit prune: removes the audit events before ${until.toISOString()} of ${plan.anchors.length} chain(s)` +
        (force ? ' (--force: exported or not)' : ` held by export(s) ${plan.exportIds.join(', ')}`),
      'prune',
    );
    const result = await executePrune(ctx.store, plan);
    await ctx.audit({
      operation: 'audit.prune',
      outcome: 'ok',
      detail: {
        pruneId: result.pruneId,
        until: until.toISOString(),
        exports: plan.exportIds.join(',') || 'none',
        force,
        chains: plan.anchors.length,
        events: result.events,
        partitions: result.partitions,
      },
    });
    await rollAuditPartitions(log);
    const out = { ...result, chains: plan.anchors.length, kept: plan.uncovered };
    if (flag(args, 'json')) io.stdout(`${JSON.stringify(out, null, 2)}\n`);
    io.stderr(
      `pruned ${result.events} events of ${plan.anchors.length} chain(s) before ${until.toISOString()} (${result.partitions} partition(s) dropped)` +
        (plan.uncovered.length > 0 ? `; ${plan.uncovered.length} chain(s) kept: no export holds them` : '') +
        '\n',
    );
    return 0;
  });
}

async function partitionsCommand(args: Parsed, io: CliIo): Promise<number> {
  const rows = await withAdmin(io, async (ctx) => {
    const created = await rollAuditPartitions(ctx.store.auditLog);
    io.stderr(`created ${created} partition(s)\n`);
    return ctx.store.auditLog.partitions();
  });
  const out = rows.map((r) => ({
    name: r.name,
    from: r.from?.toISOString() ?? 'default',
    to: r.to?.toISOString() ?? 'default',
  }));
  if (flag(args, 'json')) io.stdout(`${JSON.stringify(out, null, 2)}\n`);
  else io.stdout(table(out, ['name', 'from', 'to']));
  return 0;
}
