/**
 * Builds the KEK ring from the validated configuration. The only place that
 * knows which adapters exist.
 */
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import type { RandomSource } from '../crypto/index.js';
import { LocalKek, loadOrCreateLocalKek } from './local.js';
import { type KekPort, type KekRing, kekRing } from './port.js';

export interface KekFactoryDeps {
  readonly random: RandomSource;
  /** Told once when a development-only KEK is in use or was just created. */
  readonly warn: (message: string) => void;
}

export const LOCAL_KEK_FILE = 'kek.key';

export async function createKekRing(config: Pick<Config, 'kms' | 'dataDir'>, deps: KekFactoryDeps): Promise<KekRing> {
  const primary = await createKek(config, deps);
  return kekRing(primary);
}

async function createKek(config: Pick<Config, 'kms' | 'dataDir'>, deps: KekFactoryDeps): Promise<KekPort> {
  switch (config.kms.provider) {
    case 'local': {
      const path = join(config.dataDir, LOCAL_KEK_FILE);
      const { key, created } = loadOrCreateLocalKek(path);
      deps.warn(
        `${created ? 'created' : 'using'} the local development KEK ${path}: for development only, use SIDEKEY_KMS=aws or vault in production`,
      );
      return new LocalKek(key, deps.random);
    }
    case 'aws':
    case 'vault':
      throw new Error(`SIDEKEY_KMS=${config.kms.provider} is not available in this build yet`);
  }
}
