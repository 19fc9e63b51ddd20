/**
 * Opens the configured store adapter. The embedded adapter is imported only
 * when it is used: PGlite (its WebAssembly PostgreSQL) weighs tens of MiB of
 * RSS that a sidecar on the shared PostgreSQL never needs (ADR-19).
 */
import type { StoreConfig } from '../config/index.js';
import type { Store } from './port.js';
import { openPostgresStore, type PostgresStoreOptions } from './postgres.js';

/** The embedded (PGlite) store in `dataDir`; PGlite is loaded on this call, not before. */
export async function openEmbeddedStore(dataDir: string): Promise<Store> {
  return (await import('./embedded.js')).openEmbeddedStore(dataDir);
}

export async function openStore(
  store: StoreConfig,
  dataDir: string,
  options: PostgresStoreOptions = {},
): Promise<Store> {
  switch (store.kind) {
    case 'embedded':
      return openEmbeddedStore(dataDir);
    case 'postgres':
      return openPostgresStore(
        { url: store.url, caFile: store.caFile, certFile: store.certFile, keyFile: store.keyFile },
        options,
      );
  }
}
