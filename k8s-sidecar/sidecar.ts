/**
 * The objects the injector adds to a pod: the sidekey container and its
 * volumes, and what each application container receives. Pure builders from
 * the injector's configuration and the pod's validated options.
 */
import type { PodOptions } from './annotations.js';
import type { KmsSettings, MutationConfig } from './config.js';
import {
  DATA_DIR,
  DOCTOR_NAME,
  GRPC_SOCKET,
  HTTP_PORT,
  POSTGRES_TLS_DIR,
  POSTGRES_TLS_KEYS,
  RUN_DIR,
  SIDECAR_NAME,
  SIDEKEY_UID,
  SIDEKEY_URL,
  VOLUMES,
} from './constants.js';
import { CLASSIC_WAIT_SECONDS, probeCommand, waitCommand } from './probes.js';

export interface EnvVar {
  readonly name: string;
  readonly value: string;
}

export interface VolumeMount {
  readonly name: string;
  readonly mountPath: string;
  readonly readOnly?: boolean;
}

/** Share of the memory limit given to the V8 heap; the rest is code, buffers and the exec probes. */
const HEAP_SHARE = 0.6;

/** Env added to every application container served by sidekey (API.md "Kubernetes injector"). */
export function applicationEnv(): EnvVar[] {
  return [
    { name: 'SIDEKEY_URL', value: SIDEKEY_URL },
    { name: 'SIDEKEY_GRPC_SOCKET', value: GRPC_SOCKET },
  ];
}

export function applicationMount(): VolumeMount {
  return { name: VOLUMES.run, mountPath: RUN_DIR };
}

function kmsEnv(kms: KmsSettings): EnvVar[] {
  switch (kms.provider) {
    case 'local':
      return [{ name: 'SIDEKEY_KMS', value: 'local' }];
    case 'aws': {
      const env = [
        { name: 'SIDEKEY_KMS', value: 'aws' },
        { name: 'SIDEKEY_KMS_KEY_ID', value: kms.keyId },
      ];
      if (kms.region !== undefined) env.push({ name: 'AWS_REGION', value: kms.region });
      return env;
    }
    case 'vault': {
      const env = [
        { name: 'SIDEKEY_KMS', value: 'vault' },
        { name: 'SIDEKEY_KMS_KEY_ID', value: kms.keyId },
        { name: 'VAULT_ADDR', value: kms.addr },
      ];
      if (kms.k8sRole !== undefined) env.push({ name: 'SIDEKEY_VAULT_K8S_ROLE', value: kms.k8sRole });
      if (kms.transitMount !== undefined)
        env.push({ name: 'SIDEKEY_VAULT_TRANSIT_MOUNT', value: kms.transitMount });
      return env;
    }
  }
}

/** The daemon's own settings (API.md "Configuration names"). */
export function sidecarEnv(config: MutationConfig, options: PodOptions): EnvVar[] {
  const env: EnvVar[] = [
    { name: 'SIDEKEY_HTTP_HOST', value: '127.0.0.1' },
    { name: 'SIDEKEY_HTTP_PORT', value: String(HTTP_PORT) },
    { name: 'SIDEKEY_GRPC_SOCKET', value: GRPC_SOCKET },
    { name: 'SIDEKEY_DATA_DIR', value: DATA_DIR },
  ];
  if (config.postgres !== undefined) {
    env.push(
      { name: 'SIDEKEY_STORE', value: 'postgres' },
      { name: 'SIDEKEY_PG_URL', value: config.postgres.url },
      { name: 'SIDEKEY_PG_CA_FILE', value: `${POSTGRES_TLS_DIR}/${POSTGRES_TLS_KEYS.ca}` },
      { name: 'SIDEKEY_PG_CERT_FILE', value: `${POSTGRES_TLS_DIR}/${POSTGRES_TLS_KEYS.cert}` },
      { name: 'SIDEKEY_PG_KEY_FILE', value: `${POSTGRES_TLS_DIR}/${POSTGRES_TLS_KEYS.key}` },
    );
  } else {
    env.push({ name: 'SIDEKEY_STORE', value: 'embedded' });
  }
  env.push(...kmsEnv(config.kms));
  if (options.tenants !== undefined) env.push({ name: 'SIDEKEY_TENANTS', value: options.tenants.join(',') });
  if (options.logLevel !== undefined) env.push({ name: 'SIDEKEY_LOG_LEVEL', value: options.logLevel });
  const memoryLimit = options.resources.memoryLimit;
  if (memoryLimit !== undefined) env.push({ name: 'NODE_OPTIONS', value: nodeOptionsFor(memoryLimit.value) });
  return env;
}

/**
 * The Node.js flags for a container memory limit. Without them V8 sizes its
 * heap from the node's memory, not the container's, and the kernel OOM-kills
 * the container before the garbage collector has worked hard. (The benchmark
 * runs sidekey with the flags of the default limit: bench/lib/sidekey.ts.)
 */
