// The aws and vault adapters are loaded on demand by the factory (their SDKs
// weigh tens of MiB): import them from './aws.js' / './vault.js' directly.
export type { AwsKekOptions } from './aws.js';
export {
  createKekFromRef,
  createKekRing,
  type KekFactoryDeps,
  type KekRingConfig,
  LOCAL_KEK_FILE,
} from './factory.js';
export {
  instrumentKek,
  type KmsCallObservation,
  type KmsCallObserver,
  type KmsCallOutcome,
  type KmsOperationName,
} from './instrument.js';
export { KekRefError, type KekSpec, parseKekRef, parseKekRefList } from './kek-ref.js';
export { LocalKek, loadOrCreateLocalKek, localKekRef } from './local.js';
export * from './port.js';
export type { VaultKekOptions } from './vault.js';
