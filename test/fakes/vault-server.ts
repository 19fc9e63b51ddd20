/**
 * A wire-compatible HashiCorp Vault test server: the HTTP API (`/v1/…`,
 * `X-Vault-Token`, JSON bodies, `{"errors":[…]}`) for what sidekey uses —
 * the transit engine (encrypt, decrypt, key read, create, rotate, config),
 * token self-service (lookup-self, renew-self, revoke-self), kubernetes auth
 * login and sys/health. node-vault talks to it over loopback HTTP (or HTTPS
 * when given a certificate).
 *
 * Where sidekey depends on it, it behaves like Vault:
 * - transit ciphertexts are `vault:v<N>:base64(nonce ‖ AES-256-GCM ‖ tag)`,
 *   N the key version; rotation adds a version and old ciphertexts still
 *   decrypt unless below `min_decryption_version`; tampering fails with
 *   `cipher: message authentication failed` (400);
 * - encrypting under a key that does not exist needs `create` (which the
 *   sidekey policy does not grant): 403; decrypting gives 400
 *   `encryption key not found`;
 * - tokens have a TTL, may be renewable up to a max TTL, can be revoked;
 *   an unknown, expired or revoked token gets 403 `permission denied`, and a
 *   token whose policy lacks the path gets Vault's multi-error 403;
 * - kubernetes login checks role and service-account JWT;
 * - sealed: 503 `Vault is sealed`; down (connection refused) and hanging
 *   (no answer) can be switched on.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { HttpFake } from './http-fake.js';

interface TransitKey {
  /** Key material, index = version - 1. */
  readonly versions: Buffer[];
  readonly created: number[];
  minDecryptionVersion: number;
  readonly derived: boolean;
}

interface TokenRecord {
  readonly token: string;
  readonly accessor: string;
  /** Seconds the token lives after creation or renewal; 0 = never expires. */
  readonly ttl: number;
  readonly renewable: boolean;
  /** Absolute ms after which no renewal extends it; undefined = no cap. */
  readonly maxExpiresAt: number | undefined;
  expiresAt: number | undefined;
  revoked: boolean;
  /** Path globs (`*` at the end) the token's policy allows; undefined = everything. */
  readonly allow: readonly string[] | undefined;
  readonly source: string;
  /** ms epoch of the login or creation that issued it. */
  readonly issuedAt: number;
}

export interface FakeVaultTokenOptions {
  /** Seconds; 0 = no expiry (like a root token). Default 3600. */
  readonly ttl?: number;
  readonly renewable?: boolean;
  /** Seconds from creation after which renewals stop extending. */
  readonly maxTtl?: number;
  /** Path globs the token may use (e.g. `transit/encrypt/*`); default all. */
  readonly allow?: readonly string[];
}

export interface FakeVaultOptions {
  readonly mount?: string;
  readonly k8sMount?: string;
  /** PEM key and certificate: serve HTTPS. */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
}

class VaultFault extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors[0] ?? String(status));
  }
}

