/**
 * A wire-compatible AWS KMS test server: the AWS JSON 1.1 protocol
 * (`POST /`, `X-Amz-Target: TrentService.<Operation>`,
 * `Content-Type: application/x-amz-json-1.1`) for the operations sidekey uses
 * (Encrypt, Decrypt, DescribeKey) plus GenerateDataKey. The real
 * @aws-sdk/client-kms talks to it over loopback HTTP.
 *
 * Where sidekey depends on it, it behaves like KMS:
 * - symmetric keys, referred to by key id, key ARN, alias name or alias ARN;
 * - real AES-256-GCM inside; the ciphertext blob names its key and key
 *   version, and the encryption context is bound as associated data, so
 *   decrypting needs exactly the same context (order of entries aside);
 * - any tampering gives `InvalidCiphertextException`; decrypting with a
 *   `KeyId` other than the one that encrypted gives `IncorrectKeyException`;
 * - key rotation keeps old ciphertexts decryptable;
 * - disabled keys, access denial, throttling, internal errors, a hanging
 *   server and a server that is down can be switched on per test.
 *
 * It requires an `Authorization` header of SigV4 shape whose credential scope
 * names this region and the `kms` service; it does not verify the signature.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { HttpFake } from './http-fake.js';

export type KmsOperation = 'Encrypt' | 'Decrypt' | 'DescribeKey' | 'GenerateDataKey';
const OPERATIONS = new Set<string>(['Encrypt', 'Decrypt', 'DescribeKey', 'GenerateDataKey']);

export type FakeKeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

interface FakeKey {
  readonly id: string;
  readonly arn: string;
  state: FakeKeyState;
  readonly usage: 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY';
  readonly spec: 'SYMMETRIC_DEFAULT' | 'ECC_NIST_P256';
  /** Backing key material, index = version - 1. */
  readonly material: Buffer[];
  readonly created: number;
}

class KmsFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const BLOB_VERSION = 0x01;
const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=[a-z0-9;-]+, ?Signature=[0-9a-f]{64}$/;

export interface FakeAwsKmsOptions {
  readonly region?: string;
  readonly account?: string;
}

export class FakeAwsKms extends HttpFake {
  readonly region: string;
  readonly account: string;
  /** Authenticated requests for a known operation, in order (throttled and refused ones included). */
  readonly calls: { operation: KmsOperation; accessKeyId: string }[] = [];
  private readonly keys = new Map<string, FakeKey>();
  private readonly aliases = new Map<string, string>();
  private readonly denied = new Set<string>();
  private throttleRemaining = 0;
  private internalErrorsRemaining = 0;

  private constructor(options: FakeAwsKmsOptions) {
    super();
    this.region = options.region ?? 'eu-west-1';
    this.account = options.account ?? '111122223333';
  }

