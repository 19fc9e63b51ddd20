/**
 * `npm run fuzz -- --minutes N [--seed S] [--only <name part>]`: the long
 * fuzzing campaign. The same targets as the fixed-budget tests
 * (test/fuzz/parser-targets.ts, test/fuzz/daemon-targets.ts), round-robin
 * in slices of `--slice` seconds (default: N minutes shared by the targets,
 * at most 30 s) until N minutes are used.
 * Slice k of target t uses seed S + k, so a failure is replayed by the
 * command it prints. Exit status 1 on the first failure.
 */
import { parseArgs } from 'node:util';
import { DAEMON_TARGETS, stopDaemonHarness } from '../test/fuzz/daemon-targets.js';
import { PARSER_TARGETS } from '../test/fuzz/parser-targets.js';
import { type Prepared, runTarget } from '../test/fuzz/target.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    seed: { type: 'string' },
    only: { type: 'string' },
    slice: { type: 'string' },
  },
});
const minutes = Number(args.minutes);

const baseSeed = args.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(args.seed);
if (
  !(minutes > 0) ||
  !Number.isInteger(baseSeed) ||
  (args.slice !== undefined && !(Number(args.slice) > 0))
) {
  console.error('usage: npm run fuzz -- --minutes N [--seed S] [--only <name part>] [--slice seconds]');
  process.exit(2);
}
const targets = [...PARSER_TARGETS, ...DAEMON_TARGETS].filter(
  (t) => args.only === undefined || t.name.toLowerCase().includes(args.only.toLowerCase()),
);
if (targets.length === 0) {
  console.error(`no fuzz target matches ${args.only}`);
  process.exit(2);
}
// Every target gets time in every campaign: slices of at most 30 s, shorter when N is small.
const sliceMs =
  args.slice === undefined
    ? Math.max(2_000, Math.min(30_000, Math.floor((minutes * 60_000) / targets.length)))
    : Number(args.slice) * 1000;
const say = (line: string) => process.stderr.write(`fuzz: ${line}\n`);
say(`seed ${baseSeed}, ${minutes} min, ${targets.length} targets, slices of ${sliceMs / 1000} s`);

const prepared = new Map<string, Prepared>();
const runs = new Map<string, number>();
const deadline = Date.now() + minutes * 60_000;
let failed = false;
let slice = 0;
try {
  outer: while (Date.now() < deadline) {
    for (const target of targets) {
      const left = deadline - Date.now();
      if (left <= 0) break outer;
      let p = prepared.get(target.name);
      if (p === undefined) {
        p = await target.prepare();
        prepared.set(target.name, p);
      }
      const seed = baseSeed + slice;
      let count = 0;
      try {
        await runTarget(p, {
          seed,
          numRuns: Number.MAX_SAFE_INTEGER,
          interruptAfterTimeLimit: Math.min(sliceMs, left),
          markInterruptAsFailure: false,
          reporter: (details) => {
            count = details.numRuns;
            if (details.failed) throw new Error(fcReport(details));
          },
        });
        await p.afterAll?.();
      } catch (err) {
        failed = true;
        say(`FAILED: ${target.name} with seed ${seed}`);
        say(`replay: npm run fuzz -- --only "${target.name}" --seed ${seed} --minutes ${minutes}`);
        process.stderr.write(`${(err as Error).message}\n`);
        break outer;
      }
      runs.set(target.name, (runs.get(target.name) ?? 0) + count);
    }
    slice++;
  }
} finally {
  for (const p of prepared.values()) await p.teardown?.();
  await stopDaemonHarness();
}
for (const [name, n] of runs) say(`${name}: ${n} inputs`);
say(failed ? 'failed' : `passed (seed ${baseSeed})`);
process.exit(failed ? 1 : 0);

function fcReport(details: {
  counterexample: unknown;
  seed: number;
  counterexamplePath: string | null;
  errorInstance: unknown;
}): string {
  return [
    `counterexample: ${JSON.stringify(details.counterexample)?.slice(0, 2000)}`,
    `fast-check seed ${details.seed}, path ${details.counterexamplePath}`,
    `${(details.errorInstance as Error)?.message ?? details.errorInstance}`,
  ].join('\n');
}