const PERMISSION_DENIED = () => new VaultFault(403, ['permission denied']);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export class FakeVault extends HttpFake {
  readonly mount: string;
  readonly k8sMount: string;
  /** Requests by `METHOD path` (without /v1/), in order. */
  readonly requests: string[] = [];
  private readonly keys = new Map<string, TransitKey>();
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly k8sRoles = new Map<string, { jwt: string; token: FakeVaultTokenOptions }>();
  private sealed = false;

  private constructor(private readonly options: FakeVaultOptions) {
    super();
    this.mount = options.mount ?? 'transit';
    this.k8sMount = options.k8sMount ?? 'kubernetes';
  }

  static async start(options: FakeVaultOptions = {}): Promise<FakeVault> {
    const fake = new FakeVault(options);
    await fake.listen(0);
    return fake;
  }

  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  createKey(name: string, options: { derived?: boolean } = {}): void {
    this.keys.set(name, {
      versions: [randomBytes(32)],
      created: [Date.now()],
      minDecryptionVersion: 1,
      derived: options.derived ?? false,
    });
  }

  rotateKey(name: string): number {
    const key = this.mustKey(name);
    key.versions.push(randomBytes(32));
    key.created.push(Date.now());
    return key.versions.length;
  }

  setMinDecryptionVersion(name: string, version: number): void {
    this.mustKey(name).minDecryptionVersion = version;
  }

  createToken(options: FakeVaultTokenOptions = {}, source = 'token'): string {
    const token = `hvs.${randomBytes(18).toString('base64url')}`;
    const ttl = options.ttl ?? 3600;
    const now = Date.now();
    this.tokens.set(token, {
      token,
      accessor: randomBytes(12).toString('base64url'),
      ttl,
      renewable: options.renewable ?? true,
      maxExpiresAt: options.maxTtl === undefined ? undefined : now + options.maxTtl * 1000,
      expiresAt: ttl === 0 ? undefined : now + ttl * 1000,
      revoked: false,
      allow: options.allow,
      source,
      issuedAt: now,
    });
    return token;
  }

  revokeToken(token: string): void {
    const record = this.tokens.get(token);
    if (record) record.revoked = true;
  }

  /** Revokes every token issued through kubernetes login (or every token). */
  revokeAll(source?: string): void {
    for (const t of this.tokens.values()) if (source === undefined || t.source === source) t.revoked = true;
  }

  /** Tokens currently valid, by how they were issued. */
  liveTokens(source?: string): string[] {
    return [...this.tokens.values()]
      .filter((t) => (source === undefined || t.source === source) && this.isLive(t))
      .map((t) => t.token);
  }

  /** Every token issued through `source`, oldest first, with when it was issued and its max TTL. */
  issued(source: string): { token: string; issuedAt: number; maxExpiresAt: number | undefined }[] {
    return [...this.tokens.values()]
      .filter((t) => t.source === source)
      .map((t) => ({ token: t.token, issuedAt: t.issuedAt, maxExpiresAt: t.maxExpiresAt }));
  }

  createK8sRole(role: string, jwt: string, token: FakeVaultTokenOptions = {}): void {
    this.k8sRoles.set(role, { jwt, token });
  }

  count(prefix: string): number {
    return this.requests.filter((r) => r.startsWith(prefix)).length;
  }

  seal(on: boolean): void {
    this.sealed = on;
  }

  protected newServer(): Server {
    return this.options.tls
      ? createHttpsServer({ key: this.options.tls.key, cert: this.options.tls.cert })
      : createHttpServer();
  }

  protected internalError(res: ServerResponse, err: unknown): void {
    send(res, 500, { errors: [String(err)] });
  }

  protected async respond(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://vault');
    const path = url.pathname.startsWith('/v1/') ? url.pathname.slice(4) : '';
    const method = req.method ?? 'GET';
    this.requests.push(`${method} ${path}`);
    try {
      let body: Record<string, unknown> = {};
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
        } catch {
          throw new VaultFault(400, ['failed to parse JSON input']);
        }
      }
      const out = this.route(method, path, body, headerToken(req));
      if (out === undefined) {
        res.writeHead(204);
        res.end();
      } else send(res, path === 'sys/health' && this.sealed ? 503 : 200, out);
    } catch (err) {
      if (!(err instanceof VaultFault)) throw err;
      send(res, err.status, { errors: err.errors });
    }
  }

  private route(
    method: string,
    path: string,
    body: Record<string, unknown>,
    token: string | undefined,
  ): unknown {
    if (path === 'sys/health') {
      return {
        initialized: true,
        sealed: this.sealed,
        standby: false,
        version: '1.17.0+fake',
        cluster_name: 'fake',
      };
    }
    if (this.sealed) throw new VaultFault(503, ['Vault is sealed']);
    if (method === 'POST' && path === `auth/${this.k8sMount}/login`) return this.k8sLogin(body);
    const record = this.authorize(token, path);
    switch (`${method} ${path}`) {
      case 'GET auth/token/lookup-self':
        return { data: this.tokenData(record) };
      case 'POST auth/token/renew-self':
        return this.renew(record);
      case 'POST auth/token/revoke-self':
        record.revoked = true;
        return undefined;
    }
    const prefix = `${this.mount}/`;
    if (path.startsWith(prefix)) {
      const [action, name, extra] = path.slice(prefix.length).split('/');
      if (name !== undefined && name !== '') {
        if (method === 'POST' && action === 'encrypt' && extra === undefined) return this.encrypt(name, body);
        if (method === 'POST' && action === 'decrypt' && extra === undefined) return this.decrypt(name, body);
        if (action === 'keys' && extra === undefined && method === 'GET') return this.readKey(name);
        if (action === 'keys' && extra === undefined && method === 'POST') {
          if (!this.keys.has(name)) this.createKey(name, { derived: body.derived === true });
          return undefined;
        }
        if (action === 'keys' && extra === 'rotate' && method === 'POST') {
          this.rotateKey(name);
          return this.readKey(name);
        }
        if (action === 'keys' && extra === 'config' && method === 'POST') {
          if (typeof body.min_decryption_version === 'number') {
            this.setMinDecryptionVersion(name, body.min_decryption_version);
          }
          return this.readKey(name);
        }
      }
    }
    throw new VaultFault(404, [`no handler for route "${path}". route entry not found.`]);
  }

  private authorize(token: string | undefined, path: string): TokenRecord {
    const record = token === undefined ? undefined : this.tokens.get(token);
    if (record === undefined || !this.isLive(record)) throw PERMISSION_DENIED();
    const selfService = path.startsWith('auth/token/') && path.endsWith('-self');
    if (!selfService && record.allow !== undefined && !record.allow.some((glob) => matches(glob, path))) {
      throw new VaultFault(403, ['1 error occurred:\n\t* permission denied\n\n']);
    }
    return record;
  }

  private isLive(t: TokenRecord): boolean {
    return !t.revoked && (t.expiresAt === undefined || Date.now() < t.expiresAt);
  }

  private k8sLogin(body: Record<string, unknown>): unknown {
    const role = typeof body.role === 'string' ? body.role : '';
    const jwt = typeof body.jwt === 'string' ? body.jwt : '';
    if (role === '') throw new VaultFault(400, ['missing role']);
    if (jwt === '') throw new VaultFault(400, ['missing jwt']);
    const config = this.k8sRoles.get(role);
    if (config === undefined) throw new VaultFault(400, [`invalid role name "${role}"`]);
    if (jwt !== config.jwt) throw PERMISSION_DENIED();
    const token = this.createToken(config.token, 'kubernetes');
    const record = this.tokens.get(token)!;
    return {
      request_id: randomUUID(),
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      data: null,
      auth: {
        client_token: token,
        accessor: record.accessor,
        policies: ['default', 'sidekey'],
        token_policies: ['default', 'sidekey'],
        metadata: { role, service_account_name: 'sidekey', service_account_namespace: 'default' },
        lease_duration: record.ttl,
        renewable: record.renewable,
        entity_id: randomUUID(),
        token_type: 'service',
        orphan: true,
      },
    };
  }

  private tokenData(t: TokenRecord): unknown {
    const ttl = t.expiresAt === undefined ? 0 : Math.max(0, Math.round((t.expiresAt - Date.now()) / 1000));
    return {
      accessor: t.accessor,
      creation_ttl: t.ttl,
      expire_time: t.expiresAt === undefined ? null : new Date(t.expiresAt).toISOString(),
      explicit_max_ttl: 0,
      id: t.token,
      policies: ['default', 'sidekey'],
      renewable: t.renewable,
      ttl,
      type: 'service',
    };
  }

  private renew(t: TokenRecord): unknown {
    if (!t.renewable || t.expiresAt === undefined) throw new VaultFault(400, ['lease is not renewable']);
    const now = Date.now();
    let expiresAt = now + t.ttl * 1000;
    if (t.maxExpiresAt !== undefined) expiresAt = Math.min(expiresAt, t.maxExpiresAt);
    t.expiresAt = expiresAt;
    return {
      request_id: randomUUID(),
      auth: {
        client_token: t.token,
        accessor: t.accessor,
        policies: ['default', 'sidekey'],
        lease_duration: Math.max(0, Math.floor((expiresAt - now) / 1000)),
        renewable: true,
      },
    };
  }

  private encrypt(name: string, body: Record<string, unknown>): unknown {
    const key = this.keys.get(name);
    // Encrypting under a missing key would create it: needs `create`, which sidekey's policy lacks.
    if (key === undefined) throw PERMISSION_DENIED();
    const plaintext = body.plaintext;
    if (typeof plaintext !== 'string' || !BASE64.test(plaintext)) {
      throw new VaultFault(400, ['failed to base64-decode plaintext']);
    }
    if (key.derived && typeof body.context !== 'string') {
      throw new VaultFault(400, [
        "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key",
      ]);
    }
    const version = key.versions.length;
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.versions[version - 1]!, nonce);
    const ct = Buffer.concat([
      cipher.update(Buffer.from(plaintext, 'base64')),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return {
      request_id: randomUUID(),
      data: {
        ciphertext: `vault:v${version}:${Buffer.concat([nonce, ct]).toString('base64')}`,
        key_version: version,
      },
    };
  }

  private decrypt(name: string, body: Record<string, unknown>): unknown {
    const key = this.keys.get(name);
    if (key === undefined) throw new VaultFault(400, ['encryption key not found']);
    const ciphertext = typeof body.ciphertext === 'string' ? body.ciphertext : '';
    if (ciphertext === '') throw new VaultFault(400, ['missing ciphertext to decrypt']);
    if (!ciphertext.startsWith('vault:')) throw new VaultFault(400, ['invalid ciphertext: no prefix']);
    const parts = ciphertext.split(':');
    if (parts.length !== 3) throw new VaultFault(400, ['invalid ciphertext: wrong number of fields']);
    const versionText = parts[1]!;
    if (!/^v\d+$/.test(versionText))
      throw new VaultFault(400, ['invalid ciphertext: version number could not be decoded']);
    const version = Number(versionText.slice(1));
    if (version < 1 || version > key.versions.length) throw new VaultFault(400, ['invalid key version']);
    if (version < key.minDecryptionVersion) {
      throw new VaultFault(400, ['ciphertext or signature version is disallowed by policy (too old)']);
    }
    const data = parts[2]!;
    if (!BASE64.test(data)) throw new VaultFault(400, ['invalid ciphertext: could not decode base64']);
    const raw = Buffer.from(data, 'base64');
    if (raw.length < 12 + 16) throw new VaultFault(400, ['invalid ciphertext: too short']);
    const decipher = createDecipheriv('aes-256-gcm', key.versions[version - 1]!, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    try {
      const plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
      return { request_id: randomUUID(), data: { plaintext: plain.toString('base64') } };
    } catch {
      throw new VaultFault(400, ['cipher: message authentication failed']);
    }
  }

  private readKey(name: string): unknown {
    const key = this.keys.get(name);
    if (key === undefined) throw new VaultFault(404, []);
    const versions: Record<string, number> = {};
    key.created.forEach((t, i) => {
      versions[String(i + 1)] = Math.floor(t / 1000);
    });
    return {
      data: {
        name,
        type: 'aes256-gcm96',
        derived: key.derived,
        exportable: false,
        deletion_allowed: false,
        latest_version: key.versions.length,
        min_available_version: 0,
        min_decryption_version: key.minDecryptionVersion,
        min_encryption_version: 0,
        supports_encryption: true,
        supports_decryption: true,
        supports_derivation: true,
        supports_signing: false,
        keys: versions,
      },
    };
  }

  private mustKey(name: string): TransitKey {
    const key = this.keys.get(name);
    if (key === undefined) throw new Error(`no such fake transit key ${name}`);
    return key;
  }
}

function headerToken(req: IncomingMessage): string | undefined {
  const v = req.headers['x-vault-token'];
  const token = Array.isArray(v) ? v[0] : v;
  return token === undefined || token === '' ? undefined : token;
}

function matches(glob: string, path: string): boolean {
  return glob.endsWith('*') ? path.startsWith(glob.slice(0, -1)) : path === glob;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
