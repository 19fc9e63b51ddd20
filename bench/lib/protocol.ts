/**
 * What the orchestrator (bench/run.ts) and its child processes say to each
 * other: one JSON object per stdout line from the child, and a `go` line on
 * the child's stdin from the orchestrator.
 *
 * A load generator warms up, says `{"event":"warm"}`, waits for `go` (the
 * orchestrator samples CPU, memory and /metrics in between, so the warm-up is
 * never counted), runs the measured phase and says `{"event":"result",...}`.
 * Every child exits when its stdin closes, so a dead orchestrator leaves no
 * load generator or floor server behind.
 */
import { createInterface } from 'node:readline';

export interface Latency {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** The measured phase of one load generator. */
export interface LoadResult {
  readonly event: 'result';
  /** Successful operations (2xx / gRPC OK / committed batches). */
  readonly ok: number;
  /** Failed operations: non-2xx, non-OK status, connection errors, timeouts. */
  readonly errors: number;
  readonly seconds: number;
  /** Latency of successful operations, milliseconds (float resolution). */
  readonly latencyMs: Latency;
  /** Free-form details (autocannon's own coordinated-omission-corrected numbers, status codes…). */
  readonly details?: Record<string, unknown>;
}

export function emit(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

let stdinLines: AsyncIterator<string> | undefined;

function lines(): AsyncIterator<string> {
  if (stdinLines === undefined) {
    const rl = createInterface({ input: process.stdin });
    // The orchestrator is gone: stop at once.
    rl.on('close', () => process.exit(3));
    stdinLines = rl[Symbol.asyncIterator]();
  }
  return stdinLines;
}

/** Resolves when the orchestrator writes `go`. */
export async function waitGo(): Promise<void> {
  for (;;) {
    const next = await lines().next();
    if (next.done === true) process.exit(3);
    if (next.value.trim() === 'go') return;
  }
}

/** For server children: exit when the orchestrator closes our stdin (or dies). */
export function exitWithParent(onExit: () => void = () => {}): void {
  const rl = createInterface({ input: process.stdin });
  rl.on('line', () => {});
  rl.on('close', () => {
    onExit();
    process.exit(0);
  });
}

/** Reads a JSON spec from the file named by argv[2]. */
export async function readSpec<T>(): Promise<T> {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: <child> <spec.json>');
  const { readFileSync } = await import('node:fs');
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** A bounded float recorder with exact percentiles. */
export class LatencyRecorder {
  private readonly values: Float64Array;
  private n = 0;
  dropped = 0;

  constructor(capacity = 4_000_000) {
    this.values = new Float64Array(capacity);
  }

  record(ms: number): void {
    if (this.n < this.values.length) this.values[this.n++] = ms;
    else this.dropped++;
  }

  get count(): number {
    return this.n;
  }

  summary(): Latency {
    if (this.n === 0) return { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
    const sorted = this.values.slice(0, this.n).sort();
    const at = (q: number) => sorted[Math.min(this.n - 1, Math.max(0, Math.ceil(q * this.n) - 1))]!;
    let sum = 0;
    for (let i = 0; i < this.n; i++) sum += sorted[i]!;
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[this.n - 1]!, mean: sum / this.n };
  }
}
