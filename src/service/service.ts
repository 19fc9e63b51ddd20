/**
 * The transport-agnostic service: tokenize, detokenize, encrypt, decrypt,
 * delete (API.md "Operations"). HTTP and gRPC are thin adapters over it.
 *
 * Every call: validate → authenticate the ORK → check the tenant → work →
 * audit. Failures are audited too (with their code), then rethrown for the
 * transport to map.
 */
import { LRUCache } from 'lru-cache';
import type { AuditEvent, Auditor } from '../audit/index.js';
import {
  newToken,
  openCiphertext,
  openRecord,
  orkIdToBytes,
  type RandomSource,
  sealCiphertext,
  sealRecord,
  zeroize,
} from '../crypto/index.js';
import {
  type ItemError,
  invalid,
  permissionDenied,
  SidekeyError,
  unauthenticated,
  unavailable,
} from '../errors/index.js';
import type { Keyring, OrkIdentity } from '../keyring/index.js';
import { isStoreUnavailable, SchemaError, type Store, type TokenRow } from '../store/index.js';
import { CIPHERTEXT_PREFIX, decodeCiphertext, encodeCiphertext } from './ciphertext-string.js';
import { TokenBucket } from './rate-limit.js';
import type {
  CallContext,
  DecryptResponse,
  DecryptResult,
  DeleteResponse,
  DetokenizeResponse,
  DetokenizeResult,
  EncryptResponse,
  Operation,
  TokenizeResponse,
} from './types.js';
import {
  asBody,
  batchOf,
  fieldOf,
  type Limits,
  MAX_CONTEXT_BYTES,
  MAX_PURPOSE_CHARS,
  optionalText,
  tenantOf,
  tokensOf,
  valuesOf,
} from './validate.js';

export interface ServiceDeps {
  readonly keyring: Pick<Keyring, 'authenticate' | 'primaryVersion' | 'fdk'>;
  readonly store: Pick<Store, 'getTokens' | 'deleteTokens'>;
  readonly writer: { writeTokens(rows: readonly TokenRow[]): Promise<void> };
  readonly auditor: Pick<Auditor, 'record' | 'recordInBackground'>;
  readonly random: RandomSource;
  readonly limits: Limits;
  /** Tenants this sidecar serves; empty = all. */
  readonly tenants: readonly string[];
  readonly durableReveal: boolean;
  readonly recordCache: { readonly max: number; readonly ttlMs: number };
  /** Requests per second this sidecar accepts; undefined = unlimited. */
  readonly rateLimit?: { readonly rate: number; readonly burst: number };
  readonly observe?: (operation: Operation, outcome: string, seconds: number, items: number) => void;
  /** Unexpected errors: logged by the composition root with the request id. */
  readonly onInternalError?: (err: unknown, ctx: CallContext, operation: Operation) => void;
}

const NOT_FOUND_ITEM: ItemError = { code: 'NOT_FOUND', message: 'token not found' };
const UNDECRYPTABLE_ITEM: ItemError = {
  code: 'INVALID_ARGUMENT',
  message: 'the ciphertext does not decrypt with this tenant, field, context and organisation key',
};
const utf8 = new TextDecoder('utf-8', { fatal: true });

interface Audit {
  tenant?: string;
  fields?: string[];
  orkId?: string;
  tekVersions?: number[];
  count?: number;
  itemErrors?: number;
  tokens?: string[];
  purpose?: string;
}

export class TokenService {
  private readonly served: ReadonlySet<string>;
  /** Ciphertext records only, never plaintext. */
  private readonly records: LRUCache<string, TokenRow> | undefined;

  private readonly bucket: TokenBucket | undefined;

  constructor(private readonly deps: ServiceDeps) {
    this.served = new Set(deps.tenants);
    this.bucket = deps.rateLimit && new TokenBucket(deps.rateLimit.rate, deps.rateLimit.burst);
    this.records =
      deps.recordCache.max > 0
        ? new LRUCache({ max: deps.recordCache.max, ttl: deps.recordCache.ttlMs })
        : undefined;
  }

