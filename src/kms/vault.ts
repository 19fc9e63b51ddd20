/**
 * The `vault` KEK: a HashiCorp Vault transit key, used through node-vault.
 *
 * Binding the encryption context. Transit has no encryption context for
 * ordinary keys: its `context` parameter is only a key-derivation input for
 * keys created `derived=true`, and Vault silently ignores it for other keys
 * (so relying on it would turn a misconfigured key into a silent loss of
 * binding); `associated_data` exists only in recent Vault versions and is
 * ignored by older ones. So sidekey binds the context itself, inside the
 * plaintext Vault encrypts:
 *
 *   inner    = lp("sidekey/vault-wrap/v1") ‖ SHA-256(canonicalContext(ctx)) ‖ key
 *   wrapped  = the ASCII bytes of Vault's ciphertext `vault:v<N>:…`, as returned
 *
 * Vault's AEAD authenticates `inner`; on unwrap sidekey compares the digest
 * with the expected context's in constant time and refuses any other context
 * (`integrity`). Works with any transit key type that encrypts, any Vault
 * version, and keeps Vault-side key rotation working: the `vault:v<N>:`
 * ciphertext is stored unchanged and Vault picks key version N to decrypt.
 * The label is frozen (docs/kms.md "Vault wrapped format").
 *
 * Failures: 403 → one re-login (or token-file re-read), then `denied`;
 * 400 on decrypt → `integrity`; 412/429/5xx, timeouts and network errors →
 * bounded retries with jittered backoff, then `unavailable`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nodeVault from 'node-vault';
import { canonicalContext, lengthPrefixed, zeroize } from '../crypto/index.js';
import { type EncryptionContext, type KekPort, KmsError, type KmsErrorKind, type KmsHealth } from './port.js';
import { DEFAULT_K8S_TOKEN_PATH, VaultAuth, type VaultHttp } from './vault-auth.js';

/** Frozen: changing it makes every Vault-wrapped key unreadable. */
const WRAP_LABEL = lengthPrefixed('sidekey/vault-wrap/v1');
const DIGEST_BYTES = 32;
const VAULT_CIPHERTEXT = /^vault:v[1-9][0-9]{0,9}:[A-Za-z0-9+/]+={0,2}$/;

export interface VaultKekOptions {
  /** `VAULT_ADDR`. */
  readonly addr: string;
  /** Transit key name (`SIDEKEY_KMS_KEY_ID`). */
  readonly keyName: string;
  /** `SIDEKEY_VAULT_TRANSIT_MOUNT`; default `transit`. */
  readonly transitMount?: string;
  readonly token?: string;
  readonly tokenFile?: string;
  readonly k8sRole?: string;
  /** Mount of the kubernetes auth method; default `kubernetes`. */
  readonly k8sAuthMount?: string;
  /** Service-account token; default the standard in-pod path. */
  readonly k8sTokenPath?: string;
  /** `VAULT_CACERT`: PEM file of the CA that signed Vault's certificate. */
  readonly caCertFile?: string;
  /** Attempts per call, first one included. Default 3. */
  readonly maxAttempts?: number;
  /** Default 5000 ms per HTTP request. */
  readonly requestTimeoutMs?: number;
  /** First retry waits up to this long (full jitter), doubling after. Default 100 ms. */
  readonly retryBaseDelayMs?: number;
  /** Default 2/3 of the lease. */
  readonly renewFraction?: number;
  /** Background problems (token renewal). */
  readonly warn?: (message: string) => void;
}

export const vaultKekRef = (mount: string, keyName: string): string => `vault:${mount}/${keyName}`;

export interface VaultFailure {
  readonly kind: KmsErrorKind;
  readonly message: string;
  /** 403: the token may be expired or revoked; a fresh one may help. */
  readonly tokenRefused: boolean;
}

export class VaultKek implements KekPort {
  readonly provider = 'vault' as const;
  readonly kekRef: string;
  private readonly mount: string;
  private readonly keyName: string;
  private readonly http: VaultHttp;
  private readonly auth: VaultAuth;
  private readonly maxAttempts: number;
  private readonly retryBaseDelayMs: number;