  static async start(options: FakeAwsKmsOptions = {}): Promise<FakeAwsKms> {
    const fake = new FakeAwsKms(options);
    await fake.listen(0);
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Creates a key; returns its id and ARN. */
  createKey(options: { alias?: string; usage?: FakeKey['usage']; spec?: FakeKey['spec'] } = {}): {
    keyId: string;
    arn: string;
  } {
    const id = randomUUID();
    const arn = `arn:aws:kms:${this.region}:${this.account}:key/${id}`;
    this.keys.set(id, {
      id,
      arn,
      state: 'Enabled',
      usage: options.usage ?? 'ENCRYPT_DECRYPT',
      spec: options.spec ?? 'SYMMETRIC_DEFAULT',
      material: [randomBytes(32)],
      created: Math.floor(Date.now() / 1000),
    });
    if (options.alias !== undefined) this.createAlias(options.alias, id);
    return { keyId: id, arn };
  }

  createAlias(alias: string, keyId: string): void {
    if (!alias.startsWith('alias/')) throw new Error('alias names start with alias/');
    this.aliases.set(alias, this.mustKey(keyId).id);
  }

  /** New backing material; ciphertexts under earlier material keep working. */
  rotateKey(keyRef: string): void {
    this.mustKey(keyRef).material.push(randomBytes(32));
  }

  setKeyState(keyRef: string, state: FakeKeyState): void {
    this.mustKey(keyRef).state = state;
  }

  /** The caller is not authorised for these operations (all when omitted). */
  deny(operations: readonly KmsOperation[] = [...OPERATIONS] as KmsOperation[]): void {
    for (const op of operations) this.denied.add(op);
  }

  allowAll(): void {
    this.denied.clear();
  }

  /** The next `n` requests get ThrottlingException (Infinity: until reset with 0). */
  throttle(n: number): void {
    this.throttleRemaining = n;
  }

  /** The next `n` requests get KMSInternalException (HTTP 500). */
  failInternally(n: number): void {
    this.internalErrorsRemaining = n;
  }

  count(operation: KmsOperation): number {
    return this.calls.filter((c) => c.operation === operation).length;
  }

  protected newServer(): Server {
    return createServer();
  }

  protected internalError(res: ServerResponse, err: unknown): void {
    this.reply(res, 500, { __type: 'KMSInternalException', message: String(err) });
  }

  protected respond(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    try {
      const output = this.dispatch(req, body);
      this.reply(res, 200, output);
    } catch (err) {
      if (!(err instanceof KmsFault)) throw err;
      this.reply(res, err.status, { __type: err.type, message: err.message });
    }
  }

  private dispatch(req: IncomingMessage, body: Buffer): unknown {
    if (req.method !== 'POST' || req.url !== '/')
      throw new KmsFault('UnknownOperationException', 'POST / only', 404);
    const contentType = req.headers['content-type'] ?? '';
    if (!contentType.startsWith('application/x-amz-json-1.1')) {
      throw new KmsFault('SerializationException', 'expected Content-Type application/x-amz-json-1.1');
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : '';
    if (!OPERATIONS.has(operation))
      throw new KmsFault('UnknownOperationException', `unknown target ${target}`);
    const accessKeyId = this.authenticate(req);
    const op = operation as KmsOperation;
    this.calls.push({ operation: op, accessKeyId });
    if (this.throttleRemaining > 0) {
      this.throttleRemaining--;
      throw new KmsFault('ThrottlingException', 'Rate exceeded');
    }
    if (this.internalErrorsRemaining > 0) {
      this.internalErrorsRemaining--;
      throw new KmsFault('KMSInternalException', 'An internal error occurred', 500);
    }
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      throw new KmsFault('SerializationException', 'body is not JSON');
    }
    if (this.denied.has(op)) {
      const resource = typeof input.KeyId === 'string' ? this.resolve(input.KeyId)?.arn : undefined;
      throw new KmsFault(
        'AccessDeniedException',
        `User: arn:aws:iam::${this.account}:user/sidekey-test is not authorized to perform: kms:${op} on resource: ${resource ?? '*'} because no identity-based policy allows the kms:${op} action`,
      );
    }
    switch (op) {
      case 'Encrypt':
        return this.encrypt(input);
      case 'Decrypt':
        return this.decrypt(input);
      case 'DescribeKey':
        return this.describeKey(input);
      case 'GenerateDataKey':
        return this.generateDataKey(input);
    }
  }

  private authenticate(req: IncomingMessage): string {
    const auth = String(req.headers.authorization ?? '');
    const m = SIGV4.exec(auth);
    if (m === null || req.headers['x-amz-date'] === undefined) {
      throw new KmsFault(
        'MissingAuthenticationTokenException',
        'Missing or malformed SigV4 Authorization header',
      );
    }
    if (m[3] !== this.region || m[4] !== 'kms') {
      throw new KmsFault(
        'InvalidSignatureException',
        `Credential should be scoped to a valid region and service kms`,
      );
    }
    return m[1]!;
  }

  private encrypt(input: Record<string, unknown>): unknown {
    const key = this.usableKey(input.KeyId);
    const plaintext = b64Field(input.Plaintext, 'Plaintext', 1, 4096);
    const context = contextField(input.EncryptionContext);
    return {
      CiphertextBlob: this.seal(key, plaintext, context).toString('base64'),
      KeyId: key.arn,
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    };
  }

  private generateDataKey(input: Record<string, unknown>): unknown {
    const key = this.usableKey(input.KeyId);
    const bytes = input.NumberOfBytes ?? (input.KeySpec === 'AES_128' ? 16 : 32);
    if (typeof bytes !== 'number' || bytes < 1 || bytes > 1024)
      throw validation('NumberOfBytes out of range');
    const plaintext = randomBytes(bytes);
    return {
      CiphertextBlob: this.seal(key, plaintext, contextField(input.EncryptionContext)).toString('base64'),
      Plaintext: plaintext.toString('base64'),
      KeyId: key.arn,
    };
  }

  private decrypt(input: Record<string, unknown>): unknown {
    const blob = b64Field(input.CiphertextBlob, 'CiphertextBlob', 1, 6144);
    const context = contextField(input.EncryptionContext);
    const parsed = parseBlob(blob);
    const key = parsed === undefined ? undefined : this.keys.get(parsed.keyId);
    if (parsed === undefined || key === undefined) throw invalidCiphertext();
    if (input.KeyId !== undefined) {
      const wanted = this.resolve(input.KeyId);
      if (wanted === undefined) throw notFound(input.KeyId);
      if (wanted.id !== key.id) {
        throw new KmsFault(
          'IncorrectKeyException',
          'The key ID in the request does not identify the key that encrypted the ciphertext',
        );
      }
    }
    this.assertUsable(key);
    const material = key.material[parsed.version - 1];
    if (material === undefined) throw invalidCiphertext();
    const decipher = createDecipheriv('aes-256-gcm', material, parsed.nonce);
    decipher.setAAD(aad(key, parsed.version, context));
    decipher.setAuthTag(parsed.tag);
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]);
    } catch {
      throw invalidCiphertext();
    }
    return {
      KeyId: key.arn,
      Plaintext: plaintext.toString('base64'),
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    };
  }

  private describeKey(input: Record<string, unknown>): unknown {
    const key = this.resolve(input.KeyId);
    if (key === undefined) throw notFound(input.KeyId);
    return {
      KeyMetadata: {
        AWSAccountId: this.account,
        KeyId: key.id,
        Arn: key.arn,
        CreationDate: key.created,
        Enabled: key.state === 'Enabled',
        Description: '',
        KeyUsage: key.usage,
        KeyState: key.state,
        Origin: 'AWS_KMS',
        KeyManager: 'CUSTOMER',
        CustomerMasterKeySpec: key.spec,
        KeySpec: key.spec,
        EncryptionAlgorithms: key.usage === 'ENCRYPT_DECRYPT' ? ['SYMMETRIC_DEFAULT'] : undefined,
        MultiRegion: false,
      },
    };
  }

  private seal(key: FakeKey, plaintext: Buffer, context: Record<string, string>): Buffer {
    const version = key.material.length;
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.material[version - 1]!, nonce);
    cipher.setAAD(aad(key, version, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const id = Buffer.from(key.id, 'ascii');
    const header = Buffer.alloc(6);
    header.writeUInt8(BLOB_VERSION, 0);
    header.writeUInt8(id.length, 1);
    header.writeUInt32BE(version, 2);
    return Buffer.concat([header, id, nonce, ciphertext, cipher.getAuthTag()]);
  }

  private usableKey(keyRef: unknown): FakeKey {
    if (typeof keyRef !== 'string' || keyRef === '') throw validation('KeyId is required');
    const key = this.resolve(keyRef);
    if (key === undefined) throw notFound(keyRef);
    this.assertUsable(key);
    return key;
  }

  private assertUsable(key: FakeKey): void {
    if (key.state === 'Disabled') throw new KmsFault('DisabledException', `${key.arn} is disabled.`);
    if (key.state !== 'Enabled')
      throw new KmsFault('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    if (key.usage !== 'ENCRYPT_DECRYPT') {
      throw new KmsFault(
        'InvalidKeyUsageException',
        `${key.arn} key usage is ${key.usage} which is not valid for this operation.`,
      );
    }
  }

  private resolve(keyRef: unknown): FakeKey | undefined {
    if (typeof keyRef !== 'string') return undefined;
    const prefix = `arn:aws:kms:${this.region}:${this.account}:`;
    const local = keyRef.startsWith(prefix) ? keyRef.slice(prefix.length) : keyRef;
    if (local.startsWith('alias/')) {
      const id = this.aliases.get(local);
      return id === undefined ? undefined : this.keys.get(id);
    }
    if (keyRef.startsWith('arn:') && !keyRef.startsWith(prefix)) return undefined;
    return this.keys.get(local.startsWith('key/') ? local.slice(4) : local);
  }

  private mustKey(keyRef: string): FakeKey {
    const key = this.resolve(keyRef);
    if (key === undefined) throw new Error(`no such fake key ${keyRef}`);
    return key;
  }

  private reply(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/x-amz-json-1.1',
      'Content-Length': Buffer.byteLength(text),
      'x-amzn-RequestId': randomUUID(),
      ...(status !== 200 && typeof body === 'object' && body !== null && '__type' in body
        ? { 'x-amzn-ErrorType': String((body as { __type: string }).__type) }
        : {}),
    });
    res.end(text);
  }
}

