/**
 * Names and paths shared by the injected pod, the injector and the docs
 * (docs/kubernetes.md). The annotation names and the container name are part
 * of the public contract (API.md "Kubernetes injector"): never rename them.
 */

/** Annotation prefix owned by sidekey; unknown names under it are refused (typos must not pass silently). */
export const ANNOTATION_PREFIX = 'sidekey.io/';

export const ANNOTATIONS = {
  inject: 'sidekey.io/inject',
  status: 'sidekey.io/status',
  mode: 'sidekey.io/mode',
  initFirst: 'sidekey.io/init-first',
  containers: 'sidekey.io/containers',
  tenants: 'sidekey.io/tenants',
  postgresTlsSecret: 'sidekey.io/postgres-tls-secret',
  cpuRequest: 'sidekey.io/cpu-request',
  cpuLimit: 'sidekey.io/cpu-limit',
  memoryRequest: 'sidekey.io/memory-request',
  memoryLimit: 'sidekey.io/memory-limit',
  logLevel: 'sidekey.io/log-level',
  doctor: 'sidekey.io/doctor',
} as const;

/** Value of `sidekey.io/status` on a pod that has been injected. */
export const STATUS_INJECTED = 'injected';

/** The injected container. */
export const SIDECAR_NAME = 'sidekey';

/** The init container `sidekey.io/doctor: "true"` adds before it: `sidekey doctor`, the pod starts only if it passes. */
export const DOCTOR_NAME = 'sidekey-doctor';

/** Volumes the injector adds; a pod that already uses one of these names is refused. */
export const VOLUMES = {
  run: 'sidekey-run',
  data: 'sidekey-data',
  postgresTls: 'sidekey-postgres-tls',
} as const;

export const RUN_DIR = '/run/sidekey';
export const GRPC_SOCKET = `${RUN_DIR}/sidekey.sock`;
export const DATA_DIR = '/var/lib/sidekey';
export const POSTGRES_TLS_DIR = '/etc/sidekey/postgres';
/** Keys of the Postgres client Secret (the kubernetes.io/tls layout plus ca.crt, as cert-manager writes it). */
export const POSTGRES_TLS_KEYS = { ca: 'ca.crt', cert: 'tls.crt', key: 'tls.key' } as const;

export const HTTP_PORT = 7600;
export const SIDEKEY_URL = `http://127.0.0.1:${HTTP_PORT}`;

/** The non-root user of the image (Dockerfile `USER 10001:10001`). */
export const SIDEKEY_UID = 10001;