  constructor(options: VaultKekOptions) {
    this.mount = (options.transitMount ?? 'transit').replace(/^\/+|\/+$/g, '');
    this.keyName = options.keyName;
    this.kekRef = vaultKekRef(this.mount, this.keyName);
    this.maxAttempts = options.maxAttempts ?? 3;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 100;
    this.http = nodeVaultHttp(options);
    this.auth = new VaultAuth(failuresAsKmsErrors(this.http), {
      ...(options.token !== undefined && { token: options.token }),
      ...(options.tokenFile !== undefined && { tokenFile: options.tokenFile }),
      ...(options.k8sRole !== undefined && { k8sRole: options.k8sRole }),
      k8sAuthMount: options.k8sAuthMount ?? 'kubernetes',
      k8sTokenPath: options.k8sTokenPath ?? DEFAULT_K8S_TOKEN_PATH,
      renewFraction: options.renewFraction ?? 2 / 3,
      warn: options.warn ?? (() => {}),
    });
  }

  async wrap(plaintext: Uint8Array, context: EncryptionContext): Promise<Buffer> {
    const inner = Buffer.concat([WRAP_LABEL, contextDigest(context), plaintext]);
    let out: unknown;
    try {
      out = await this.call('encrypt', (token) =>
        this.http.write(
          `${this.mount}/encrypt/${this.keyName}`,
          { plaintext: inner.toString('base64') },
          token,
        ),
      );
    } finally {
      zeroize(inner);
    }
    const ciphertext = (out as { data?: { ciphertext?: unknown } }).data?.ciphertext;
    if (typeof ciphertext !== 'string' || !VAULT_CIPHERTEXT.test(ciphertext)) {
      throw new KmsError('unavailable', `vault transit: encrypt with ${this.kekRef} returned no ciphertext`);
    }
    return Buffer.from(ciphertext, 'ascii');
  }

  async unwrap(wrapped: Uint8Array, context: EncryptionContext): Promise<Buffer> {
    const ciphertext = Buffer.from(wrapped).toString('latin1');
    if (!VAULT_CIPHERTEXT.test(ciphertext)) {
      throw new KmsError('integrity', 'vault transit: wrapped key is not a Vault transit ciphertext');
    }
    const out = await this.call('decrypt', (token) =>
      this.http.write(`${this.mount}/decrypt/${this.keyName}`, { ciphertext }, token),
    );
    const encoded = (out as { data?: { plaintext?: unknown } }).data?.plaintext;
    if (typeof encoded !== 'string') {
      throw new KmsError('unavailable', `vault transit: decrypt with ${this.kekRef} returned no plaintext`);
    }
    const inner = Buffer.from(encoded, 'base64');
    try {
      const head = WRAP_LABEL.length + DIGEST_BYTES;
      if (inner.length <= head || !inner.subarray(0, WRAP_LABEL.length).equals(WRAP_LABEL)) {
        throw new KmsError('integrity', 'vault transit: wrapped key was not made by sidekey');
      }
      const digest = contextDigest(context);
      if (!timingSafeEqual(inner.subarray(WRAP_LABEL.length, head), digest)) {
        throw new KmsError('integrity', 'vault transit: wrapped key belongs to another encryption context');
      }
      return Buffer.from(inner.subarray(head));
    } finally {
      zeroize(inner);
    }
  }

  /**
   * Reads the transit key (`<mount>/keys/<name>`): proves Vault is reachable
   * and unsealed, the token valid, and the key present and usable.
   */
  async health(): Promise<KmsHealth> {
    let out: unknown;
    try {
      out = await this.call('read key', (token) =>
        this.http.read(`${this.mount}/keys/${this.keyName}`, token),
      );
    } catch (err) {
      return { ok: false, reason: err instanceof KmsError ? err.message : 'vault: unexpected error' };
    }
    const data = (out as { data?: Record<string, unknown> }).data ?? {};
    if (data.supports_encryption === false || data.supports_decryption === false) {
      return {
        ok: false,
        reason: `vault transit: key ${this.kekRef} (${String(data.type)}) cannot encrypt and decrypt`,
      };
    }
    if (data.derived === true) {
      return {
        ok: false,
        reason: `vault transit: key ${this.kekRef} is a derived key; sidekey binds the context itself and needs a non-derived key`,
      };
    }
    return { ok: true };
  }

  async close(): Promise<void> {
    await this.auth.close();
  }

  /** One logical Vault call: token, bounded retries, one refresh on 403. */
  private async call(operation: string, send: (token: string) => Promise<unknown>): Promise<unknown> {
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      let token: string | undefined;
      let failure: VaultFailure;
      try {
        token = await this.auth.token();
        return await send(token);
      } catch (err) {
        failure =
          err instanceof KmsError
            ? { kind: err.kind, message: err.message, tokenRefused: false }
            : this.classify(err, operation);
      }
      if (failure.tokenRefused && !refreshed && token !== undefined) {
        refreshed = true;
        let fresh = false;
        try {
          fresh = await this.auth.refreshAfterDenied(token);
        } catch (err) {
          if (err instanceof KmsError)
            failure = { kind: err.kind, message: err.message, tokenRefused: false };
        }
        if (fresh) {
          attempt--;
          continue;
        }
      }
      if (failure.kind !== 'unavailable' || attempt >= this.maxAttempts)
        throw new KmsError(failure.kind, failure.message);
      const cap = Math.min(this.retryBaseDelayMs * 2 ** (attempt - 1), 2000);
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * cap)));
    }
  }

  private classify(err: unknown, operation: string): VaultFailure {
    return classifyVaultError(
      err,
      `vault transit: ${operation} with ${this.kekRef}`,
      operation === 'decrypt',
    );
  }
}

