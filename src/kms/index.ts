export { AwsKek, type AwsKekOptions, awsKekRef, classifyAwsError } from './aws.js';
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
export { classifyVaultError, VaultKek, type VaultKekOptions, vaultKekRef } from './vault.js';
