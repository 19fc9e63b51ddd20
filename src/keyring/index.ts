export { KeyCache } from './key-cache.js';
export { Keyring, type KeyringDeps, type KeyringOptions, type OrkIdentity } from './keyring.js';
export { type BoundedLruOptions, boundedLru } from './lru.js';
export { type SubjectKey, SubjectKeys, type SubjectKeysDeps } from './subject-keys.js';
