/**
 * The Kubernetes sidecar injector (`sidekey injector`): a mutating admission
 * webhook that adds the sidekey container to pods annotated
 * `sidekey.io/inject: "true"`. docs/kubernetes.md is the operator's guide.
 */
import { type InjectorConfig, InjectorConfigError, loadInjectorConfig } from './config.js';
import { startInjectorServer, TlsFilesError } from './server.js';

export type { AdmissionReviewResponse, ReviewOutcome } from './admission.js';
export { review } from './admission.js';
export type { InjectionMode, PodOptions } from './annotations.js';
export { DEFAULT_RESOURCES } from './annotations.js';
export type { InjectorConfig, KmsSettings, MutationConfig, PostgresSettings } from './config.js';
export { INJECTOR_VARIABLES, InjectorConfigError, loadInjectorConfig } from './config.js';
export { ANNOTATIONS, SIDECAR_NAME, STATUS_INJECTED } from './constants.js';
export type { MutationResult } from './mutate.js';
export { mutatePod } from './mutate.js';
export type { InjectorServer, InjectorServerOptions } from './server.js';
export { startInjectorServer } from './server.js';

export interface InjectorHandle {
  /** The port actually listened on (SIDEKEY_INJECTOR_PORT=0 picks a free one). */
  readonly port: number;
  readonly config: InjectorConfig;
  close(): Promise<void>;
}

/**
 * Validates the environment and serves the webhook until close(). A bad
 * setting rejects with an InjectorConfigError whose message is one line
 * naming the variable.
 */
export async function runInjector(
  env: NodeJS.ProcessEnv,
  log: (msg: string) => void,
): Promise<InjectorHandle> {
  const config = loadInjectorConfig(env);
  try {
    const server = await startInjectorServer({
      port: config.port,
      tlsCertFile: config.tlsCertFile,
      tlsKeyFile: config.tlsKeyFile,
      config,
      log,
    });
    return { port: server.port, config, close: () => server.close() };
  } catch (err) {
    if (err instanceof TlsFilesError) {
      const name = err.file === 'cert' ? 'SIDEKEY_INJECTOR_TLS_CERT_FILE' : 'SIDEKEY_INJECTOR_TLS_KEY_FILE';
      throw new InjectorConfigError(`${name}: ${err.message}`);
    }
    if (
      (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ||
      (err as NodeJS.ErrnoException).code === 'EACCES'
    ) {
      throw new InjectorConfigError(
        `SIDEKEY_INJECTOR_PORT: cannot listen on port ${config.port} (${(err as NodeJS.ErrnoException).code})`,
      );
    }
    throw err;
  }
}
