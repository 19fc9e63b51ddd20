/**
 * Floor: a bare @grpc/grpc-js server on a unix socket serving
 * sidekey.v1.Sidekey/Tokenize from the real .proto (same loader options as
 * sidekey), answering with the request's values as tokens: protobuf decode,
 * one metadata read, protobuf encode, nothing else. A separate process; it
 * prints `{"event":"ready"}` and runs until its stdin closes.
 *
 *   node --import tsx bench/floors/grpc.ts <socket path> <proto root>
 */
import { rmSync } from 'node:fs';
import {
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { LOADER_OPTIONS, SIDEKEY_PROTO } from '../../src/transport/grpc/proto.js';
import { emit, exitWithParent } from '../lib/protocol.js';

const [socket, protoRoot] = process.argv.slice(2);
if (socket === undefined || protoRoot === undefined) throw new Error('usage: grpc.ts <socket> <proto root>');
const definition = loadSync(SIDEKEY_PROTO, { ...LOADER_OPTIONS, includeDirs: [protoRoot] });
const server = new Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
server.addService(definition['sidekey.v1.Sidekey'] as unknown as ServiceDefinition, {
  Tokenize: (
    call: ServerUnaryCall<{ values: string[] }, { tokens: string[] }>,
    callback: sendUnaryData<{ tokens: string[] }>,
  ) => {
    if (call.metadata.get('x-sidekey-org-key').length === 0) {
      callback({ code: status.UNAUTHENTICATED, details: 'no key' });
      return;
    }
    callback(null, { tokens: call.request.values });
  },
});
rmSync(socket, { force: true });
server.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (err) => {
  if (err) throw err;
  emit({ event: 'ready' });
});
exitWithParent(() => {
  server.forceShutdown();
  rmSync(socket, { force: true });
});
