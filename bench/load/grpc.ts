/**
 * gRPC load generator (a separate process): a @grpc/grpc-js client on one
 * channel over the unix socket, `concurrency` unary calls in flight (closed
 * loop). The request is serialized once and the response is not decoded in
 * the loop (the first one is, to check it), so the generator spends its CPU
 * on the transport, the same for the floor and for sidekey.
 *
 *   node --import tsx bench/load/grpc.ts <spec.json>
 */
import { type ServiceError, status } from '@grpc/grpc-js';
import { grpcTarget } from '../lib/grpc-client.js';
import { emit, LatencyRecorder, readSpec, waitGo } from '../lib/protocol.js';

export interface GrpcLoadSpec {
  /** Absolute path of the unix socket. */
  readonly socket: string;
  readonly protoRoot: string;
  readonly method: 'Tokenize' | 'Detokenize' | 'Encrypt';
  readonly request: Record<string, unknown>;
  readonly metadata: Record<string, string>;
  readonly concurrency: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
}

const spec = await readSpec<GrpcLoadSpec>();
const { method, client, metadata } = grpcTarget(spec);
const payload = method.requestSerialize(spec.request);
const identity = (b: Buffer) => b;

function call(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest<Buffer, Buffer>(
      method.path,
      identity,
      identity,
      payload,
      metadata,
      { deadline: Date.now() + 10_000 },
      (err: ServiceError | null, res?: Buffer) => (err || res === undefined ? reject(err) : resolve(res)),
    );
  });
}

async function run(
  seconds: number,
  record: LatencyRecorder | undefined,
): Promise<{ ok: number; errors: number; firstError?: string }> {
  const deadline = performance.now() + seconds * 1000;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await call();
        record?.record(performance.now() - t0);
        ok++;
      } catch (err) {
        errors++;
        firstError ??= `${status[(err as ServiceError).code] ?? '?'}: ${(err as Error).message}`;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  return { ok, errors, ...(firstError !== undefined && { firstError }) };
}

// Check the answer once, decoded.
const first = method.responseDeserialize(await call()) as Record<string, unknown>;
const items = Object.values(first).find(Array.isArray) as unknown[] | undefined;
if (items === undefined || items.length === 0)
  throw new Error(`unexpected response: ${JSON.stringify(first)}`);

if (spec.warmupSeconds > 0) await run(spec.warmupSeconds, undefined);
emit({ event: 'warm' });
await waitGo();
const latencies = new LatencyRecorder();
const started = performance.now();
const r = await run(spec.seconds, latencies);
emit({
  event: 'result',
  ok: r.ok,
  errors: r.errors,
  seconds: (performance.now() - started) / 1000,
  latencyMs: latencies.summary(),
  details: { concurrency: spec.concurrency, ...(r.firstError !== undefined && { firstError: r.firstError }) },
});
client.close();
process.exit(0);
