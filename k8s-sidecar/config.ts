/**
 * The injector's configuration, read once from the environment
 * (docs/kubernetes.md "Injector configuration"). A bad value stops the
 * injector with one line naming the variable.
 */
import { z } from 'zod';
import {
  builtInMemoryLimit,
  DEFAULT_RESOURCES,
  type InjectionMode,
  isDns1123Subdomain,
  MIN_MEMORY_LIMIT_BYTES,
  quantityProblem,
  type ResourceDefaults,
} from './annotations.js';
import { parseQuantity } from './quantity.js';

export type KmsSettings =
  | { readonly provider: 'local' }
  | { readonly provider: 'aws'; readonly keyId: string; readonly region: string | undefined }
  | {
      readonly provider: 'vault';
      readonly keyId: string;
      readonly addr: string;
      readonly k8sRole: string | undefined;
      readonly transitMount: string | undefined;
    };

export interface PostgresSettings {
  readonly url: string;
  /** Secret used when a pod names none with `sidekey.io/postgres-tls-secret`. */
  readonly defaultTlsSecret: string | undefined;
}

/** What the mutation needs: everything that ends up in the injected pod. */
export interface MutationConfig {
  readonly image: string;
  readonly imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  readonly mode: InjectionMode;
  /** Pods in these namespaces are never injected (the injector's own, kube-system, …). */
  readonly excludedNamespaces: readonly string[];
  readonly kms: KmsSettings;
  /** Undefined: the embedded store (development only: each pod gets its own, lost with the pod). */
  readonly postgres: PostgresSettings | undefined;
  /** Operator-wide defaults of the sidecar's resources; pod annotations still override them. */
  readonly resourceDefaults?: ResourceDefaults;
}

export interface InjectorConfig extends MutationConfig {
  readonly port: number;
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
}

export class InjectorConfigError extends Error {
  override readonly name = 'InjectorConfigError';
}

const DEFAULT_EXCLUDED_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease'];

const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const required = z
  .string({ error: 'is required' })
  .transform((v) => v.trim())
  .refine((v) => v !== '', { message: 'is required' });

/** An optional Kubernetes quantity for the sidecar's resources, checked like the pod annotations. */
function quantity(kind: 'cpu' | 'memory') {
  return optional.superRefine((v, ctx) => {
    const problem = v === undefined ? undefined : quantityProblem(v, kind);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });
}

