/**
 * The one configuration schema (API.md "Configuration names"). Keys are the
 * environment variable names, so a validation error names exactly the
 * setting to fix. Parsed once at start by load.ts.
 */
import { isAbsolute, join, resolve } from 'node:path';
// zod's v3 API (shipped in the same package): one module of about 3 MiB
// resident, where `zod` (v4) loads its 64 locales and core, 13 to 20 MiB,
// for a schema parsed once at start (ADR-19).
import { z } from 'zod/v3';
import { type KekSpec, parseKekRefList } from '../kms/kek-ref.js';
import { isLoopbackHost } from './loopback.js';

const TENANT = /^[a-z0-9][a-z0-9-]{0,62}$/;

const int = (min: number, max: number, dflt: number) =>
  z.coerce.number().int().min(min).max(max).default(dflt);
const bool = (dflt: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(dflt ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** Every setting, before the checks across settings (test/docs reads its keys). */
export const rawConfigObject = z.object({
  SIDEKEY_DATA_DIR: z.string().min(1).default('./.sidekey'),
  SIDEKEY_HTTP_HOST: z.string().default('127.0.0.1').refine(isLoopbackHost, {
    message: 'must be a loopback address (127.0.0.0/8, ::1 or localhost): sidekey serves loopback only',
  }),
  SIDEKEY_HTTP_PORT: int(0, 65535, 7600),
  SIDEKEY_GRPC_SOCKET: optionalString.refine((v) => v === undefined || isAbsolute(v), {
    message: 'must be an absolute path',
  }),

  SIDEKEY_STORE: z.enum(['embedded', 'postgres']).default('embedded'),
  SIDEKEY_PG_URL: optionalString.refine((v) => v === undefined || !/^[a-z]+:\/\/[^/@]*:[^/@]*@/i.test(v), {
    message: 'must not contain a password: the client certificate is the credential',
  }),
  SIDEKEY_PG_CA_FILE: optionalString,
  SIDEKEY_PG_CERT_FILE: optionalString,
  SIDEKEY_PG_KEY_FILE: optionalString,

  SIDEKEY_KMS: z.enum(['local', 'aws', 'vault']).default('local'),
  SIDEKEY_KMS_KEY_ID: optionalString,
  // KEKs this process may also unwrap with (KEK rotation): `local`, `aws:<key>`, `vault:<key>`.
  SIDEKEY_KMS_PREVIOUS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      try {
        return parseKekRefList(v);
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: `must be a comma-separated list of KEK references: ${(err as Error).message}`,
        });
        return z.NEVER;
      }
    }),
  AWS_REGION: optionalString,
  AWS_ENDPOINT_URL_KMS: optionalString,
  VAULT_ADDR: optionalString,
  VAULT_TOKEN: optionalString,
  VAULT_CACERT: optionalString,
  SIDEKEY_VAULT_TOKEN_FILE: optionalString,
  SIDEKEY_VAULT_K8S_ROLE: optionalString,
  SIDEKEY_VAULT_TRANSIT_MOUNT: z.string().default('transit'),

  SIDEKEY_TENANTS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== ''),
    )
    .refine((list) => list.every((t) => TENANT.test(t)), {
      message: 'must be a comma-separated list of tenant names',
    }),
  SIDEKEY_CLIENT_TOKEN_FILE: optionalString,
  SIDEKEY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  SIDEKEY_MAX_BATCH: int(1, 100_000, 1000),
  SIDEKEY_MAX_VALUE_BYTES: int(1, 16 * 1024 * 1024, 64 * 1024),
  SIDEKEY_MAX_BODY_BYTES: int(1024, 256 * 1024 * 1024, 8 * 1024 * 1024),
  SIDEKEY_TEK_CACHE_TTL_SECONDS: int(1, 86_400, 300),
  SIDEKEY_ORK_CACHE_TTL_SECONDS: int(1, 86_400, 60),
  SIDEKEY_POLICY_CACHE_TTL_SECONDS: int(1, 86_400, 60),
  // How often a sidecar records itself in the fleet registry (postgres).
  SIDEKEY_FLEET_HEARTBEAT_SECONDS: int(1, 3_600, 15),
  SIDEKEY_KEY_CACHE_MAX: int(16, 10_000_000, 10_000),
  SIDEKEY_RECORD_CACHE_MAX: int(0, 10_000_000, 10_000),
  SIDEKEY_WRITER_MAX_ROWS: int(1, 100_000, 5000),
  SIDEKEY_WRITER_MAX_IN_FLIGHT: int(1, 64, 4),
  SIDEKEY_RATE_LIMIT_RPS: int(0, 10_000_000, 0),
  SIDEKEY_RATE_LIMIT_BURST: int(0, 10_000_000, 0),
  SIDEKEY_AUDIT_DURABLE_REVEAL: bool(true),
  // Where a reveal's audit event is made durable before it is answered (ADR-17).
  SIDEKEY_AUDIT_DURABILITY: z.enum(['store', 'spool']).default('spool'),
  SIDEKEY_AUDIT_SPOOL_MAX_EVENTS: int(1, 10_000_000, 10_000),
  // When the spool fdatasyncs: before each answer (`each`) or every 10 ms, off the answer's path (`interval`; ADR-20).
  SIDEKEY_AUDIT_SPOOL_SYNC: z.enum(['each', 'interval']).default('interval'),
  SIDEKEY_SHUTDOWN_TIMEOUT_SECONDS: int(1, 600, 20),
  SIDEKEY_BOOTSTRAP_DEMO: z.enum(['true', 'false', 'auto']).default('auto'),
});

