/**
 * A real @grpc/grpc-js client for the gRPC listener, loaded from the
 * contract with the typed code generated from it, plus small helpers shared
 * by the gRPC test files.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  type CallOptions,
  type Client,
  type ClientUnaryCall,
  credentials,
  loadPackageDefinition,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import type { SidekeyClient } from '../../src/transport/grpc/generated/sidekey/v1/Sidekey.js';
import type { ProtoGrpcType } from '../../src/transport/grpc/generated/sidekey.js';
import { LOADER_OPTIONS, protoRoot, SIDEKEY_PROTO } from '../../src/transport/grpc/index.js';

export const METHODS = ['Tokenize', 'Detokenize', 'Encrypt', 'Decrypt', 'DeleteTokens'] as const;
export type Method = (typeof METHODS)[number];
/** Every unary RPC: the data calls, (issue 13) ForgetSubjects and (issue 14) GetIngestKeys. */
export type AnyMethod = Method | 'ForgetSubjects' | 'GetIngestKeys';

const contract = loadPackageDefinition(
  loadSync(SIDEKEY_PROTO, { ...LOADER_OPTIONS, includeDirs: [protoRoot()] }),
) as unknown as ProtoGrpcType;

// biome-ignore lint/suspicious/noExplicitAny: the generated health/reflection clients are untyped here
type AnyClient = Client & Record<string, any>;

const standard = loadPackageDefinition(
  loadSync(['health/v1/health.proto', 'grpc/reflection/v1/reflection.proto'], {
    ...LOADER_OPTIONS,
    includeDirs: [
      dirname(dirname(dirname(healthProtoPath))),
      join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '..', 'proto'),
    ],
  }),
  // biome-ignore lint/suspicious/noExplicitAny: see AnyClient
) as any;

/** Client options matching the server's: responses of big batches exceed grpc-js's 4 MiB default. */
const CLIENT_OPTIONS = { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 };

export function sidekeyClient(socketPath: string, options: { ownConnection?: boolean } = {}): SidekeyClient {
  return new contract.sidekey.v1.Sidekey(`unix://${socketPath}`, credentials.createInsecure(), {
    ...CLIENT_OPTIONS,
    ...(options.ownConnection && { 'grpc.use_local_subchannel_pool': 1 }),
  });
}

export function healthClient(socketPath: string): AnyClient {
  return new standard.grpc.health.v1.Health(`unix://${socketPath}`, credentials.createInsecure());
}

export function reflectionClient(socketPath: string): AnyClient {
  return new standard.grpc.reflection.v1.ServerReflection(
    `unix://${socketPath}`,
    credentials.createInsecure(),
  );
}

export interface CallCredentials {
  readonly ork?: string;
  readonly token?: string;
  readonly requestId?: string;
  /** Milliseconds from now. */
  readonly deadlineMs?: number;
  readonly extra?: Record<string, string>;
}

type UnaryInvoker = (
  request: object,
  metadata: Metadata,
  options: CallOptions,
  callback: (err: ServiceError | null, response: unknown) => void,
) => ClientUnaryCall;

export type GrpcOutcome =
  // biome-ignore lint/suspicious/noExplicitAny: test convenience, like the HTTP helper's body
  | { readonly ok: true; readonly response: any; readonly requestId: string | undefined }
  | {
      readonly ok: false;
      readonly code: number;
      readonly details: string;
      readonly requestId: string | undefined;
    };

export function metadataOf(c: CallCredentials): Metadata {
  const md = new Metadata();
  if (c.ork !== undefined) md.set('x-sidekey-org-key', c.ork);
  if (c.token !== undefined) md.set('authorization', `Bearer ${c.token}`);
  if (c.requestId !== undefined) md.set('x-request-id', c.requestId);
  for (const [k, v] of Object.entries(c.extra ?? {})) md.set(k, v);
  return md;
}

/** One unary call; resolves with the response or the status, and the x-request-id trailer. */
export function callGrpc(
  client: SidekeyClient,
  method: AnyMethod,
  request: object,
  creds: CallCredentials = {},
): Promise<GrpcOutcome> {
  const options: CallOptions =
    creds.deadlineMs === undefined ? {} : { deadline: new Date(Date.now() + creds.deadlineMs) };
  return new Promise((resolve) => {
    let outcome: GrpcOutcome | undefined;
    const invoke = (client as unknown as Record<AnyMethod, UnaryInvoker>)[method].bind(client);
    const call = invoke(
      request,
      metadataOf(creds),
      options,
      (err: ServiceError | null, response: unknown) => {
        outcome = err
          ? { ok: false, code: err.code, details: err.details, requestId: undefined }
          : { ok: true, response, requestId: undefined };
      },
    );
    // grpc-js emits 'status' (with the trailing metadata) right after the callback.
    call.on('status', (status: { metadata: Metadata }) => {
      const id = status.metadata.get('x-request-id')[0];
      resolve({ ...outcome!, requestId: typeof id === 'string' ? id : undefined });
    });
  });
}

/**
 * A client of `/sidekey.v1.Sidekey/<method>` for each of `methods` (which
 * need not exist) that sends the request bytes as given: hand-made or
 * mutated wire bytes, by a client that checks nothing.
 */
export function rawClient(socketPath: string, methods: readonly string[]): Client {
  const identity = (b: Buffer) => b;
  const definition = Object.fromEntries(
    methods.map((m) => [
      m,
      {
        path: `/sidekey.v1.Sidekey/${m}`,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    ]),
  );
  const Raw = makeGenericClientConstructor(definition, 'Raw');
  return new Raw(`unix://${socketPath}`, credentials.createInsecure());
}

/** One call of a rawClient; the response bytes are not decoded. */
export function callRaw(
  client: Client,
  method: string,
  bytes: Buffer,
  metadata: Metadata,
): Promise<GrpcOutcome> {
  return new Promise((resolve) => {
    (client as AnyClient)[method](
      bytes,
      metadata,
      (err: { code: number; details: string; metadata: Metadata } | null) => {
        const id = err?.metadata.get('x-request-id')[0];
        resolve(
          err
            ? {
                ok: false,
                code: err.code,
                details: err.details,
                requestId: typeof id === 'string' ? id : undefined,
              }
            : { ok: true, response: undefined, requestId: undefined },
        );
      },
    );
  });
}

/**
 * A gRPC response as the HTTP transport would write it: the virtual oneof
 * discriminator dropped and empty (absent) proto3 fields left out, which is
 * the proto3 JSON mapping of the same message.
 */
export function asJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asJson);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  const o = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) {
    if (k === 'result' && typeof v === 'string' && v in o) continue; // oneof discriminator
    if (k === 'request_id') {
      if (v !== '') out.requestId = v;
      continue;
    }
    if (v === null || v === undefined) continue;
    if (v === false) continue; // proto3 JSON leaves out default values (masked: false)
    out[k] = asJson(v);
  }
  return out;
}
