export { createHttpApp, type HttpDeps } from './app.js';
export { type HttpServerHandle, listenHttp } from './server.js';