export const rawConfigSchema = rawConfigObject.superRefine((c, ctx) => {
  if (c.SIDEKEY_STORE === 'postgres') {
    for (const k of [
      'SIDEKEY_PG_URL',
      'SIDEKEY_PG_CA_FILE',
      'SIDEKEY_PG_CERT_FILE',
      'SIDEKEY_PG_KEY_FILE',
    ] as const) {
      if (c[k] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [k],
          message: 'is required with SIDEKEY_STORE=postgres (TLS with a client certificate is mandatory)',
        });
      }
    }
  }
  if (c.SIDEKEY_KMS !== 'local' && c.SIDEKEY_KMS_KEY_ID === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['SIDEKEY_KMS_KEY_ID'],
      message: `is required with SIDEKEY_KMS=${c.SIDEKEY_KMS}`,
    });
  }
  if (c.SIDEKEY_KMS === 'vault' && c.VAULT_ADDR === undefined) {
    ctx.addIssue({ code: 'custom', path: ['VAULT_ADDR'], message: 'is required with SIDEKEY_KMS=vault' });
  }
  // A list that failed to parse is z.NEVER here (its issue is reported already).
  const previous = Array.isArray(c.SIDEKEY_KMS_PREVIOUS) ? c.SIDEKEY_KMS_PREVIOUS : [];
  if (c.VAULT_ADDR === undefined && previous.some((k) => k.provider === 'vault')) {
    ctx.addIssue({
      code: 'custom',
      path: ['VAULT_ADDR'],
      message: 'is required when SIDEKEY_KMS_PREVIOUS names a vault: KEK',
    });
  }
});

export type RawConfig = z.output<typeof rawConfigSchema>;

export type KmsConfig =
  | { readonly provider: 'local' }
  | { readonly provider: 'aws'; readonly keyId: string; readonly region?: string; readonly endpoint?: string }
  | {
      readonly provider: 'vault';
      readonly keyId: string;
      readonly addr: string;
      readonly token?: string;
      readonly tokenFile?: string;
      readonly k8sRole?: string;
      readonly transitMount: string;
      readonly caCertFile?: string;
    };

/**
 * Each provider's settings whatever the primary KEK is: a previous KEK
 * (`SIDEKEY_KMS_PREVIOUS`) or a rotation target (`--to`) of another provider
 * uses them.
 */
export interface KmsSettings {
  readonly aws: { readonly region?: string; readonly endpoint?: string };
  readonly vault: {
    readonly addr?: string;
    readonly token?: string;
    readonly tokenFile?: string;
    readonly k8sRole?: string;
    readonly transitMount: string;
    readonly caCertFile?: string;
  };
}

