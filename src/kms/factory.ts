/**
 * Builds the KEK ring from the validated configuration. The only place that
 * knows which adapters exist.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config, KmsSettings } from '../config/index.js';
import type { RandomSource } from '../crypto/index.js';
import type { AwsKekOptions } from './aws.js';
import { instrumentKek, type KmsCallObserver } from './instrument.js';
import { KekRefError, type KekSpec } from './kek-ref.js';
import { LocalKek, loadOrCreateLocalKek, localKekRef } from './local.js';
import { type KekPort, type KekRing, kekRing } from './port.js';
import type { VaultKekOptions } from './vault.js';

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

/** What the ring is built from; `kmsPrevious`/`kmsSettings` may be omitted (no previous KEK). */
export type KekRingConfig = Pick<Config, 'kms' | 'dataDir'> &
  Partial<Pick<Config, 'kmsPrevious' | 'kmsSettings'>>;

/**
 * The primary KEK (wraps every new key) and the previous ones
 * (`SIDEKEY_KMS_PREVIOUS`: unwrap only, during a KEK rotation), each
 * instrumented. A previous KEK that is the primary is dropped.
 */
export async function createKekRing(config: KekRingConfig, deps: KekFactoryDeps): Promise<KekRing> {
  const primary = observed(await createKek(config, deps), deps);
  const previous: KekPort[] = [];
  try {
    for (const spec of config.kmsPrevious ?? []) {
      const kek = observed(
        await createKekFromSpec(spec, settingsOf(config), config.dataDir, deps, {
          createLocal: false,
          primary: false,
        }),
        deps,
      );
      if (kek.kekRef === primary.kekRef || previous.some((p) => p.kekRef === kek.kekRef)) await kek.close();
      else previous.push(kek);
    }
  } catch (err) {
    for (const k of [primary, ...previous]) await k.close().catch(() => {});
    throw err;
  }
  await Promise.all([primary, ...previous].map((k) => checkAtStart(k, deps)));
  return kekRing(primary, previous);
}

/**
 * A KEK from a reference (`sidekey rotate kek --to`, `ork reissue --to`),
 * with this process's provider settings. Instrumented like the ring's.
 * `local` loads the data directory's key file, creating it if absent.
 */
export async function createKekFromRef(
  spec: KekSpec,
  config: KekRingConfig,
  deps: KekFactoryDeps,
): Promise<KekPort> {
  const kek = observed(
    await createKekFromSpec(spec, settingsOf(config), config.dataDir, deps, {
      createLocal: true,
      primary: false,
    }),
    deps,
  );
  await checkAtStart(kek, deps);
  return kek;
}

function observed(kek: KekPort, deps: KekFactoryDeps): KekPort {
  return deps.observe === undefined ? kek : instrumentKek(kek, deps.observe);
}

/** Say at start, in the log, what /readyz will say: a denied or wrong key is a configuration error an operator must see, not a retry loop. */
async function checkAtStart(kek: KekPort, deps: KekFactoryDeps): Promise<void> {
  if (kek.provider === 'local') return;
  const health = await withDeadline(kek.health(), STARTUP_CHECK_MS);
  if (health === undefined) {
    deps.warn(`KMS ${kek.kekRef} did not answer within ${STARTUP_CHECK_MS / 1000} s at start`);
  } else if (!health.ok) {
    deps.warn(`KMS ${kek.kekRef} is not ready: ${health.reason}`);
  }
}

/** Provider settings; from the primary's configuration when the caller gave none. */
function settingsOf(config: KekRingConfig): KmsSettings {
  if (config.kmsSettings !== undefined) return config.kmsSettings;
  const kms = config.kms;
  return {
    aws:
      kms.provider === 'aws'
        ? {
            ...(kms.region !== undefined && { region: kms.region }),
            ...(kms.endpoint !== undefined && { endpoint: kms.endpoint }),
          }
        : {},
    vault:
      kms.provider === 'vault'
        ? {
            addr: kms.addr,
            transitMount: kms.transitMount,
            ...(kms.token !== undefined && { token: kms.token }),
            ...(kms.tokenFile !== undefined && { tokenFile: kms.tokenFile }),
            ...(kms.k8sRole !== undefined && { k8sRole: kms.k8sRole }),
            ...(kms.caCertFile !== undefined && { caCertFile: kms.caCertFile }),
          }
        : { transitMount: 'transit' },
  };
}

async function createKekFromSpec(
  spec: KekSpec,
  settings: KmsSettings,
  dataDir: string,
  deps: KekFactoryDeps,
  options: { readonly createLocal: boolean; readonly primary: boolean },
): Promise<KekPort> {
  switch (spec.provider) {
    case 'local': {
      const path = join(dataDir, LOCAL_KEK_FILE);
      // A previous KEK must already exist: creating a fresh key file would unwrap nothing.
      if (!options.createLocal && !existsSync(path)) {
        throw new KekRefError(`local KEK: no key file ${path} (SIDEKEY_KMS_PREVIOUS names "local")`);
      }
      // Any command may be the first to run on a data directory (`migrate`
      // against a local Postgres before any `serve`): create it as serve does.
      if (options.createLocal) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const { key, created } = loadOrCreateLocalKek(path);
      const ref = localKekRef(key);
      if (spec.fingerprint !== undefined && ref !== `local:${spec.fingerprint}`) {
        key.fill(0);
        throw new KekRefError(`local KEK: the key file ${path} is ${ref}, not local:${spec.fingerprint}`);
      }
      if (options.primary) {
        deps.warn(
          `${created ? 'created' : 'using'} the local development KEK ${path}: for development only, use SIDEKEY_KMS=aws or vault in production`,
        );
      } else if (created) {
        deps.warn(`created the local development KEK ${path}: for development only`);
      }
      return new LocalKek(key, deps.random);
    }
    case 'aws':
      return new (await import('./aws.js')).AwsKek({
        ...deps.aws,
        keyId: spec.keyId,
        ...(settings.aws.region !== undefined && { region: settings.aws.region }),
        ...(settings.aws.endpoint !== undefined && { endpoint: settings.aws.endpoint }),
      });
    case 'vault': {
      const v = settings.vault;
      if (v.addr === undefined) throw new KekRefError(`vault:${spec.keyName}: VAULT_ADDR is not set`);
      return new (await import('./vault.js')).VaultKek({
        warn: deps.warn,
        ...deps.vault,
        addr: v.addr,
        keyName: spec.keyName,
        transitMount: spec.mount ?? v.transitMount,
        ...(v.token !== undefined && { token: v.token }),
        ...(v.tokenFile !== undefined && { tokenFile: v.tokenFile }),
        ...(v.k8sRole !== undefined && { k8sRole: v.k8sRole }),
        ...(v.caCertFile !== undefined && { caCertFile: v.caCertFile }),
      });
    }
  }
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

/** The primary KEK: the spec the configuration names, built like any other, with the development warning for `local`. */
async function createKek(config: KekRingConfig, deps: KekFactoryDeps): Promise<KekPort> {
  const kms = config.kms;
  const spec: KekSpec =
    kms.provider === 'local'
      ? { provider: 'local' }
      : kms.provider === 'aws'
        ? { provider: 'aws', keyId: kms.keyId }
        : { provider: 'vault', keyName: kms.keyId, mount: kms.transitMount };
  return createKekFromSpec(spec, settingsOf(config), config.dataDir, deps, {
    createLocal: true,
    primary: true,
  });
}
