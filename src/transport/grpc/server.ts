/**
 * The gRPC listener (API.md "Listeners"): @grpc/grpc-js on a unix socket,
 * serving sidekey.v1.Sidekey over the shared TokenService, the standard
 * health service and server reflection.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { describeError, type Logger, type Readiness } from '../../observability/index.js';
import { createHandlers, type GrpcService, strictDefinition } from './handlers.js';
import { DEFAULT_HEALTH_INTERVAL_MS, HealthTracker } from './health.js';
import { loadContract } from './proto.js';
import { claimSocket } from './socket.js';

export interface GrpcDeps {
  readonly service: GrpcService;
  /** Absolute path of the socket file. */
  readonly socketPath: string;
  readonly readiness: () => Promise<Readiness>;
  /** When set, data calls need metadata `authorization: Bearer <token>`. */
  readonly clientToken: string | undefined;
  /** Told of every call refused for a missing or wrong client token (metrics). */
  readonly onRefused?: (reason: 'client_token') => void;
  /** The largest request message accepted (the HTTP body limit). */
  readonly maxMessageBytes: number;
  readonly log: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** How long in-flight calls may run on close before they are cancelled. Default 10 s. */
  readonly shutdownGraceMs?: number;
  /** How often readiness is checked for the health service. Default 2 s. */
  readonly healthIntervalMs?: number;
}

export interface GrpcServerHandle {
  readonly socketPath: string;
  /** Health NOT_SERVING, stop accepting, let in-flight calls finish (bounded), remove the socket file. */
  close(): Promise<void>;
}

const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

export async function listenGrpc(deps: GrpcDeps): Promise<GrpcServerHandle> {
  const contract = loadContract();
  const server = new Server({
    'grpc.max_receive_message_length': deps.maxMessageBytes,
    // Responses are bounded by the batch and value limits, not by the request size.
    'grpc.max_send_message_length': -1,
  });
  server.addService(
    strictDefinition(contract.sidekey),
    createHandlers({
      service: deps.service,
      clientToken: deps.clientToken,
      ...(deps.onRefused !== undefined && { onRefused: deps.onRefused }),
      onInternalError: (err, requestId) =>
        deps.log.error({ err: describeError(err), requestId, transport: 'grpc' }, 'internal error'),
    }),
  );
  const health = new HealthTracker(deps.readiness, deps.healthIntervalMs ?? DEFAULT_HEALTH_INTERVAL_MS);
  health.addToServer(server);
  new ReflectionService(contract.packageDefinition).addToServer(server);

  // The first readiness check runs before the socket appears, so a client
  // that connects as soon as the file exists gets a real answer, not the
  // NOT_SERVING every status starts with.
  await health.start();
  let socket: Awaited<ReturnType<typeof claimSocket>>;
  try {
    socket = await claimSocket(
      deps.socketPath,
      (tempPath) =>
        new Promise<void>((resolve, reject) => {
          server.bindAsync(`unix://${tempPath}`, ServerCredentials.createInsecure(), (err) =>
            err ? reject(err) : resolve(),
          );
        }),
    );
  } catch (err) {
    health.stop();
    server.forceShutdown();
    throw err;
  }
  deps.log.info({ socket: socket.path, health: health.status }, 'serving gRPC');

  let closing: Promise<void> | undefined;
  return {
    socketPath: socket.path,
    close: () => {
      closing ??= (async () => {
        health.stop();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            deps.log.warn(
              'gRPC calls still running at the end of the shutdown grace period; cancelling them',
            );
            server.forceShutdown();
            resolve();
          }, deps.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
          server.tryShutdown(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        await socket.release();
      })();
      return closing;
    },
  };
}
