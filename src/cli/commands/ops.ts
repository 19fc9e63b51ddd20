/** migrate, keys status, config print, certs dev (audit: audit.ts). */
import { rollAuditPartitions } from '../../audit/index.js';
import { runCertsDev } from '../../certs/index.js';
import { loadConfig, redactedConfig } from '../../config/index.js';
import { withAdmin } from '../admin-context.js';
import { flag, option, type Parsed, required } from '../args.js';
import { CliError, type CliIo, table, usageError } from '../io.js';

export async function migrateCommand(args: Parsed, io: CliIo): Promise<number> {
  const sidecarRole = option(args, 'sidecar-role') ?? 'sidekey';
  const applied = await withAdmin(
    io,
    async (ctx) => {
      const versions = await ctx.store.migrate();
      await ctx.store.grantSidecar(sidecarRole);
      // The audit log's partitions for today and the coming days (issue 19).
      await rollAuditPartitions(ctx.store.auditLog);
      return versions;
    },
    { migrateEmbedded: false },
  );
  io.stderr(applied.length === 0 ? 'schema is up to date\n' : `applied migrations ${applied.join(', ')}\n`);
  return 0;
}

export async function keysCommand(args: Parsed, io: CliIo): Promise<number> {
  if (args.positionals[0] === 'retire') return (await import('./keys-retire.js')).retireCommand(args, io);
  if (args.positionals[0] !== 'status')
    throw usageError(
      'usage: sidekey keys status [--tenant <tenant>] [--json] | keys retire --tenant <tenant> --below N [--force]',
    );
  const tenant = option(args, 'tenant');
  const { rows, counts, kinds, subjects } = await withAdmin(io, async (ctx) => ({
    rows: await ctx.store.keyStatus(tenant),
    counts: await ctx.store.recordCounts(tenant),
    kinds: await ctx.store.kindCounts(tenant),
    subjects: await ctx.store.subjectCounts(tenant),
  }));
  if (tenant !== undefined && rows.length === 0) throw new CliError(`tenant ${tenant} does not exist`);
  // Record counts per ORK show how far a re-encryption or an ORK rotation has come.
  const out = rows.map((r) => ({
    ...r,
    createdAt: r.createdAt.toISOString(),
    recordsByOrk: Object.fromEntries(
      counts.filter((c) => c.tenant === r.tenant && c.version === r.version).map((c) => [c.orkId, c.records]),
    ),
    // Token kinds (random, deterministic, fpe) of the records under this version.
    recordsByKind: Object.fromEntries(
      kinds.filter((c) => c.tenant === r.tenant && c.version === r.version).map((c) => [c.kind, c.records]),
    ),
    // Data subjects of the tenant (the same on each of its rows): live subject
    // keys and the records sealed under them; never a subject id.
    subjects: subjectsOf(r.tenant),
  }));
  if (flag(args, 'json')) io.stdout(`${JSON.stringify(out, null, 2)}\n`);
  else {
    io.stdout(table(out, ['tenant', 'version', 'state', 'kekRef', 'records', 'createdAt']));
    if (counts.length > 0) io.stdout(`\n${table(counts, ['tenant', 'version', 'orkId', 'records'])}`);
    if (kinds.length > 0) io.stdout(`\n${table(kinds, ['tenant', 'version', 'kind', 'records'])}`);
    const withSubjects = subjects.filter((c) => c.subjects > 0 || c.records > 0);
    if (withSubjects.length > 0) io.stdout(`\n${table(withSubjects, ['tenant', 'subjects', 'records'])}`);
  }
  return 0;

  function subjectsOf(t: string): { keys: number; records: number } {
    const c = subjects.find((x) => x.tenant === t);
    return { keys: c?.subjects ?? 0, records: c?.records ?? 0 };
  }
}

export async function configCommand(args: Parsed, io: CliIo): Promise<number> {
  if (args.positionals[0] !== 'print') throw usageError('usage: sidekey config print');
  io.stdout(`${JSON.stringify(redactedConfig(loadConfig(io.env, io.cwd)), null, 2)}\n`);
  return 0;
}

export async function certsCommand(args: Parsed, io: CliIo): Promise<number> {
  if (args.positionals[0] !== 'dev') throw usageError('usage: sidekey certs dev --out <dir>');
  const out = required(args, 'out', 'sidekey certs dev --out <dir>');
  const written = await runCertsDev(out);
  for (const path of written) io.stdout(`${path}\n`);
  io.stderr('development certificates written; keys are 0600. Not for production.\n');
  return 0;
}
