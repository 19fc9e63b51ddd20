/**
 * The `aws` KEK: an AWS KMS symmetric key, used through @aws-sdk/client-kms.
 *
 * - wrap = `Encrypt`, unwrap = `Decrypt`, each with the encryption context
 *   as KMS's `EncryptionContext`: KMS itself binds it (AAD) and refuses a
 *   decrypt under any other context; IAM policies can condition on it.
 * - The wrapped bytes are the KMS `CiphertextBlob` as returned.
 * - `Decrypt` names the configured key (`KeyId`), so a blob made under any
 *   other key is refused (`IncorrectKeyException`) instead of being
 *   decrypted with whatever key the blob points to.
 * - Region and credentials come from the SDK's default chain (env, profile,
 *   IRSA / EKS pod identity, instance metadata); the endpoint from the SDK's
 *   own `AWS_ENDPOINT_URL_KMS` (passed through by the config loader).
 * - Bounded: a connect and a request timeout, and a small retry budget with
 *   jittered exponential backoff for throttling, 5xx and network errors.
 */
import {
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  KMSClient,
  type KMSClientConfig,
} from '@aws-sdk/client-kms';
import { type EncryptionContext, type KekPort, KmsError, type KmsErrorKind, type KmsHealth } from './port.js';

export interface AwsKekOptions {
  /** Key id, key ARN, alias name (`alias/…`) or alias ARN, as configured. */
  readonly keyId: string;
  /** Default: the region of a key or alias ARN, else the SDK's default chain. */
  readonly region?: string;
  /** Default: the SDK's own resolution (`AWS_ENDPOINT_URL_KMS`, then AWS). */
  readonly endpoint?: string;
  /** Attempts per call, first one included. Default 3. */
  readonly maxAttempts?: number;
  /** Default 2000 ms. */
  readonly connectTimeoutMs?: number;
  /** Default 5000 ms. */
  readonly requestTimeoutMs?: number;
  /** First retry waits up to this long (full jitter), doubling after. Default 100 ms. */
  readonly retryBaseDelayMs?: number;
  /** Anything else for the SDK client (tests: credentials). */
  readonly clientConfig?: Omit<KMSClientConfig, 'region' | 'endpoint' | 'maxAttempts' | 'retryStrategy'>;
}

export const awsKekRef = (keyId: string): string => `aws:${keyId}`;

export class AwsKek implements KekPort {
  readonly provider = 'aws' as const;
  readonly kekRef: string;
  private readonly client: KMSClient;
  private readonly keyId: string;

  constructor(options: AwsKekOptions) {
    this.keyId = options.keyId;
    this.kekRef = awsKekRef(options.keyId);
    const maxAttempts = options.maxAttempts ?? 3;
    const region = options.region ?? regionOfArn(options.keyId);
    this.client = new KMSClient({
      ...options.clientConfig,
      ...(region !== undefined && { region }),
      ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
      maxAttempts,
      retryStrategy: boundedRetryStrategy(maxAttempts, options.retryBaseDelayMs ?? 100),
      requestHandler: {
        connectionTimeout: options.connectTimeoutMs ?? 2000,
        requestTimeout: options.requestTimeoutMs ?? 5000,
        throwOnRequestTimeout: true,
      },
    });
  }

  async wrap(plaintext: Uint8Array, context: EncryptionContext): Promise<Buffer> {
    try {
      const out = await this.client.send(
        new EncryptCommand({ KeyId: this.keyId, Plaintext: plaintext, EncryptionContext: { ...context } }),
      );
      if (out.CiphertextBlob === undefined)
        throw new KmsError('unavailable', 'aws kms: Encrypt returned no ciphertext');
      return Buffer.from(out.CiphertextBlob);
    } catch (err) {
      throw this.toKmsError(err, 'Encrypt');
    }
  }

  async unwrap(wrapped: Uint8Array, context: EncryptionContext): Promise<Buffer> {
    if (wrapped.length === 0) throw new KmsError('integrity', 'aws kms: wrapped key is empty');
    try {
      const out = await this.client.send(
        new DecryptCommand({ KeyId: this.keyId, CiphertextBlob: wrapped, EncryptionContext: { ...context } }),
      );
      if (out.Plaintext === undefined)
        throw new KmsError('unavailable', 'aws kms: Decrypt returned no plaintext');
      const plain = Buffer.from(out.Plaintext);
      out.Plaintext.fill(0);
      return plain;
    } catch (err) {
      throw this.toKmsError(err, 'Decrypt');
    }
  }

