/**
 * The transport-agnostic service: tokenize, detokenize, encrypt, decrypt,
 * delete (API.md "Operations"), one file each. HTTP and gRPC are thin
 * adapters over this class.
 *
 * Every call: rate limit → validate → authenticate the ORK → check the tenant
 * → work → audit. Failures are audited too (with their code), then rethrown
 * for the transport to map. A reveal's audit event is durable before the
 * reveal returns (SIDEKEY_AUDIT_DURABLE_REVEAL).
 */
import type { LRUCache } from 'lru-cache';
import { refusal } from '../access/index.js';
import type { AuditEvent } from '../audit/index.js';
import { permissionDenied, SidekeyError, unauthenticated, unavailable } from '../errors/index.js';
import {
  ENCRYPT_SEALED,
  getIngestKeys,
  type IngestKeysResponse,
  TOKENIZE_SEALED,
  withSealedItems,
} from '../ingest/index.js';
import { boundedLru, type OrkIdentity } from '../keyring/index.js';
import type { TokenRow } from '../store/index.js';
import { decrypt } from './decrypt.js';
import { deleteTokens } from './delete.js';
import { detokenize } from './detokenize.js';
import { encrypt } from './encrypt.js';
import { forgetSubjects } from './forget.js';
import { TokenBucket } from './rate-limit.js';
import type { AuditFields, Scope, ServiceDeps } from './scope.js';
import { tokenize } from './tokenize.js';
import type {
  CallContext,
  DecryptResponse,
  DeleteResponse,
  DetokenizeResponse,
  EncryptResponse,
  ForgetSubjectsResponse,
  Operation,
  TokenizeResponse,
} from './types.js';

export type { ServiceDeps } from './scope.js';

export class TokenService {
  private readonly served: ReadonlySet<string>;
  /** Ciphertext records only, never plaintext. */
  private readonly records: LRUCache<string, TokenRow> | undefined;
  private readonly bucket: TokenBucket | undefined;

  constructor(private readonly deps: ServiceDeps) {
    this.served = new Set(deps.tenants);
    this.records =
      deps.recordCache.max > 0
        ? boundedLru<string, TokenRow>({ max: deps.recordCache.max, ttl: deps.recordCache.ttlMs })
        : undefined;
    this.bucket = deps.rateLimit && new TokenBucket(deps.rateLimit.rate, deps.rateLimit.burst);
  }

  tokenize(input: unknown, ctx: CallContext): Promise<TokenizeResponse> {
    // Sealed items (issue 14) are opened into values first; tokenize itself is unchanged.
    return this.run('tokenize', ctx, (scope) =>
      withSealedItems(scope, this.deps.ingest, input, TOKENIZE_SEALED, tokenize),
    );
  }

  detokenize(input: unknown, ctx: CallContext): Promise<DetokenizeResponse> {
    return this.run('detokenize', ctx, (scope) => detokenize(scope, input));
  }

  encrypt(input: unknown, ctx: CallContext): Promise<EncryptResponse> {
    return this.run('encrypt', ctx, (scope) =>
      withSealedItems(scope, this.deps.ingest, input, ENCRYPT_SEALED, encrypt),
    );
  }

  decrypt(input: unknown, ctx: CallContext): Promise<DecryptResponse> {
    return this.run('decrypt', ctx, (scope) => decrypt(scope, input));
  }

  deleteTokens(input: unknown, ctx: CallContext): Promise<DeleteResponse> {
    return this.run('delete', ctx, (scope) => deleteTokens(scope, input));
  }

  /** Destroys data subjects' keys (issue 13; an ORK with `forget` in its scope). */
  forgetSubjects(input: unknown, ctx: CallContext): Promise<ForgetSubjectsResponse> {
    return this.run('forget', ctx, (scope) => forgetSubjects(scope, input));
  }

  /** Drops cached records of the tenant's data subjects (a forget here or on another sidecar). */
  forgetSubjectRecords(tenant: string): void {
    if (!this.records) return;
    for (const [token, row] of this.records.entries())
      if (row.tenant === tenant && row.subjectKeyId) this.records.delete(token);
  }

  /** The tenant's current ingest public keys (API.md "End-to-end encrypted ingest"). */
  ingestKeys(input: unknown, ctx: CallContext): Promise<IngestKeysResponse> {
    return this.run('ingest-keys', ctx, (scope) => {
      const ingest = this.deps.ingest;
      if (ingest === undefined)
        throw permissionDenied('end-to-end encrypted ingest is not offered by this sidecar');
      return getIngestKeys(scope, ingest, input);
    });
  }

  /** Forgets cached records (another sidecar deleted or changed them). */
  forgetRecords(tokens?: readonly string[]): void {
    if (!this.records) return;
    if (tokens === undefined) this.records.clear();
    else for (const t of tokens) this.records.delete(t);
  }

  /**
   * The ORK, its tenant, then its scope: a cached lookup (the scope comes
   * with the cached identity), never a query per request. A refusal fails
   * the whole call; the audit event names the ORK, the operation and why.
   */
  private async authenticate(
    ctx: CallContext,
    tenant: string,
    audit: AuditFields,
    operation: Operation,
  ): Promise<OrkIdentity> {
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
    const refused = refusal(id.scope, operation);
    if (refused !== undefined) {
      audit.detail = { ...audit.detail, denied: refused };
      throw permissionDenied(
        refused === 'allow'
          ? `the scope of this organisation key does not allow ${operation}`
          : 'the scope of this organisation key allows no reveal (--reveal none)',
      );
    }
    return id;
  }

  private async run<T>(
    operation: Operation,
    ctx: CallContext,
    work: (scope: Scope) => Promise<T>,
  ): Promise<T> {
    if (this.deps.auditor.admits?.() === false) {
      // Fail closed before any work: an operation that cannot be audited does not run (ADR-17).
      this.deps.observe?.(operation, 'UNAVAILABLE', 0, 0);
      throw unavailable('the audit spool is full while the store is unreachable; retry later');
    }
    const started = performance.now();
    const audit: AuditFields = {};
    const scope: Scope = {
      deps: this.deps,
      audit,
      records: this.records,
      forgetSubjectRecords: (tenant) => this.forgetSubjectRecords(tenant),
      authenticate: (tenant) => this.authenticate(ctx, tenant, audit, operation),
    };
    let outcome: AuditEvent['outcome'] = 'ok';
    let result: T | undefined;
    let failure: unknown;
    try {
      if (this.bucket !== undefined && !this.bucket.take()) {
        throw new SidekeyError('RESOURCE_EXHAUSTED', 'rate limit exceeded; retry later');
      }
      result = await work(scope);
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
