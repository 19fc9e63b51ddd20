export { createHandlers, type GrpcService, strictDefinition } from './handlers.js';
export { HEALTH_SERVICES, HealthTracker } from './health.js';
export { LOADER_OPTIONS, loadContract, protoRoot, SIDEKEY_PROTO, SIDEKEY_SERVICE } from './proto.js';
export { type GrpcDeps, type GrpcServerHandle, listenGrpc } from './server.js';
export { claimSocket, removeStaleSocket, SOCKET_MODE, SocketInUseError } from './socket.js';