/** AAD: the key ARN, the key version and the context with entries sorted by name. */
function aad(key: FakeKey, version: number, context: Record<string, string>): Buffer {
  const sorted = Object.keys(context)
    .sort()
    .map((k) => [k, context[k]]);
  return Buffer.from(JSON.stringify([key.arn, version, sorted]), 'utf8');
}

function parseBlob(
  blob: Buffer,
): { keyId: string; version: number; nonce: Buffer; ciphertext: Buffer; tag: Buffer } | undefined {
  if (blob.length < 6 || blob[0] !== BLOB_VERSION) return undefined;
  const idLength = blob.readUInt8(1);
  const version = blob.readUInt32BE(2);
  const start = 6 + idLength;
  if (blob.length < start + 12 + 16) return undefined;
  return {
    keyId: blob.subarray(6, start).toString('ascii'),
    version,
    nonce: blob.subarray(start, start + 12),
    ciphertext: blob.subarray(start + 12, blob.length - 16),
    tag: blob.subarray(blob.length - 16),
  };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function b64Field(value: unknown, name: string, min: number, max: number): Buffer {
  if (typeof value !== 'string' || !BASE64.test(value)) throw validation(`${name} must be base64`);
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length < min || bytes.length > max) {
    throw validation(
      `1 validation error detected: Value at '${name}' failed to satisfy constraint: Member must have length between ${min} and ${max}`,
    );
  }
  return bytes;
}

function contextField(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw validation('EncryptionContext must be a map');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw validation('EncryptionContext values must be strings');
    out[k] = v;
  }
  return out;
}

const validation = (message: string) => new KmsFault('ValidationException', message);
const invalidCiphertext = () => new KmsFault('InvalidCiphertextException', '');
const notFound = (keyRef: unknown) =>
  new KmsFault('NotFoundException', `Key '${String(keyRef)}' does not exist`);