export function nodeOptionsFor(memoryLimitBytes: number): string {
  const heapMiB = Math.max(32, Math.floor((memoryLimitBytes / 2 ** 20) * HEAP_SHARE));
  return `--max-old-space-size=${heapMiB}`;
}

export function sidecarResources(options: PodOptions): Record<string, Record<string, string>> {
  const r = options.resources;
  const requests: Record<string, string> = { cpu: r.cpuRequest.text, memory: r.memoryRequest.text };
  const limits: Record<string, string> = {};
  if (r.cpuLimit !== undefined) limits.cpu = r.cpuLimit.text;
  if (r.memoryLimit !== undefined) limits.memory = r.memoryLimit.text;
  return Object.keys(limits).length > 0 ? { requests, limits } : { requests };
}

/** Restricted Pod Security Standard, and then some: nothing to write but its volumes, no capability at all. */
export function sidecarSecurityContext(): Record<string, unknown> {
  return {
    runAsNonRoot: true,
    runAsUser: SIDEKEY_UID,
    runAsGroup: SIDEKEY_UID,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function sidecarContainer(config: MutationConfig, options: PodOptions): Record<string, unknown> {
  const mounts: VolumeMount[] = [
    { name: VOLUMES.run, mountPath: RUN_DIR },
    { name: VOLUMES.data, mountPath: DATA_DIR },
  ];
  if (config.postgres !== undefined) {
    mounts.push({ name: VOLUMES.postgresTls, mountPath: POSTGRES_TLS_DIR, readOnly: true });
  }
  const container: Record<string, unknown> = {
    name: SIDECAR_NAME,
    image: config.image,
    imagePullPolicy: config.imagePullPolicy,
    args: ['serve'],
    env: sidecarEnv(config, options),
    resources: sidecarResources(options),
    securityContext: sidecarSecurityContext(),
    volumeMounts: mounts,
    // Ready means KMS and store reachable: the application starts only then.
    // 1 s period, up to 2 minutes, for a fast start without a restart loop on a slow KMS.
    startupProbe: {
      exec: { command: probeCommand('/readyz') },
      periodSeconds: 1,
      timeoutSeconds: 3,
      failureThreshold: 120,
    },
    livenessProbe: {
      exec: { command: probeCommand('/healthz') },
      periodSeconds: 10,
      timeoutSeconds: 3,
      failureThreshold: 3,
    },
    readinessProbe: {
      exec: { command: probeCommand('/readyz') },
      periodSeconds: 10,
      timeoutSeconds: 3,
      failureThreshold: 3,
    },
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
  if (options.mode === 'native') {
    // A native sidecar (KEP-753): started before the containers that follow it, kept
    // running, and stopped after the application's containers, so Jobs complete.
    container.restartPolicy = 'Always';
  } else {
    container.lifecycle = { postStart: { exec: { command: waitCommand('/readyz', CLASSIC_WAIT_SECONDS) } } };
  }
  return container;
}

/**
 * `sidekey doctor` with exactly the sidecar's image, settings, mounts,
 * resources and security context: an init container that runs to completion
 * before the sidecar, so a pod whose KMS permissions, Postgres certificates,
 * grants or socket directory are wrong does not start, and its log says
 * what to fix.
 */
export function doctorContainer(config: MutationConfig, options: PodOptions): Record<string, unknown> {
  const {
    startupProbe: _startup,
    livenessProbe: _liveness,
    readinessProbe: _readiness,
    restartPolicy: _restart,
    lifecycle: _lifecycle,
    ...base
  } = sidecarContainer(config, options);
  return { ...base, name: DOCTOR_NAME, args: ['doctor'] };
}

export function sidecarVolumes(config: MutationConfig, options: PodOptions): Record<string, unknown>[] {
  const volumes: Record<string, unknown>[] = [
    // Holds only the gRPC socket: tiny, in memory.
    { name: VOLUMES.run, emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
    { name: VOLUMES.data, emptyDir: { sizeLimit: '256Mi' } },
  ];
  if (config.postgres !== undefined && options.postgresTlsSecret !== undefined) {
    volumes.push({
      name: VOLUMES.postgresTls,
      secret: {
        secretName: options.postgresTlsSecret,
        // Mounted into the sidekey container only, which runs as a user that does
        // not own the files: they must be readable by others inside it.
        defaultMode: 0o444,
        items: [
          { key: POSTGRES_TLS_KEYS.ca, path: POSTGRES_TLS_KEYS.ca },
          { key: POSTGRES_TLS_KEYS.cert, path: POSTGRES_TLS_KEYS.cert },
          { key: POSTGRES_TLS_KEYS.key, path: POSTGRES_TLS_KEYS.key },
        ],
      },
    });
  }
  return volumes;
}