  /**
   * `DescribeKey`: reachable, allowed, and a key sidekey can use (enabled,
   * symmetric, for encryption). Cheap, and outside the cryptographic request
   * quota; Encrypt and Decrypt permissions are only proven by use.
   */
  async health(): Promise<KmsHealth> {
    try {
      const out = await this.client.send(new DescribeKeyCommand({ KeyId: this.keyId }));
      const meta = out.KeyMetadata;
      if (meta === undefined)
        return { ok: false, reason: `aws kms: DescribeKey of ${this.keyId} returned nothing` };
      if (meta.KeyState !== 'Enabled') {
        return { ok: false, reason: `aws kms: key ${this.keyId} is ${meta.KeyState ?? 'not enabled'}` };
      }
      if (meta.KeyUsage !== 'ENCRYPT_DECRYPT' || meta.KeySpec !== 'SYMMETRIC_DEFAULT') {
        return {
          ok: false,
          reason: `aws kms: key ${this.keyId} is ${meta.KeySpec}/${meta.KeyUsage}; sidekey needs a SYMMETRIC_DEFAULT ENCRYPT_DECRYPT key`,
        };
      }
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: this.toKmsError(err, 'DescribeKey').message };
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private toKmsError(err: unknown, operation: string): KmsError {
    if (err instanceof KmsError) return err;
    const name = errorName(err);
    const kind = classifyAwsError(err);
    const key = this.keyId;
    switch (kind) {
      case 'integrity':
        return new KmsError(
          'integrity',
          `aws kms: ${operation} refused the wrapped key: tampered, wrong encryption context or another key (${name})`,
        );
      case 'denied':
        return new KmsError('denied', `aws kms: ${describeDenial(name, key)} (${name}: ${awsMessage(err)})`);
      case 'unavailable':
        return new KmsError(
          'unavailable',
          `aws kms: ${operation} on ${key} unavailable (${name}); retry later`,
        );
    }
  }
}

/** Maps an SDK or network error to a KmsErrorKind. Exported for tests. */
export function classifyAwsError(err: unknown): KmsErrorKind {
  const name = errorName(err);
  if (INTEGRITY.has(name)) return 'integrity';
  if (UNAVAILABLE.has(name)) return 'unavailable';
  if (DENIED.has(name)) return 'denied';
  const e = err as { $fault?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  const status = e?.$metadata?.httpStatusCode;
  if (e?.$fault === 'server' || (status !== undefined && status >= 500)) return 'unavailable';
  // An answer from KMS we do not know: a refusal. No answer at all: network.
  return status !== undefined && status >= 400 ? 'denied' : 'unavailable';
}

const INTEGRITY = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);
const UNAVAILABLE = new Set([
  'ThrottlingException',
  'LimitExceededException',
  'KMSInternalException',
  'DependencyTimeoutException',
  'KeyUnavailableException',
  'ServiceUnavailableException',
  'InternalFailure',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'AbortError',
]);
const DENIED = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignature',
  'MissingAuthenticationTokenException',
  'ExpiredTokenException',
  'CredentialsProviderError',
  'DisabledException',
  'KMSInvalidStateException',
  'NotFoundException',
  'InvalidKeyUsageException',
  'InvalidArnException',
  'ValidationException',
]);

function describeDenial(name: string, key: string): string {
  switch (name) {
    case 'AccessDeniedException':
    case 'AccessDenied':
      return `access denied to key ${key}`;
    case 'NotFoundException':
    case 'InvalidArnException':
      return `key ${key} not found in this account and region`;
    case 'DisabledException':
      return `key ${key} is disabled`;
    case 'KMSInvalidStateException':
      return `key ${key} is not in a usable state`;
    case 'InvalidKeyUsageException':
      return `key ${key} cannot encrypt and decrypt`;
    case 'CredentialsProviderError':
      return 'no AWS credentials found (default chain: env, profile, web identity, instance metadata)';
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'IncompleteSignature':
    case 'MissingAuthenticationTokenException':
    case 'ExpiredTokenException':
      return 'AWS credentials were refused';
    default:
      return `request for key ${key} refused`;
  }
}

function errorName(err: unknown): string {
  if (typeof err !== 'object' || err === null) return 'Error';
  const e = err as { name?: unknown; code?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  // Node network errors carry the useful part in `code` (ECONNREFUSED, …).
  return name === 'Error' && code !== undefined ? code : name;
}

/** KMS messages name principals, keys and actions, never key material; clipped anyway. */
function awsMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const clean = message.replace(/[^\x20-\x7e]/g, ' ').trim();
  return clean.length > 300 ? `${clean.slice(0, 300)}…` : clean || 'no message';
}

function regionOfArn(keyId: string): string | undefined {
  const parts = keyId.split(':');
  return parts[0] === 'arn' && parts[2] === 'kms' && parts[3] !== '' ? parts[3] : undefined;
}

type RetryStrategyV2 = Extract<
  NonNullable<KMSClientConfig['retryStrategy']>,
  { acquireInitialRetryToken: unknown }
>;
type RetryToken = Awaited<ReturnType<RetryStrategyV2['acquireInitialRetryToken']>>;

/**
 * The SDK's standard strategy waits up to 1 s, then 2 s, for throttling; a
 * sidecar serving requests would rather fail fast as UNAVAILABLE and let the
 * caller retry. Same classification as the SDK (its errorType), our budget.
 */
function boundedRetryStrategy(maxAttempts: number, baseDelayMs: number): RetryStrategyV2 {
  const token = (count: number, delay: number): RetryToken => ({
    getRetryCount: () => count,
    getRetryDelay: () => delay,
  });
  return {
    acquireInitialRetryToken: async () => token(0, 0),
    refreshRetryTokenForRetry: async (previous, info) => {
      const count = previous.getRetryCount() + 1;
      if (info.errorType === 'CLIENT_ERROR' || count >= maxAttempts)
        throw info.error ?? new Error('no retry');
      const cap = Math.min(baseDelayMs * 2 ** (count - 1), 2000);
      return token(count, Math.floor(Math.random() * cap));
    },
    recordSuccess: () => {},
  };
}
