/**
 * The open loop shared by the paced load generators (bench/load/http-paced.ts,
 * bench/load/grpc-paced.ts): request i is due at start + i/rate; a 1 ms timer
 * sends what is due. Latency is measured from the DUE time
 * (coordinated-omission correct: a stall is charged to every request it
 * delayed) and from the actual send (`details.serviceLatencyMs`).
 */
import { emit, LatencyRecorder, waitGo } from './protocol.js';

export interface PacedTally {
  ok: number;
  errors: number;
  firstError?: string;
  readonly fromDue?: LatencyRecorder;
  readonly fromSend?: LatencyRecorder;
}

/** Sends request `i` (due at `due`, performance.now() time); calls `done` once it has ended either way. */
export type PacedSend = (i: number, due: number, tally: PacedTally, done: () => void) => void;

/** Runs `seconds` of the open loop; resolves with the seconds it took, once every request has ended. */
export async function runPaced(
  rate: number,
  seconds: number,
  send: PacedSend,
  tally: PacedTally,
): Promise<number> {
  const total = Math.round(rate * seconds);
  const intervalMs = 1000 / rate;
  const start = performance.now();
  let issued = 0;
  let finished = 0;
  let allDone: () => void = () => {};
  const drained = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const done = () => {
    finished++;
    if (finished === total) allDone();
  };
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (issued < total && start + issued * intervalMs <= now) {
        send(issued, start + issued * intervalMs, tally, done);
        issued++;
      }
      if (issued < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await drained;
  return (performance.now() - start) / 1000;
}

/** Warm-up, `warm`, wait for `go`, the measured window, `result` (protocol.ts). */
export async function pacedMain(
  spec: { readonly rate: number; readonly warmupSeconds: number; readonly seconds: number },
  generator: string,
  send: PacedSend,
): Promise<void> {
  if (spec.warmupSeconds > 0) await runPaced(spec.rate, spec.warmupSeconds, send, { ok: 0, errors: 0 });
  emit({ event: 'warm' });
  await waitGo();
  const fromDue = new LatencyRecorder();
  const fromSend = new LatencyRecorder();
  const tally: PacedTally = { ok: 0, errors: 0, fromDue, fromSend };
  const seconds = await runPaced(spec.rate, spec.seconds, send, tally);
  emit({
    event: 'result',
    ok: tally.ok,
    errors: tally.errors,
    seconds,
    latencyMs: fromDue.summary(),
    details: {
      generator,
      serviceLatencyMs: fromSend.summary(),
      ...(tally.firstError !== undefined && { firstError: tally.firstError }),
      ...(fromDue.dropped > 0 && { latencySamplesDropped: fromDue.dropped }),
    },
  });
}
