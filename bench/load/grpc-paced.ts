/**
 * Paced gRPC load generator (a separate process): the open loop of
 * bench/load/http-paced.ts over a @grpc/grpc-js channel on the unix socket.
 * Request i is due at start + i/rate; a 1 ms timer sends what is due
 * (HTTP/2 multiplexes every call on one connection, so nothing waits for a
 * socket). Latency from the DUE time to the response (coordinated-omission
 * correct); from the actual send in `details.serviceLatencyMs`. Requests are
 * serialized once and cycled; responses are not decoded in the loop (the
 * first one is, to check it).
 *
 *   node --import tsx bench/load/grpc-paced.ts <spec.json>
 */
import { Client, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { loadSync, type MethodDefinition } from '@grpc/proto-loader';
import { LOADER_OPTIONS, SIDEKEY_PROTO } from '../../src/transport/grpc/proto.js';
import { emit, LatencyRecorder, readSpec, waitGo } from '../lib/protocol.js';

export interface GrpcPacedSpec {
  /** Absolute path of the unix socket. */
  readonly socket: string;
  readonly protoRoot: string;
  readonly method: 'Tokenize' | 'Detokenize' | 'Encrypt';
  /** Requests cycled over the calls. */
  readonly requests: readonly Record<string, unknown>[];
  readonly metadata: Record<string, string>;
  readonly rate: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
}

const spec = await readSpec<GrpcPacedSpec>();
if (!(spec.rate > 0) || spec.requests.length === 0) throw new Error('rate > 0 and at least one request');
const definition = loadSync(SIDEKEY_PROTO, { ...LOADER_OPTIONS, includeDirs: [spec.protoRoot] });
const service = definition['sidekey.v1.Sidekey'] as unknown as Record<
  string,
  MethodDefinition<object, object>
>;
const method = service[spec.method];
if (method === undefined) throw new Error(`no method ${spec.method}`);
const payloads = spec.requests.map((r) => method.requestSerialize(r));
const identity = (b: Buffer) => b;
const client = new Client(`unix:${spec.socket}`, credentials.createInsecure(), {
  'grpc.max_receive_message_length': -1,
});
const metadata = new Metadata();
for (const [k, v] of Object.entries(spec.metadata)) metadata.set(k, v);
const TIMEOUT_MS = 10_000;

interface Tally {
  ok: number;
  errors: number;
  firstError?: string;
  readonly fromDue?: LatencyRecorder;
  readonly fromSend?: LatencyRecorder;
}

function send(payload: Buffer, due: number, tally: Tally, done: () => void): void {
  const sent = performance.now();
  client.makeUnaryRequest<Buffer, Buffer>(
    method!.path,
    identity,
    identity,
    payload,
    metadata,
    { deadline: Date.now() + TIMEOUT_MS },
    (err: ServiceError | null) => {
      const end = performance.now();
      if (err) {
        tally.errors++;
        tally.firstError ??= `${status[err.code] ?? '?'}: ${err.message}`;
      } else {
        tally.ok++;
        tally.fromDue?.record(end - due);
        tally.fromSend?.record(end - sent);
      }
      done();
    },
  );
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
        send(payloads[issued % payloads.length]!, start + issued * intervalMs, tally, done);
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

// Check the answer once, decoded.
const first = await new Promise<Record<string, unknown>>((resolve, reject) => {
  client.makeUnaryRequest<Buffer, Buffer>(
    method.path,
    identity,
    identity,
    payloads[0]!,
    metadata,
    { deadline: Date.now() + TIMEOUT_MS },
    (err: ServiceError | null, res?: Buffer) =>
      err || res === undefined
        ? reject(err ?? new Error('no response'))
        : resolve(method.responseDeserialize(res) as Record<string, unknown>),
  );
});
const items = Object.values(first).find(Array.isArray) as unknown[] | undefined;
if (items === undefined || items.length === 0)
  throw new Error(`unexpected response: ${JSON.stringify(first)}`);

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
    generator: `paced open loop: one call every ${(1000 / spec.rate).toFixed(3)} ms on one channel, latency from the due time`,
    serviceLatencyMs: fromSend.summary(),
    ...(tally.firstError !== undefined && { firstError: tally.firstError }),
    ...(fromDue.dropped > 0 && { latencySamplesDropped: fromDue.dropped }),
  },
});
client.close();
process.exit(0);
