/** Opens the configured store adapter. */
import type { StoreConfig } from '../config/index.js';
import { openEmbeddedStore } from './embedded.js';
import type { Store } from './port.js';
import { openPostgresStore, type PostgresStoreOptions } from './postgres.js';

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
