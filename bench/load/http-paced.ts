/**
 * Paced HTTP load generator (a separate process): a true open loop at
 * `rate` requests/s, spread evenly over time, for latency at a fixed
 * moderate rate.
 *
 * Why not autocannon's `overallRate`: autocannon paces each connection with
 * a per-second quota that resets on a 1 s interval, so every connection
 * sends its whole quota back to back at the start of each second and then
 * idles. "2,000 req/s" becomes a burst of 2,000 requests every second, and
 * the latency it reports is the time to drain that burst (Little's law over
 * every connection at once), not the latency at 2,000 req/s.
 *
 * Here request i is due at start + i/rate. A 1 ms timer sends what is due
 * over a keep-alive agent of `connections` sockets; when every socket is
 * busy, requests wait in the agent's queue. Latency is measured from the
 * request's DUE time to the end of its response (coordinated-omission
 * correct: a stall is charged to every request it delayed); the latency
 * from the actual send is reported in `details.serviceLatencyMs`.
 *
 *   node --import tsx bench/load/http-paced.ts <spec.json>
 */
import { Agent, request } from 'node:http';
import { emit, LatencyRecorder, readSpec, waitGo } from '../lib/protocol.js';

export interface HttpPacedSpec {
  readonly url: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  /** Bodies cycled over the requests. */
  readonly bodies: readonly string[];
  readonly rate: number;
  /** Keep-alive sockets; requests wait for a free one. */
  readonly connections: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
}

const spec = await readSpec<HttpPacedSpec>();
if (!(spec.rate > 0) || spec.bodies.length === 0) throw new Error('rate > 0 and at least one body');
const target = new URL(spec.url);
const agent = new Agent({ keepAlive: true, maxSockets: spec.connections, maxFreeSockets: spec.connections });
const bodies = spec.bodies.map((b) => Buffer.from(b));
const TIMEOUT_MS = 10_000;

interface Tally {
  ok: number;
  errors: number;
  firstError?: string;
  readonly fromDue?: LatencyRecorder;
  readonly fromSend?: LatencyRecorder;
}

function send(body: Buffer, due: number, tally: Tally, done: () => void): void {
  let sent = 0;
  const req = request(
    {
      agent,
      host: target.hostname,
      port: target.port,
      method: 'POST',
      path: spec.path,
      headers: { 'content-type': 'application/json', 'content-length': body.length, ...spec.headers },
      timeout: TIMEOUT_MS,
    },
    (res) => {
      res.on('data', () => {});
      res.on('end', () => {
        const end = performance.now();
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          tally.ok++;
          tally.fromDue?.record(end - due);
          tally.fromSend?.record(end - sent);
        } else {
          tally.errors++;
          tally.firstError ??= `status ${status}`;
        }
        done();
      });
    },
  );
  // The socket is assigned when one is free: that is when the request is really sent.
  req.on('socket', () => {
    sent = performance.now();
  });
  req.on('timeout', () => req.destroy(new Error(`no response within ${TIMEOUT_MS} ms`)));
  req.on('error', (err) => {
    tally.errors++;
    tally.firstError ??= err.message;
    done();
  });
  req.end(body);
}

async function run(seconds: number, tally: Tally): Promise<number> {
  const total = Math.round(spec.rate * seconds);
  const intervalMs = 1000 / spec.rate;
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
        send(bodies[issued % bodies.length]!, start + issued * intervalMs, tally, done);
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

if (spec.warmupSeconds > 0) await run(spec.warmupSeconds, { ok: 0, errors: 0 });
emit({ event: 'warm' });
await waitGo();
const fromDue = new LatencyRecorder();
const fromSend = new LatencyRecorder();
const tally: Tally = { ok: 0, errors: 0, fromDue, fromSend };
const seconds = await run(spec.seconds, tally);
emit({
  event: 'result',
  ok: tally.ok,
  errors: tally.errors,
  seconds,
  latencyMs: fromDue.summary(),
  details: {
    generator: `paced open loop: one request every ${(1000 / spec.rate).toFixed(3)} ms, latency from the due time`,
    serviceLatencyMs: fromSend.summary(),
    ...(tally.firstError !== undefined && { firstError: tally.firstError }),
    ...(fromDue.dropped > 0 && { latencySamplesDropped: fromDue.dropped }),
  },
});
agent.destroy();
process.exit(0);
