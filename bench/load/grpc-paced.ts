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
import { type ServiceError, status } from '@grpc/grpc-js';
import { grpcTarget } from '../lib/grpc-client.js';
import { type PacedTally, pacedMain } from '../lib/paced.js';
import { readSpec } from '../lib/protocol.js';

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
const { method, client, metadata } = grpcTarget(spec);
const payloads = spec.requests.map((r) => method.requestSerialize(r));
const identity = (b: Buffer) => b;
const TIMEOUT_MS = 10_000;

function send(payload: Buffer, due: number, tally: PacedTally, done: () => void): void {
  const sent = performance.now();
  client.makeUnaryRequest<Buffer, Buffer>(
    method.path,
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

await pacedMain(
  spec,
  `paced open loop: one call every ${(1000 / spec.rate).toFixed(3)} ms on one channel, latency from the due time`,
  (i, due, tally, done) => send(payloads[i % payloads.length]!, due, tally, done),
);
client.close();
process.exit(0);
