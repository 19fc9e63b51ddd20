export { CIPHERTEXT_PREFIX, decodeCiphertext, encodeCiphertext } from './ciphertext-string.js';
export { type ServiceDeps, TokenService } from './service.js';
export type * from './types.js';
export { FIELD_PATTERN, type Limits, TENANT_PATTERN } from './validate.js';
