/**
 * `sidekey subject forget --tenant T SUBJECT… [--from-file F] [--json]`
 * (API.md "Data subjects", docs/operations.md "Erasure"): destroys the keys
 * of data subjects, in transactions of at most 1,000 subjects, each audited
 * with its subject ids, then waits until every live sidecar has dropped
 * what it cached (like `ork revoke`). Idempotent: a rerun after a crash or
 * a kill forgets what is left and counts the rest 0.
 */
import { readFileSync } from 'node:fs';
import { SUBJECT_PATTERN } from '../../crypto/index.js';
import { withAdmin } from '../admin-context.js';
import { flag, option, type Parsed, required } from '../args.js';
import { awaitFleet } from '../fleet-wait.js';
import { type CliIo, usageError } from '../io.js';

const USAGE = 'usage: sidekey subject forget --tenant <tenant> [--from-file F] [--json] SUBJECT…';
/** One transaction (and one audit event) per this many subjects: the API's batch limit. */
export const FORGET_BATCH = 1000;

export async function subjectCommand(args: Parsed, io: CliIo): Promise<number> {
  const [sub, ...given] = args.positionals;
  if (sub !== 'forget') throw usageError(USAGE);
  const tenant = required(args, 'tenant', USAGE);
  const subjects = [...given, ...subjectsFromFile(option(args, 'from-file'), io)];
  if (subjects.length === 0) throw usageError(`at least one subject is required: ${USAGE}`);
  subjects.forEach((s, i) => {
    if (!SUBJECT_PATTERN.test(s))
      throw usageError(`subject ${i + 1} is not a subject id (^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$)`);
  });
  const unique = [...new Set(subjects)];
  const forgotten = await withAdmin(io, async (ctx) => {
    let n = 0;
    for (let i = 0; i < unique.length; i += FORGET_BATCH) {
      const batch = unique.slice(i, i + FORGET_BATCH);
      const count = await ctx.store.forgetSubjects(tenant, batch);
      n += count;
      await ctx.audit({
        operation: 'subject.forget',
        outcome: 'ok',
        tenant,
        count: batch.length,
        detail: { subjects: batch.join(','), forgotten: count },
      });
    }
    await awaitFleet(ctx, io, {
      kind: 'subjects-forgotten',
      tenant,
      what: `forgetting of ${unique.length} subject(s)`,
    });
    return n;
  });
  if (flag(args, 'json')) io.stdout(`${JSON.stringify({ tenant, subjects: unique.length, forgotten })}\n`);
  else io.stdout(`forgot ${forgotten} of ${unique.length} subject(s) of tenant ${tenant}\n`);
  return 0;
}

/** One subject per line; blank lines are skipped. */
function subjectsFromFile(path: string | undefined, io: CliIo): string[] {
  if (path === undefined) return [];
  let text: string;
  try {
    text = readFileSync(path.startsWith('/') ? path : `${io.cwd}/${path}`, 'utf8');
  } catch {
    throw usageError(`--from-file: cannot read ${path}`);
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}
