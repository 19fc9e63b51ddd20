/**
 * sidekey over gRPC on its unix socket (@grpc/grpc-js): service
 * sidekey.v1.Sidekey from the proto shipped in this package (proto/, copied
 * at build) or, in the sidekey repository, the repository's own proto/.
 * The ORK travels as metadata x-sidekey-org-key; a failed call becomes a
 * SidekeyError with the code of its gRPC status and the request id of the
 * trailing metadata.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ClientOptions } from './config.js';
import { resolveOrk } from './config.js';
import { SidekeyConfigError, SidekeyError } from './errors.js';
import { callSignal, requestIdFor, withRetries } from './retry.js';
import type { CallOptions, Code, ItemError, SidekeyClient } from './types.js';

export interface GrpcClientOptions extends ClientOptions {
  /** The socket's absolute path. Default SIDEKEY_GRPC_SOCKET. */
  readonly socket?: string;
  /** The largest answer accepted (default 64 MiB: big detokenize batches). */
  readonly maxReceiveMessageBytes?: number;
}

const PROTO = 'sidekey/v1/sidekey.proto';

/** The nearest proto/ above this module that holds the contract (the package's, or the repository's). */
function protoDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'proto', PROTO))) return join(dir, 'proto');
    if (dirname(dir) === dir) throw new SidekeyConfigError(`cannot find proto/${PROTO} (run npm run build)`);
  }
}

/** gRPC status -> sidekey code (docs/api.md "Errors"; 3 and 8 each stand for two codes). */
const CODES: Record<number, Code> = {
  1: 'CANCELLED',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED',
};

type Unary = (
  request: object,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response?: Record<string, unknown>) => void,
) => grpc.ClientUnaryCall;

type OneofResult = { result?: string; error?: ItemError } & Record<string, unknown>;

/** A oneof result as the JSON form has it: only the member that is set. */
function item(r: OneofResult, member: 'value' | 'plaintext') {
  return r.result === 'error' && r.error !== undefined
    ? { error: { code: r.error.code, message: r.error.message } }
    : { [member]: r[member] as string };
}

export function createGrpcClient(options: GrpcClientOptions = {}): SidekeyClient {
  const env = options.env ?? process.env;
  const socket = options.socket ?? env.SIDEKEY_GRPC_SOCKET;
  if (!socket) throw new SidekeyConfigError('no socket: pass `socket` or set SIDEKEY_GRPC_SOCKET');
  const ork = resolveOrk(options, env);
  const definition = protoLoader.loadSync(PROTO, {
    includeDirs: [protoDir()],
    // lowerCamelCase field names, as in the JSON mapping HTTP speaks: one
    // request type for both transports (`ttl_seconds` is `ttlSeconds`).
    keepCase: false,
    defaults: true,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    sidekey: { v1: { Sidekey: grpc.ServiceClientConstructor } };
  };
  const Service = loaded.sidekey.v1.Sidekey;
  const client = new Service(`unix://${socket}`, grpc.credentials.createInsecure(), {
    'grpc.default_authority': 'localhost',
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? 64 * 1024 * 1024,
  });

  function once(method: string, request: object, requestId: string, signal: AbortSignal) {
    const metadata = new grpc.Metadata();
    metadata.set('x-sidekey-org-key', ork);
    metadata.set('x-request-id', requestId);
    if (options.clientToken !== undefined) metadata.set('authorization', `Bearer ${options.clientToken}`);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const call = (client[method] as Unary).call(client, request, metadata, {}, (err, response) => {
        signal.removeEventListener('abort', cancel);
        if (err === null && response !== undefined) return resolve(response);
        const code = err === null ? 'INTERNAL' : (CODES[err.code] ?? 'INTERNAL');
        const trailer = err?.metadata?.get('x-request-id')[0];
        reject(
          new SidekeyError(code, err?.details || err?.message || 'no answer', {
            requestId: typeof trailer === 'string' ? trailer : requestId,
            ...(err !== null && { grpcCode: err.code }),
          }),
        );
      });
      const cancel = () => call.cancel();
      if (signal.aborted) cancel();
      else signal.addEventListener('abort', cancel, { once: true });
    });
  }

  const run = (method: string, request: object, call: CallOptions = {}) => {
    const requestId = requestIdFor(call.requestId);
    const signal = callSignal(call);
    return withRetries(options.retry, signal, () => once(method, request, requestId, signal));
  };

  return {
    tokenize: async (r, c) => ({ tokens: (await run('Tokenize', r, c)).tokens as string[] }),
    detokenize: async (r, c) => ({
      results: ((await run('Detokenize', r, c)).results as OneofResult[]).map((x) =>
        item(x, 'value'),
      ) as never,
    }),
    encrypt: async (r, c) => ({ ciphertexts: (await run('Encrypt', r, c)).ciphertexts as string[] }),
    decrypt: async (r, c) => ({
      results: ((await run('Decrypt', r, c)).results as OneofResult[]).map((x) =>
        item(x, 'plaintext'),
      ) as never,
    }),
    deleteTokens: async (r, c) => ({ deleted: (await run('DeleteTokens', r, c)).deleted as number }),
    forgetSubjects: async (r, c) => ({
      forgotten: (await run('ForgetSubjects', r, c)).forgotten as number,
    }),
    getIngestKeys: async (r, c) => ({ keys: (await run('GetIngestKeys', r, c)).keys as never }),
    close: () => client.close(),
  };
}