export type StoreConfig =
  | { readonly kind: 'embedded' }
  | {
      readonly kind: 'postgres';
      readonly url: string;
      readonly caFile: string;
      readonly certFile: string;
      readonly keyFile: string;
    };

export interface Config {
  readonly dataDir: string;
  readonly http: { readonly host: string; readonly port: number };
  readonly grpcSocket: string;
  readonly store: StoreConfig;
  readonly kms: KmsConfig;
  /** KEKs this process can also unwrap with (`SIDEKEY_KMS_PREVIOUS`); the primary wraps. */
  readonly kmsPrevious: readonly KekSpec[];
  readonly kmsSettings: KmsSettings;
  /** Empty: every tenant. */
  readonly tenants: readonly string[];
  readonly clientTokenFile: string | undefined;
  readonly logLevel: RawConfig['SIDEKEY_LOG_LEVEL'];
  readonly limits: {
    readonly maxBatch: number;
    readonly maxValueBytes: number;
    readonly maxBodyBytes: number;
  };
  readonly caches: {
    readonly tekTtlMs: number;
    readonly orkTtlMs: number;
    /** How long a field policy stays cached (bounds staleness after a missed notification). */
    readonly policyTtlMs: number;
    readonly maxKeys: number;
    readonly maxRecords: number;
  };
  readonly writer: { readonly maxRows: number; readonly maxInFlight: number };
  /** The fleet registry heartbeat (src/fleet). */
  readonly fleet: { readonly heartbeatSeconds: number };
  /** Requests per second and burst; undefined when SIDEKEY_RATE_LIMIT_RPS is 0 (unlimited). */
  readonly rateLimit: { readonly rate: number; readonly burst: number } | undefined;
  readonly audit: {
    readonly durableReveal: boolean;
    /** `store`: a reveal waits for its event's commit; `spool`: for its fdatasync in the audit spool. */
    readonly durability: 'store' | 'spool';
    /** Spooled events not yet stored, at most (then fail closed). */
    readonly spoolMaxEvents: number;
    /** `each`: a reveal waits for the fdatasync; `interval`: for the write, synced every SPOOL_SYNC_INTERVAL_MS (ADR-20). */
    readonly spoolSync: 'each' | 'interval';
  };
  readonly shutdownTimeoutMs: number;
  readonly bootstrapDemo: boolean;
}

