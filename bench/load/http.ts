/**
 * HTTP load generator (a separate process): autocannon's programmatic API,
 * closed loop over `connections` keep-alive connections, or open loop at
 * `overallRate` requests/s. Latencies are taken from autocannon's `response`
 * event (float milliseconds; autocannon's own histogram rounds to whole
 * milliseconds) — its coordinated-omission-corrected percentiles are reported
 * in `details` as well.
 *
 *   node --import tsx bench/load/http.ts <spec.json>
 */
import { readFileSync } from 'node:fs';
import autocannon, { type Options, type Request, type Result } from 'autocannon';
import { emit, LatencyRecorder, readSpec, waitGo } from '../lib/protocol.js';

export interface HttpLoadSpec {
  readonly url: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  /** One body per request, cycled per connection (a single body: the same request every time). */
  readonly bodies?: readonly string[];
  /**
   * Each request takes the next item of this JSON array (shared by every
   * connection, so no item is sent twice) and sends `bodyTemplate` with
   * `"@ITEM@"` replaced by it. The run stops early when the items run out.
   */
  readonly itemsFile?: string;
  readonly bodyTemplate?: string;
  readonly connections: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
  /** Open loop: requests per second over all connections. */
  readonly overallRate?: number;
}

const spec = await readSpec<HttpLoadSpec>();

let exhausted: (() => void) | undefined;
let reused = 0;

function options(seconds: number): Options {
  const base: Options = {
    url: spec.url,
    connections: spec.connections,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
    ...(spec.overallRate !== undefined && { overallRate: spec.overallRate }),
  };
  const request = (body: string): Request => ({
    method: 'POST',
    path: spec.path,
    headers: { 'content-type': 'application/json', ...spec.headers },
    body,
  });
  if (spec.itemsFile !== undefined) {
    const items = JSON.parse(readFileSync(spec.itemsFile, 'utf8')) as string[];
    const template = spec.bodyTemplate ?? '@ITEM@';
    let next = 0;
    return {
      ...base,
      requests: [
        {
          ...request(''),
          setupRequest: (req) => {
            if (next >= items.length) {
              reused++;
              exhausted?.();
            }
            const item = items[next++ % items.length]!;
            return { ...req, body: template.replace('"@ITEM@"', JSON.stringify(item)) };
          },
        },
      ],
    };
  }
  // Always a request list: autocannon's top-level options have no path.
  return { ...base, requests: (spec.bodies ?? []).map(request) };
}

async function run(seconds: number, record: LatencyRecorder | undefined): Promise<Result> {
  const instance = autocannon(options(seconds));
  exhausted = () => instance.stop();
  if (record !== undefined) {
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300) record.record(ms);
    });
  }
  return await instance;
}

if (spec.warmupSeconds > 0) await run(spec.warmupSeconds, undefined);
emit({ event: 'warm' });
await waitGo();
const latencies = new LatencyRecorder();
const started = performance.now();
const result = await run(spec.seconds, latencies);
const seconds = (performance.now() - started) / 1000;
const ok = result['2xx'];
emit({
  event: 'result',
  ok,
  errors: result.non2xx + result.errors,
  seconds: Math.min(seconds, result.duration > 0 ? result.duration : seconds),
  latencyMs: latencies.summary(),
  details: {
    autocannon: {
      p50: result.latency.p50,
      p99: result.latency.p99,
      max: result.latency.max,
      note: 'whole milliseconds; coordinated-omission corrected when overallRate is set',
    },
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count])),
    timeouts: result.timeouts,
    ...(spec.itemsFile !== undefined && { itemsReused: reused }),
    ...(latencies.dropped > 0 && { latencySamplesDropped: latencies.dropped }),
  },
});
process.exit(0);
