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
import { type PacedTally, pacedMain } from '../lib/paced.js';
import { readSpec } from '../lib/protocol.js';

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

function send(body: Buffer, due: number, tally: PacedTally, done: () => void): void {
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

await pacedMain(
  spec,
  `paced open loop: one request every ${(1000 / spec.rate).toFixed(3)} ms, latency from the due time`,
  (i, due, tally, done) => send(bodies[i % bodies.length]!, due, tally, done),
);
agent.destroy();
process.exit(0);
