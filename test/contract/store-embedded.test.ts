import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore } from '../../src/store/embedded.js';
import { runStoreContract } from './store-contract.js';

runStoreContract({
  name: 'embedded',
  async make() {
    const dir = mkdtempSync(join(tmpdir(), 'sidekey-embedded-'));
    const store = await openEmbeddedStore(dir);
    return {
      store,
      async close() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});