  tokenize(input: unknown, ctx: CallContext): Promise<TokenizeResponse> {
    return this.run('tokenize', ctx, async (audit) => {
      const body = asBody(input);
      const tenant = tenantOf(body);
      const field = fieldOf(body);
      const values = valuesOf(body, 'values', this.deps.limits);
      Object.assign(audit, { tenant, fields: [field], count: values.length });
      const id = await this.authenticate(ctx, tenant, audit);
      const version = await this.deps.keyring.primaryVersion(tenant);
      audit.tekVersions = [version];
      const fdk = await this.deps.keyring.fdk(id, field, version);
      const rows: TokenRow[] = new Array(values.length);
      try {
        for (let i = 0; i < values.length; i++) {
          const token = newToken(this.deps.random);
          const binding = { token, tenant, field, tekVersion: version, orkId: id.orkId };
          const envelope = sealRecord(fdk, binding, Buffer.from(values[i]!, 'utf8'), this.deps.random);
          rows[i] = { ...binding, envelope };
        }
      } finally {
        zeroize(fdk);
      }
      try {
        await this.deps.writer.writeTokens(rows);
      } catch (err) {
        throw storeFailure(err);
      }
      if (this.records) for (const r of rows) this.records.set(r.token, r);
      return { tokens: rows.map((r) => r.token) };
    });
  }

  detokenize(input: unknown, ctx: CallContext): Promise<DetokenizeResponse> {
    return this.run('detokenize', ctx, async (audit) => {
      const body = asBody(input);
      const tenant = tenantOf(body);
      const tokens = tokensOf(body, this.deps.limits);
      const purpose = optionalText(body, 'purpose', MAX_PURPOSE_CHARS * 4);
      Object.assign(audit, { tenant, count: tokens.length, ...(purpose && { purpose }) });
      const id = await this.authenticate(ctx, tenant, audit);
      const rows = await this.lookup(tokens);
      const results: DetokenizeResult[] = new Array(tokens.length);
      const revealed: string[] = [];
      const fields = new Set<string>();
      const versions = new Set<number>();
      const fdks = new Map<string, Buffer | ItemError>();
      try {
        for (let i = 0; i < tokens.length; i++) {
          const row = rows.get(tokens[i]!);
          if (row === undefined || row.tenant !== tenant || row.orkId !== id.orkId) {
            results[i] = { error: NOT_FOUND_ITEM };
            continue;
          }
          const fdk = await this.fdkFor(fdks, id, row.field, row.tekVersion);
          if (!Buffer.isBuffer(fdk)) {
            results[i] = { error: fdk };
            continue;
          }
          const plain = openRecord(fdk, row, row.envelope);
          const value = plain === undefined ? undefined : decodeUtf8(plain);
          if (value === undefined) {
            results[i] = {
              error: { code: 'INTERNAL', message: 'the stored record failed its integrity check' },
            };
            continue;
          }
          results[i] = { value };
          revealed.push(row.token);
          fields.add(row.field);
          versions.add(row.tekVersion);
        }
      } finally {
        for (const k of fdks.values()) if (Buffer.isBuffer(k)) zeroize(k);
      }
      Object.assign(audit, {
        fields: [...fields],
        tekVersions: [...versions],
        tokens: revealed,
        itemErrors: tokens.length - revealed.length,
      });
      return { results };
    });
  }

  encrypt(input: unknown, ctx: CallContext): Promise<EncryptResponse> {
    return this.run('encrypt', ctx, async (audit) => {
      const body = asBody(input);
      const tenant = tenantOf(body);
      const field = fieldOf(body);
      const plaintexts = valuesOf(body, 'plaintexts', this.deps.limits);
      const context = optionalText(body, 'context', MAX_CONTEXT_BYTES);
      Object.assign(audit, { tenant, fields: [field], count: plaintexts.length });
      const id = await this.authenticate(ctx, tenant, audit);
      const version = await this.deps.keyring.primaryVersion(tenant);
      audit.tekVersions = [version];
      const fdk = await this.deps.keyring.fdk(id, field, version);
      const orkIdBytes = orkIdToBytes(id.orkId);
      try {
        const binding = { tenant, field, tekVersion: version, orkId: id.orkId, context };
        const ciphertexts = plaintexts.map((p) =>
          encodeCiphertext(
            sealCiphertext(fdk, binding, orkIdBytes, Buffer.from(p, 'utf8'), this.deps.random),
          ),
        );
        return { ciphertexts };
      } finally {
        zeroize(fdk);
      }
    });
  }

