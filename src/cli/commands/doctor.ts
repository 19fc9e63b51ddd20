/**
 * `sidekey doctor [--json]`: every check of src/doctor with what to do when
 * it fails; exit 1 when one fails (warnings do not), so it can gate a
 * deployment in CI or run as a start-up check.
 */
import { runDoctor } from '../../doctor/index.js';
import { flag, type Parsed } from '../args.js';
import { type CliIo, usageError } from '../io.js';

const LABEL = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' } as const;

export async function doctorCommand(args: Parsed, io: CliIo): Promise<number> {
  if (args.positionals.length > 0) throw usageError('usage: sidekey doctor [--json]');
  const checks = await runDoctor(io.env, io.cwd);
  const failed = checks.filter((c) => c.status === 'fail');
  if (flag(args, 'json')) {
    io.stdout(`${JSON.stringify({ ok: failed.length === 0, checks }, null, 2)}\n`);
  } else {
    const width = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) {
      io.stdout(`${LABEL[c.status]}  ${c.name.padEnd(width)}  ${c.detail}\n`);
      if (c.fix !== undefined) io.stdout(`      ${' '.repeat(width)}  fix: ${c.fix}\n`);
    }
  }
  const warned = checks.filter((c) => c.status === 'warn').length;
  io.stderr(
    failed.length === 0
      ? `doctor: no problem found${warned > 0 ? ` (${warned} warning(s))` : ''}\n`
      : `doctor: ${failed.length} problem(s): ${failed.map((c) => c.name).join(', ')}\n`,
  );
  return failed.length === 0 ? 0 : 1;
}