const schema = z
  .object({
    SIDEKEY_INJECTOR_PORT: z.coerce
      .number({ error: 'must be a port number' })
      .int('must be a port number')
      .min(0, 'must be a port number')
      .max(65535, 'must be a port number')
      .default(8443),
    SIDEKEY_INJECTOR_TLS_CERT_FILE: required,
    SIDEKEY_INJECTOR_TLS_KEY_FILE: required,
    SIDEKEY_INJECTOR_IMAGE: required.refine((v) => /^[^\s]{1,512}$/.test(v), {
      message: 'must be an image reference without spaces',
    }),
    SIDEKEY_INJECTOR_MODE: z
      .enum(['native', 'classic'], { error: 'must be "native" or "classic"' })
      .default('native'),
    SIDEKEY_INJECTOR_IMAGE_PULL_POLICY: z
      .enum(['Always', 'IfNotPresent', 'Never'], { error: 'must be Always, IfNotPresent or Never' })
      .default('IfNotPresent'),
    SIDEKEY_INJECTOR_NAMESPACE: optional,
    SIDEKEY_INJECTOR_EXCLUDE_NAMESPACES: z
      .string()
      .default(DEFAULT_EXCLUDED_NAMESPACES.join(','))
      .transform((v) =>
        v
          .split(',')
          .map((n) => n.trim())
          .filter((n) => n !== ''),
      )
      .refine((list) => list.every((n) => /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(n)), {
        message: 'must be a comma-separated list of namespace names',
      }),
    SIDEKEY_INJECTOR_KMS: z
      .enum(['local', 'aws', 'vault'], { error: 'must be "local", "aws" or "vault"' })
      .default('local'),
    SIDEKEY_INJECTOR_KMS_KEY_ID: optional,
    SIDEKEY_INJECTOR_AWS_REGION: optional,
    SIDEKEY_INJECTOR_VAULT_ADDR: optional.refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), {
      message: 'must be an http(s) URL',
    }),
    SIDEKEY_INJECTOR_VAULT_K8S_ROLE: optional,
    SIDEKEY_INJECTOR_VAULT_TRANSIT_MOUNT: optional,
    SIDEKEY_INJECTOR_PG_URL: optional
      .refine((v) => v === undefined || /^postgres(ql)?:\/\/[^\s]+$/.test(v), {
        message: 'must be a postgres:// URL',
      })
      .refine((v) => v === undefined || !/^[a-z]+:\/\/[^/@]*:[^/@]*@/i.test(v), {
        message: 'must not contain a password: the client certificate is the credential',
      }),
    SIDEKEY_INJECTOR_PG_TLS_SECRET: optional.refine((v) => v === undefined || isDns1123Subdomain(v), {
      message: 'must be a Secret name (DNS-1123 subdomain)',
    }),
    SIDEKEY_INJECTOR_CPU_REQUEST: quantity('cpu'),
    SIDEKEY_INJECTOR_CPU_LIMIT: quantity('cpu'),
    SIDEKEY_INJECTOR_MEMORY_REQUEST: quantity('memory'),
    SIDEKEY_INJECTOR_MEMORY_LIMIT: quantity('memory'),
  })
  .superRefine((c, ctx) => {
    // NaN (an invalid value, reported by its own field) makes every comparison false.
    const bytes = (text: string) => parseQuantity(text)?.value ?? Number.NaN;
    const memoryLimit =
      c.SIDEKEY_INJECTOR_MEMORY_LIMIT ?? builtInMemoryLimit(c.SIDEKEY_INJECTOR_PG_URL !== undefined);
    if (c.SIDEKEY_INJECTOR_MEMORY_LIMIT !== undefined && bytes(memoryLimit) < MIN_MEMORY_LIMIT_BYTES) {
      ctx.addIssue({
        code: 'custom',
        path: ['SIDEKEY_INJECTOR_MEMORY_LIMIT'],
        message:
          'is below 64Mi, too little for the Node.js runtime (every sidecar would be OOM-killed in a loop)',
      });
    }
    // A default request above the default limit would make the injector deny every pod.
    const memoryRequest = c.SIDEKEY_INJECTOR_MEMORY_REQUEST ?? DEFAULT_RESOURCES.memoryRequest;
    if (bytes(memoryRequest) > bytes(memoryLimit)) {
      ctx.addIssue({
        code: 'custom',
        path: [
          c.SIDEKEY_INJECTOR_MEMORY_REQUEST === undefined
            ? 'SIDEKEY_INJECTOR_MEMORY_LIMIT'
            : 'SIDEKEY_INJECTOR_MEMORY_REQUEST',
        ],
        message: `the memory request ${memoryRequest} is more than the memory limit ${memoryLimit}`,
      });
    }
    const cpuRequest = c.SIDEKEY_INJECTOR_CPU_REQUEST ?? DEFAULT_RESOURCES.cpuRequest;
    if (
      c.SIDEKEY_INJECTOR_CPU_LIMIT !== undefined &&
      bytes(cpuRequest) > bytes(c.SIDEKEY_INJECTOR_CPU_LIMIT)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: [
          c.SIDEKEY_INJECTOR_CPU_REQUEST === undefined
            ? 'SIDEKEY_INJECTOR_CPU_LIMIT'
            : 'SIDEKEY_INJECTOR_CPU_REQUEST',
        ],
        message: `the CPU request ${cpuRequest} is more than the CPU limit ${c.SIDEKEY_INJECTOR_CPU_LIMIT}`,
      });
    }
    if (c.SIDEKEY_INJECTOR_KMS !== 'local' && c.SIDEKEY_INJECTOR_KMS_KEY_ID === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['SIDEKEY_INJECTOR_KMS_KEY_ID'],
        message: `is required with SIDEKEY_INJECTOR_KMS=${c.SIDEKEY_INJECTOR_KMS}`,
      });
    }
    if (c.SIDEKEY_INJECTOR_KMS === 'vault' && c.SIDEKEY_INJECTOR_VAULT_ADDR === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['SIDEKEY_INJECTOR_VAULT_ADDR'],
        message: 'is required with SIDEKEY_INJECTOR_KMS=vault',
      });
    }
    if (c.SIDEKEY_INJECTOR_PG_TLS_SECRET !== undefined && c.SIDEKEY_INJECTOR_PG_URL === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['SIDEKEY_INJECTOR_PG_TLS_SECRET'],
        message: 'is only used with SIDEKEY_INJECTOR_PG_URL, which is not set',
      });
    }
  });

