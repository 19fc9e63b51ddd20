/**
 * What the gRPC load generators share: one method of sidekey.v1.Sidekey from
 * the real .proto, a @grpc/grpc-js client on the unix socket, the metadata,
 * and raw (already serialized) unary calls.
 */
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { loadSync, type MethodDefinition } from '@grpc/proto-loader';
import { LOADER_OPTIONS, SIDEKEY_PROTO } from '../../src/transport/grpc/proto.js';

export interface GrpcTarget {
  readonly method: MethodDefinition<object, object>;
  readonly client: Client;
  readonly metadata: Metadata;
}

export function grpcTarget(spec: {
  readonly socket: string;
  readonly protoRoot: string;
  readonly method: string;
  readonly metadata: Record<string, string>;
}): GrpcTarget {
  const definition = loadSync(SIDEKEY_PROTO, { ...LOADER_OPTIONS, includeDirs: [spec.protoRoot] });
  const service = definition['sidekey.v1.Sidekey'] as unknown as Record<
    string,
    MethodDefinition<object, object>
  >;
  const method = service[spec.method];
  if (method === undefined) throw new Error(`no method ${spec.method}`);
  const client = new Client(`unix:${spec.socket}`, credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
  });
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(spec.metadata)) metadata.set(k, v);
  return { method, client, metadata };
}
