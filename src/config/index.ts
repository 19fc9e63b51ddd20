export { ConfigError, loadConfig, redactedConfig } from './load.js';
export { isLoopbackHost } from './loopback.js';
export type { Config, KmsConfig, KmsSettings, StoreConfig } from './schema.js';
