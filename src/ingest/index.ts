export {
  getIngestKeys,
  type IngestKeysResponse,
  type IngestPublicKey,
} from './get-keys.js';
export { IngestKeyring, type IngestKeyringDeps } from './ingest-keyring.js';
export { newIngestKeys } from './key-pairs.js';
export { ENCRYPT_SEALED, type SealedNames, TOKENIZE_SEALED, withSealedItems } from './open-sealed.js';
export {
  formatSealed,
  ingestInfo,
  KEY_ID_PATTERN,
  keyPairFromSeed,
  parseSealed,
  SEALED_PREFIX,
  SUITE_NAMES,
  SUITES,
  type SuiteName,
} from './suites.js';