  decrypt(input: unknown, ctx: CallContext): Promise<DecryptResponse> {
    return this.run('decrypt', ctx, async (audit) => {
      const body = asBody(input);
      const tenant = tenantOf(body);
      const field = fieldOf(body);
      const texts = batchOfCiphertexts(body, this.deps.limits);
      const context = optionalText(body, 'context', MAX_CONTEXT_BYTES);
      Object.assign(audit, { tenant, fields: [field], count: texts.length });
      const id = await this.authenticate(ctx, tenant, audit);
      const results: DecryptResult[] = new Array(texts.length);
      const fdks = new Map<string, Buffer | ItemError>();
      const versions = new Set<number>();
      let ok = 0;
      try {
        for (let i = 0; i < texts.length; i++) {
          const { bytes, header } = texts[i]!;
          if (!header.orkIdBytes.equals(orkIdToBytes(id.orkId))) {
            results[i] = { error: UNDECRYPTABLE_ITEM };
            continue;
          }
          const fdk = await this.fdkFor(fdks, id, field, header.tekVersion);
          if (!Buffer.isBuffer(fdk)) {
            results[i] = { error: fdk };
            continue;
          }
          const binding = { tenant, field, tekVersion: header.tekVersion, orkId: id.orkId, context };
          const plain = openCiphertext(fdk, binding, bytes);
          const text = plain === undefined ? undefined : decodeUtf8(plain);
          if (text === undefined) {
            results[i] = { error: UNDECRYPTABLE_ITEM };
            continue;
          }
          results[i] = { plaintext: text };
          versions.add(header.tekVersion);
          ok++;
        }
      } finally {
        for (const k of fdks.values()) if (Buffer.isBuffer(k)) zeroize(k);
      }
      Object.assign(audit, { tekVersions: [...versions], itemErrors: texts.length - ok });
      return { results };
    });
  }

  deleteTokens(input: unknown, ctx: CallContext): Promise<DeleteResponse> {
    return this.run('delete', ctx, async (audit) => {
      const body = asBody(input);
      const tenant = tenantOf(body);
      const tokens = tokensOf(body, this.deps.limits);
      Object.assign(audit, { tenant, count: tokens.length, tokens });
      const id = await this.authenticate(ctx, tenant, audit);
      let deleted: number;
      try {
        deleted = await this.deps.store.deleteTokens(tenant, id.orkId, tokens);
      } catch (err) {
        throw storeFailure(err);
      } finally {
        if (this.records) for (const t of tokens) this.records.delete(t);
      }
      return { deleted };
    });
  }

  /** Forgets cached records (another sidecar may have changed them). */
  forgetRecords(tokens?: readonly string[]): void {
    if (!this.records) return;
    if (tokens === undefined) this.records.clear();
    else for (const t of tokens) this.records.delete(t);
  }

  private async authenticate(ctx: CallContext, tenant: string, audit: Audit): Promise<OrkIdentity> {
    if (this.served.size > 0 && !this.served.has(tenant)) {
      throw permissionDenied('this sidecar does not serve that tenant');
    }
    if (ctx.orkString === undefined || ctx.orkString === '') {
      throw unauthenticated(
        'the organisation key is missing (X-Sidekey-Org-Key header, x-sidekey-org-key metadata)',
      );
    }
    const id = await this.deps.keyring.authenticate(ctx.orkString);
    audit.orkId = id.orkId;
    if (id.tenant !== tenant) throw permissionDenied('the organisation key belongs to another tenant');
    return id;
  }

