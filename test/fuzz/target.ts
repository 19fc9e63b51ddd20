/**
 * A fuzz target: a property over generated near-valid inputs and whatever
 * it needs running (a daemon, a key). The fixed-budget tests under
 * test/fuzz run each target for `budget` runs; `npm run fuzz` (scripts/fuzz.ts)
 * runs them for minutes with a printed seed.
 */
import { describe, it } from 'node:test';
import fc from 'fast-check';

export interface Prepared {
  readonly property: fc.IAsyncProperty<[unknown]> | fc.IProperty<[unknown]>;
  /** Checks across all runs (e.g. "no secret in any log line"); throws on a failure. */
  readonly afterAll?: () => Promise<void> | void;
  readonly teardown?: () => Promise<void>;
}

export interface FuzzTarget {
  readonly name: string;
  /** Runs inside `npm test`. */
  readonly budget: number;
  prepare(): Promise<Prepared>;
}

/** Wraps a check of one input into a fast-check property of one argument. */
export function property<T>(arb: fc.Arbitrary<T>, check: (input: T) => void): fc.IProperty<[unknown]> {
  return fc.property(arb, (x) => check(x as T)) as unknown as fc.IProperty<[unknown]>;
}

export function asyncProperty<T>(
  arb: fc.Arbitrary<T>,
  check: (input: T) => Promise<void>,
): fc.IAsyncProperty<[unknown]> {
  return fc.asyncProperty(arb, (x) => check(x as T)) as unknown as fc.IAsyncProperty<[unknown]>;
}

/** Runs a prepared target; `options` are fast-check's (numRuns, seed, time limit). */
export async function runTarget(prepared: Prepared, options: fc.Parameters<[unknown]>): Promise<void> {
  // biome-ignore lint/suspicious/noExplicitAny: fc.assert's overloads (sync or async) take either
  await fc.assert(prepared.property as any, { includeErrorInReport: true, ...options } as any);
}

/**
 * The fixed-budget run of `targets` as node:test cases. SIDEKEY_FUZZ_SEED
 * pins the seed (fast-check prints the seed and path of a failure).
 */
export function fuzzTests(title: string, targets: readonly FuzzTarget[]): void {
  const seed =
    process.env.SIDEKEY_FUZZ_SEED === undefined ? undefined : Number(process.env.SIDEKEY_FUZZ_SEED);
  describe(title, () => {
    for (const target of targets) {
      it(target.name, async () => {
        const prepared = await target.prepare();
        try {
          await runTarget(prepared, { numRuns: target.budget, ...(seed !== undefined && { seed }) });
          await prepared.afterAll?.();
        } finally {
          await prepared.teardown?.();
        }
      });
    }
  });
}