/** Every variable the injector reads. */
export const INJECTOR_VARIABLES = Object.keys(schema.shape);

export function loadInjectorConfig(env: NodeJS.ProcessEnv): InjectorConfig {
  const raw: Record<string, string> = {};
  for (const name of INJECTOR_VARIABLES) {
    const value = env[name];
    if (value !== undefined) raw[name] = value;
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0] ?? 'injector configuration');
    const given = raw[name];
    throw new InjectorConfigError(
      `${name}: ${issue.message}${given === undefined ? '' : ` (got ${JSON.stringify(given)})`}`,
    );
  }
  const c = result.data;
  const kms: KmsSettings =
    c.SIDEKEY_INJECTOR_KMS === 'aws'
      ? { provider: 'aws', keyId: c.SIDEKEY_INJECTOR_KMS_KEY_ID!, region: c.SIDEKEY_INJECTOR_AWS_REGION }
      : c.SIDEKEY_INJECTOR_KMS === 'vault'
        ? {
            provider: 'vault',
            keyId: c.SIDEKEY_INJECTOR_KMS_KEY_ID!,
            addr: c.SIDEKEY_INJECTOR_VAULT_ADDR!,
            k8sRole: c.SIDEKEY_INJECTOR_VAULT_K8S_ROLE,
            transitMount: c.SIDEKEY_INJECTOR_VAULT_TRANSIT_MOUNT,
          }
        : { provider: 'local' };
  const excluded = new Set(c.SIDEKEY_INJECTOR_EXCLUDE_NAMESPACES);
  if (c.SIDEKEY_INJECTOR_NAMESPACE !== undefined) excluded.add(c.SIDEKEY_INJECTOR_NAMESPACE);
  return {
    port: c.SIDEKEY_INJECTOR_PORT,
    tlsCertFile: c.SIDEKEY_INJECTOR_TLS_CERT_FILE,
    tlsKeyFile: c.SIDEKEY_INJECTOR_TLS_KEY_FILE,
    image: c.SIDEKEY_INJECTOR_IMAGE,
    imagePullPolicy: c.SIDEKEY_INJECTOR_IMAGE_PULL_POLICY,
    mode: c.SIDEKEY_INJECTOR_MODE,
    excludedNamespaces: [...excluded],
    kms,
    postgres:
      c.SIDEKEY_INJECTOR_PG_URL === undefined
        ? undefined
        : { url: c.SIDEKEY_INJECTOR_PG_URL, defaultTlsSecret: c.SIDEKEY_INJECTOR_PG_TLS_SECRET },
    resourceDefaults: {
      ...(c.SIDEKEY_INJECTOR_CPU_REQUEST !== undefined && { cpuRequest: c.SIDEKEY_INJECTOR_CPU_REQUEST }),
      ...(c.SIDEKEY_INJECTOR_CPU_LIMIT !== undefined && { cpuLimit: c.SIDEKEY_INJECTOR_CPU_LIMIT }),
      ...(c.SIDEKEY_INJECTOR_MEMORY_REQUEST !== undefined && {
        memoryRequest: c.SIDEKEY_INJECTOR_MEMORY_REQUEST,
      }),
      ...(c.SIDEKEY_INJECTOR_MEMORY_LIMIT !== undefined && { memoryLimit: c.SIDEKEY_INJECTOR_MEMORY_LIMIT }),
    },
  };
}
