export { ConfigError, loadConfig, redactedConfig } from './load.js';
export { isLoopbackHost } from './loopback.js';
export type { Config, KmsConfig, StoreConfig } from './schema.js';