export function toConfig(raw: RawConfig, cwd: string): Config {
  const dataDir = resolve(cwd, raw.SIDEKEY_DATA_DIR);
  const store: StoreConfig =
    raw.SIDEKEY_STORE === 'postgres'
      ? {
          kind: 'postgres',
          url: raw.SIDEKEY_PG_URL!,
          caFile: raw.SIDEKEY_PG_CA_FILE!,
          certFile: raw.SIDEKEY_PG_CERT_FILE!,
          keyFile: raw.SIDEKEY_PG_KEY_FILE!,
        }
      : { kind: 'embedded' };
  const kms: KmsConfig =
    raw.SIDEKEY_KMS === 'aws'
      ? {
          provider: 'aws',
          keyId: raw.SIDEKEY_KMS_KEY_ID!,
          ...(raw.AWS_REGION && { region: raw.AWS_REGION }),
          ...(raw.AWS_ENDPOINT_URL_KMS && { endpoint: raw.AWS_ENDPOINT_URL_KMS }),
        }
      : raw.SIDEKEY_KMS === 'vault'
        ? {
            provider: 'vault',
            keyId: raw.SIDEKEY_KMS_KEY_ID!,
            addr: raw.VAULT_ADDR!,
            transitMount: raw.SIDEKEY_VAULT_TRANSIT_MOUNT,
            ...(raw.VAULT_TOKEN && { token: raw.VAULT_TOKEN }),
            ...(raw.SIDEKEY_VAULT_TOKEN_FILE && { tokenFile: raw.SIDEKEY_VAULT_TOKEN_FILE }),
            ...(raw.SIDEKEY_VAULT_K8S_ROLE && { k8sRole: raw.SIDEKEY_VAULT_K8S_ROLE }),
            ...(raw.VAULT_CACERT && { caCertFile: raw.VAULT_CACERT }),
          }
        : { provider: 'local' };
  const kmsSettings: KmsSettings = {
    aws: {
      ...(raw.AWS_REGION && { region: raw.AWS_REGION }),
      ...(raw.AWS_ENDPOINT_URL_KMS && { endpoint: raw.AWS_ENDPOINT_URL_KMS }),
    },
    vault: {
      transitMount: raw.SIDEKEY_VAULT_TRANSIT_MOUNT,
      ...(raw.VAULT_ADDR && { addr: raw.VAULT_ADDR }),
      ...(raw.VAULT_TOKEN && { token: raw.VAULT_TOKEN }),
      ...(raw.SIDEKEY_VAULT_TOKEN_FILE && { tokenFile: raw.SIDEKEY_VAULT_TOKEN_FILE }),
      ...(raw.SIDEKEY_VAULT_K8S_ROLE && { k8sRole: raw.SIDEKEY_VAULT_K8S_ROLE }),
      ...(raw.VAULT_CACERT && { caCertFile: raw.VAULT_CACERT }),
    },
  };
  return {
    dataDir,
    http: { host: raw.SIDEKEY_HTTP_HOST, port: raw.SIDEKEY_HTTP_PORT },
    grpcSocket: raw.SIDEKEY_GRPC_SOCKET ?? join(dataDir, 'sidekey.sock'),
    store,
    kms,
    kmsPrevious: raw.SIDEKEY_KMS_PREVIOUS,
    kmsSettings,
    tenants: raw.SIDEKEY_TENANTS,
    clientTokenFile: raw.SIDEKEY_CLIENT_TOKEN_FILE,
    logLevel: raw.SIDEKEY_LOG_LEVEL,
    limits: {
      maxBatch: raw.SIDEKEY_MAX_BATCH,
      maxValueBytes: raw.SIDEKEY_MAX_VALUE_BYTES,
      maxBodyBytes: raw.SIDEKEY_MAX_BODY_BYTES,
    },
    caches: {
      tekTtlMs: raw.SIDEKEY_TEK_CACHE_TTL_SECONDS * 1000,
      orkTtlMs: raw.SIDEKEY_ORK_CACHE_TTL_SECONDS * 1000,
      policyTtlMs: raw.SIDEKEY_POLICY_CACHE_TTL_SECONDS * 1000,
      maxKeys: raw.SIDEKEY_KEY_CACHE_MAX,
      maxRecords: raw.SIDEKEY_RECORD_CACHE_MAX,
    },
    writer: { maxRows: raw.SIDEKEY_WRITER_MAX_ROWS, maxInFlight: raw.SIDEKEY_WRITER_MAX_IN_FLIGHT },
    fleet: { heartbeatSeconds: raw.SIDEKEY_FLEET_HEARTBEAT_SECONDS },
    rateLimit:
      raw.SIDEKEY_RATE_LIMIT_RPS === 0
        ? undefined
        : {
            rate: raw.SIDEKEY_RATE_LIMIT_RPS,
            burst: raw.SIDEKEY_RATE_LIMIT_BURST || raw.SIDEKEY_RATE_LIMIT_RPS,
          },
    audit: {
      durableReveal: raw.SIDEKEY_AUDIT_DURABLE_REVEAL,
      durability: raw.SIDEKEY_AUDIT_DURABILITY,
      spoolMaxEvents: raw.SIDEKEY_AUDIT_SPOOL_MAX_EVENTS,
      spoolSync: raw.SIDEKEY_AUDIT_SPOOL_SYNC,
    },
    shutdownTimeoutMs: raw.SIDEKEY_SHUTDOWN_TIMEOUT_SECONDS * 1000,
    bootstrapDemo:
      raw.SIDEKEY_BOOTSTRAP_DEMO === 'auto'
        ? store.kind === 'embedded'
        : raw.SIDEKEY_BOOTSTRAP_DEMO === 'true',
  };
}
