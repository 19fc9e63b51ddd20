/**
 * @sidekey/client: typed calls to a sidekey sidecar. HTTP here (fetch, no
 * dependency); gRPC on the unix socket from `@sidekey/client/grpc`.
 *
 *   const sidekey = createHttpClient();          // SIDEKEY_URL, SIDEKEY_ORK_FILE / SIDEKEY_ORK
 *   const { tokens } = await sidekey.tokenize({ tenant: 'demo', field: 'email', values: ['a@example.com'] });
 */
export { type ClientOptions, DEFAULT_URL, type Env } from './config.js';
export { SidekeyConfigError, SidekeyError } from './errors.js';
export { createHttpClient, type HttpClientOptions } from './http.js';
export type { RetryOptions } from './retry.js';
export type * from './types.js';
