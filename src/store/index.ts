export { DataDirLockedError, LOCK_FILE, lockDataDir } from './dir-lock.js';
export {
  isStoreUnavailable,
  StoreAuthError,
  StoreConfigError,
  StoreUnavailableError,
} from './errors.js';
export { sidecarGrants } from './grants.js';
export { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
export { KEY_EVENTS_CHANNEL, type KeyEvent, listenKeyEvents, notifyKeyEvent } from './notify.js';
export { openEmbeddedStore, openStore } from './open.js';
export type * from './port.js';
export {
  migratePostgres,
  openPostgresSqlClient,
  openPostgresStore,
  type PostgresStoreOptions,
} from './postgres.js';
export { SchemaError, SqlStore } from './sql-store.js';
export { SubjectKeyGoneError } from './sql-subjects.js';