/** The auth paths' failures as KmsErrors (login refused: denied; Vault down: unavailable). */
function failuresAsKmsErrors(http: VaultHttp): VaultHttp {
  const convert = (path: string) => (err: unknown) => {
    const failure = classifyVaultError(err, `vault: ${path.replace(/^auth\//, 'auth ')}`, false);
    throw new KmsError(failure.kind, failure.message);
  };
  return {
    read: (path, token) => http.read(path, token).catch(convert(path)),
    write: (path, body, token) => http.write(path, body, token).catch(convert(path)),
  };
}

/**
 * Maps a node-vault (HTTP status) or network error to a failure; `where`
 * starts the message. Exported for tests.
 */
export function classifyVaultError(err: unknown, where: string, decrypting: boolean): VaultFailure {
  const response = (err as { response?: { statusCode?: unknown; body?: unknown } } | undefined)?.response;
  const status = typeof response?.statusCode === 'number' ? response.statusCode : undefined;
  if (status !== undefined) {
    const said = vaultErrors(response?.body);
    if (status === 403)
      return { kind: 'denied', message: `${where}: permission denied (403)`, tokenRefused: true };
    if (status === 412 || status === 429 || status === 472 || status === 473 || status >= 500) {
      return {
        kind: 'unavailable',
        message: `${where}: Vault unavailable (${status}${said}); retry later`,
        tokenRefused: false,
      };
    }
    if (status === 400 && decrypting && !/key not found/i.test(said)) {
      return {
        kind: 'integrity',
        message: `${where}: refused the wrapped key: tampered, too old or another key (400${said})`,
        tokenRefused: false,
      };
    }
    if (status === 404) {
      return {
        kind: 'denied',
        message: `${where}: not found (404${said}); check SIDEKEY_KMS_KEY_ID and SIDEKEY_VAULT_TRANSIT_MOUNT`,
        tokenRefused: false,
      };
    }
    return { kind: 'denied', message: `${where}: refused (${status}${said})`, tokenRefused: false };
  }
  const code = String((err as { code?: unknown } | undefined)?.code ?? '');
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_/.test(code)) {
    return {
      kind: 'denied',
      message: `${where}: Vault's TLS certificate is not trusted (${code}); set VAULT_CACERT to its CA`,
      tokenRefused: false,
    };
  }
  return {
    kind: 'unavailable',
    message: `${where}: Vault unreachable (${code || 'network error'}); retry later`,
    tokenRefused: false,
  };
}

/** Vault's own error strings (`errors`), clipped; they name paths and causes, never tokens or data. */
function vaultErrors(body: unknown): string {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return '';
  const text = errors
    .map(String)
    .join('; ')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text === '' ? '' : `: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}

function contextDigest(context: EncryptionContext): Buffer {
  return createHash('sha256').update(canonicalContext(context)).digest();
}

/**
 * node-vault, with the token passed per request (never its process-wide
 * default: `VAULT_TOKEN` is read by the config, not behind its back), TLS
 * verification always on (`VAULT_SKIP_VERIFY` is not honoured), its debug
 * logging off and a per-request timeout.
 */
function nodeVaultHttp(options: VaultKekOptions): VaultHttp {
  const ca = options.caCertFile === undefined ? undefined : readCaFile(options.caCertFile);
  const client = nodeVault({
    // node-vault's DEBUG=node-vault output includes request bodies: key material.
    debug: () => {},
    endpoint: options.addr,
    requestOptions: {
      timeout: options.requestTimeoutMs ?? 5000,
      strictSSL: true,
      ...(ca !== undefined && { ca }),
    },
  });
  client.token = '';
  const headers = (token: string | undefined) =>
    token === undefined ? {} : { headers: { 'X-Vault-Token': token } };
  return {
    read: (path, token) => client.read(path, headers(token)),
    write: (path, body, token) => client.write(path, body, headers(token)),
  };
}

function readCaFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`VAULT_CACERT: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