  private async lookup(tokens: readonly string[]): Promise<Map<string, TokenRow>> {
    const found = new Map<string, TokenRow>();
    const missing: string[] = [];
    for (const t of tokens) {
      const hit = this.records?.get(t);
      if (hit) found.set(t, hit);
      else if (!found.has(t)) missing.push(t);
    }
    if (missing.length > 0) {
      let rows: TokenRow[];
      try {
        rows = await this.deps.store.getTokens([...new Set(missing)]);
      } catch (err) {
        throw storeFailure(err);
      }
      for (const r of rows) {
        found.set(r.token, r);
        this.records?.set(r.token, r);
      }
    }
    return found;
  }

  /** One FDK per (field, version) per call; key errors become per-item errors, outages fail the call. */
  private async fdkFor(
    cache: Map<string, Buffer | ItemError>,
    id: OrkIdentity,
    field: string,
    version: number,
  ): Promise<Buffer | ItemError> {
    const k = `${field}\u0000${version}`;
    const have = cache.get(k);
    if (have !== undefined) return have;
    let result: Buffer | ItemError;
    try {
      result = await this.deps.keyring.fdk(id, field, version);
    } catch (err) {
      if (err instanceof SidekeyError && err.code === 'FAILED_PRECONDITION') {
        result = { code: err.code, message: err.message };
      } else {
        throw err;
      }
    }
    cache.set(k, result);
    return result;
  }

  private async run<T>(
    operation: Operation,
    ctx: CallContext,
    work: (audit: Audit) => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    const audit: Audit = {};
    let outcome: AuditEvent['outcome'] = 'ok';
    let result: T | undefined;
    let failure: unknown;
    try {
      if (this.bucket !== undefined && !this.bucket.take()) {
        throw new SidekeyError('RESOURCE_EXHAUSTED', 'rate limit exceeded; retry later');
      }
      result = await work(audit);
    } catch (err) {
      failure = err instanceof SidekeyError ? err : this.internal(err, ctx, operation);
      outcome = (failure as SidekeyError).code;
    }
    const latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
    const event: AuditEvent = {
      time: new Date().toISOString(),
      operation,
      outcome,
      ...audit,
      caller: ctx.caller,
      requestId: ctx.requestId,
      latencyMs,
    };
    const reveals = (operation === 'detokenize' || operation === 'decrypt') && outcome === 'ok';
    if (reveals && this.deps.durableReveal) {
      try {
        await this.deps.auditor.record(event);
      } catch (err) {
        failure = unavailable('the audit event of this reveal could not be made durable; retry', err);
        outcome = 'UNAVAILABLE';
      }
    } else {
      this.deps.auditor.recordInBackground(event);
    }
    this.deps.observe?.(operation, outcome, latencyMs / 1000, audit.count ?? 0);
    if (failure !== undefined) throw failure;
    return result as T;
  }

  private internal(err: unknown, ctx: CallContext, operation: Operation): SidekeyError {
    this.deps.onInternalError?.(err, ctx, operation);
    return new SidekeyError('INTERNAL', 'internal error; see the server log for this request id');
  }
}

/** Store outages are retryable UNAVAILABLE; anything else is a bug (INTERNAL, via run()). */
function storeFailure(err: unknown): unknown {
  if (err instanceof SidekeyError) return err;
  if (isStoreUnavailable(err) || err instanceof SchemaError)
    return unavailable('the token store is unavailable; retry', err);
  return err;
}

function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Ciphertexts are checked for syntax up front: a malformed one fails the whole call. */
function batchOfCiphertexts(body: Record<string, unknown>, limits: Limits) {
  // ASCII; at most the value limit plus envelope overhead, in base64url.
  const maxChars = CIPHERTEXT_PREFIX.length + Math.ceil(((limits.maxValueBytes + 64) * 4) / 3);
  return batchOf(body, 'ciphertexts', limits).map((text, i) => {
    if (text.length > maxChars) {
      throw new SidekeyError('PAYLOAD_TOO_LARGE', `ciphertexts[${i}] is over the size limit`, { index: i });
    }
    const decoded = decodeCiphertext(text);
    if (decoded === undefined) throw invalid(`ciphertexts[${i}] is not a sidekey ciphertext`, i);
    return decoded;
  });
}
