/**
 * The messages of sidekey.v1 (proto/sidekey/v1/sidekey.proto) in their JSON
 * form, the same on both transports. docs/api.md describes every field.
 */

/** The error catalogue of the server; a code this client does not know is kept as it came. */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'FAILED_PRECONDITION'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

/** A code of the catalogue, `DEADLINE_EXCEEDED`/`CANCELLED` (gRPC, client side), or a newer server code. */
export type Code = ErrorCode | 'DEADLINE_EXCEEDED' | 'CANCELLED' | (string & {});

/** The error of one item of a detokenize or decrypt. */
export interface ItemError {
  readonly code: Code;
  readonly message: string;
}

export interface TokenizeRequest {
  readonly tenant: string;
  readonly field: string;
  /** The values; or give `sealedValues` instead (exactly one of the two). */
  readonly values?: readonly string[];
  /** Values sealed to the sidecar (v1.1, end-to-end encrypted ingest): `hpke:<keyId>:<enc>:<ciphertext>`. */
  readonly sealedValues?: readonly string[];
  /** Time to live of the tokens in seconds (1 to 315360000); the field policy's TTL wins when shorter (v1.1). */
  readonly ttlSeconds?: number;
  /** The data subject the values belong to (v1.1): they also need that subject's key, which forgetSubjects destroys. */
  readonly subject?: string;
}
export interface TokenizeResponse {
  readonly tokens: string[];
}

export interface DetokenizeRequest {
  readonly tenant: string;
  readonly tokens: readonly string[];
  /** Recorded in the audit event of the reveal. */
  readonly purpose?: string;
  /** The field the tokens were made for: needed for fpe tokens (token kinds, v1.1). */
  readonly field?: string;
  /** Masked reveal: values come back masked by their field's policy (v1.1). */
  readonly mask?: boolean;
}
/** The value of a token, or why there is none (`NOT_FOUND`, `FAILED_PRECONDITION`). */
export type DetokenizeResult =
  /** `masked`: the value was masked by its field's policy (v1.1). */
  | { readonly value: string; readonly masked?: boolean; readonly error?: undefined }
  | { readonly error: ItemError; readonly value?: undefined };
export interface DetokenizeResponse {
  readonly results: DetokenizeResult[];
}

export interface EncryptRequest {
  readonly tenant: string;
  readonly field: string;
  /** The plaintexts; or give `sealedPlaintexts` instead (exactly one of the two). */
  readonly plaintexts?: readonly string[];
  /** Plaintexts sealed to the sidecar (v1.1), as `TokenizeRequest.sealedValues`. */
  readonly sealedPlaintexts?: readonly string[];
  /** Bound to each ciphertext: decrypt needs the same. */
  readonly context?: string;
  /** The data subject the plaintexts belong to (v1.1), as in TokenizeRequest. */
  readonly subject?: string;
}
export interface EncryptResponse {
  readonly ciphertexts: string[];
}

export interface DecryptRequest {
  readonly tenant: string;
  readonly field: string;
  readonly ciphertexts: readonly string[];
  readonly context?: string;
  /** Masked reveal by the request field's policy (v1.1). */
  readonly mask?: boolean;
}
export type DecryptResult =
  | { readonly plaintext: string; readonly masked?: boolean; readonly error?: undefined }
  | { readonly error: ItemError; readonly plaintext?: undefined };
export interface DecryptResponse {
  readonly results: DecryptResult[];
}

export interface DeleteTokensRequest {
  readonly tenant: string;
  readonly tokens: readonly string[];
  /** The field the tokens were made for: needed for fpe tokens (token kinds, v1.1). */
  readonly field?: string;
}
export interface DeleteTokensResponse {
  readonly deleted: number;
}

export interface ForgetSubjectsRequest {
  readonly tenant: string;
  /** 1 to 1000 subject ids. */
  readonly subjects: readonly string[];
}
export interface ForgetSubjectsResponse {
  /** How many of the subjects had a key, now destroyed (unknown ones count 0). */
  readonly forgotten: number;
}

export interface CallOptions {
  /** Sent as X-Request-Id / x-request-id (1 to 128 of `A-Za-z0-9._:-`); generated when absent, the same on every retry. */
  readonly requestId?: string;
  /** Gives up (the last attempt included) after this long. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** The operations, over either transport. */
/** End-to-end encrypted ingest (v1.1): the tenant's current public keys. */
export interface GetIngestKeysRequest {
  readonly tenant: string;
}
export interface IngestKey {
  /** `xwing_…` or `x25519_…`. */
  readonly keyId: string;
  /** "X-Wing" or "DHKEM(X25519, HKDF-SHA256)". */
  readonly kem: string;
  readonly kdf: string;
  readonly aead: string;
  /** base64url */
  readonly publicKey: string;
}
export interface GetIngestKeysResponse {
  /** X-Wing first. */
  readonly keys: IngestKey[];
}

/** The five operations and (v1.1) the ingest keys, over either transport. */
export interface SidekeyClient {
  tokenize(request: TokenizeRequest, options?: CallOptions): Promise<TokenizeResponse>;
  detokenize(request: DetokenizeRequest, options?: CallOptions): Promise<DetokenizeResponse>;
  encrypt(request: EncryptRequest, options?: CallOptions): Promise<EncryptResponse>;
  decrypt(request: DecryptRequest, options?: CallOptions): Promise<DecryptResponse>;
  deleteTokens(request: DeleteTokensRequest, options?: CallOptions): Promise<DeleteTokensResponse>;
  /** Destroys data subjects' keys (v1.1; an ORK with `forget` in its scope). */
  forgetSubjects(request: ForgetSubjectsRequest, options?: CallOptions): Promise<ForgetSubjectsResponse>;
  getIngestKeys(request: GetIngestKeysRequest, options?: CallOptions): Promise<GetIngestKeysResponse>;
  close(): void;
}
