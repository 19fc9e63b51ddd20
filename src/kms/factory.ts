/**
 * Builds the KEK ring from the validated configuration. The only place that
 * knows which adapters exist.
 */
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import type { RandomSource } from '../crypto/index.js';
import { AwsKek, type AwsKekOptions } from './aws.js';
import { instrumentKek, type KmsCallObserver } from './instrument.js';
import { LocalKek, loadOrCreateLocalKek } from './local.js';
import { type KekPort, type KekRing, kekRing } from './port.js';
import { VaultKek, type VaultKekOptions } from './vault.js';

export interface KekFactoryDeps {
  readonly random: RandomSource;
  /**
   * Told when a development-only KEK is in use or was just created, when the
   * KMS is not ready at start (with the reason: access denied, wrong key, …)
   * and about background problems such as a failing Vault token renewal.
   * Never given a secret.
   */
  readonly warn: (message: string) => void;
  /** Every KMS call (wrap, unwrap, health) is reported here, for metrics. */
  readonly observe?: KmsCallObserver;
  /** Adapter tuning beyond the configuration (timeouts, retries; tests: SA token path). */
  readonly aws?: Partial<Omit<AwsKekOptions, 'keyId'>>;
  readonly vault?: Partial<Omit<VaultKekOptions, 'addr' | 'keyName'>>;
}

export const LOCAL_KEK_FILE = 'kek.key';

export async function createKekRing(
  config: Pick<Config, 'kms' | 'dataDir'>,
  deps: KekFactoryDeps,
): Promise<KekRing> {
  const kek = createKek(config, deps);
  const primary = deps.observe === undefined ? kek : instrumentKek(kek, deps.observe);
  if (primary.provider !== 'local') {
    // Say at start, in the log, what /readyz will say: a denied or wrong key
    // is a configuration error an operator must see, not a retry loop.
    const health = await withDeadline(primary.health(), STARTUP_CHECK_MS);
    if (health === undefined) {
      deps.warn(`KMS ${primary.kekRef} did not answer within ${STARTUP_CHECK_MS / 1000} s at start`);
    } else if (!health.ok) {
      deps.warn(`KMS ${primary.kekRef} is not ready: ${health.reason}`);
    }
  }
  return kekRing(primary);
}

/** The start-up check must not hold the start for the adapter's full retry budget. */
const STARTUP_CHECK_MS = 5000;

async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function createKek(config: Pick<Config, 'kms' | 'dataDir'>, deps: KekFactoryDeps): KekPort {
  const kms = config.kms;
  switch (kms.provider) {
    case 'local': {
      const path = join(config.dataDir, LOCAL_KEK_FILE);
      const { key, created } = loadOrCreateLocalKek(path);
      deps.warn(
        `${created ? 'created' : 'using'} the local development KEK ${path}: for development only, use SIDEKEY_KMS=aws or vault in production`,
      );
      return new LocalKek(key, deps.random);
    }
    case 'aws':
      return new AwsKek({
        ...deps.aws,
        keyId: kms.keyId,
        ...(kms.region !== undefined && { region: kms.region }),
        ...(kms.endpoint !== undefined && { endpoint: kms.endpoint }),
      });
    case 'vault':
      return new VaultKek({
        warn: deps.warn,
        ...deps.vault,
        addr: kms.addr,
        keyName: kms.keyId,
        transitMount: kms.transitMount,
        ...(kms.token !== undefined && { token: kms.token }),
        ...(kms.tokenFile !== undefined && { tokenFile: kms.tokenFile }),
        ...(kms.k8sRole !== undefined && { k8sRole: kms.k8sRole }),
        ...(kms.caCertFile !== undefined && { caCertFile: kms.caCertFile }),
      });
  }
}
