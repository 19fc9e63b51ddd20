export { DataDirLockedError, LOCK_FILE, lockDataDir } from './dir-lock.js';
export { openEmbeddedStore } from './embedded.js';
export {
  isStoreUnavailable,
  StoreAuthError,
  StoreConfigError,
  StoreUnavailableError,
} from './errors.js';
export { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
export { openStore } from './open.js';
export type * from './port.js';
export { SchemaError, SqlStore } from './sql-store.js';
