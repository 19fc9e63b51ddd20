/**
 * What one operation may use while it runs: the service's dependencies, the
 * audit fields it fills in, ORK authentication for the request's tenant, the
 * ciphertext record cache, and per-call FDKs. Built by TokenService.run() for
 * each call; the operation files (tokenize.ts, …) see only this.
 */
import type { LRUCache } from 'lru-cache';
import type { Auditor } from '../audit/index.js';
import type { RandomSource } from '../crypto/index.js';
import { type ItemError, SidekeyError, unavailable } from '../errors/index.js';
import type { IngestKeyring } from '../ingest/ingest-keyring.js';
import type { Keyring, OrkIdentity, SubjectKeys } from '../keyring/index.js';
import type { PolicyBook } from '../policy/index.js';
import { isStoreUnavailable, SchemaError, type Store, type TokenRow } from '../store/index.js';
import type { CallContext, Operation } from './types.js';
import type { Limits } from './validate.js';

export interface ServiceDeps {
  readonly keyring: Pick<Keyring, 'authenticate' | 'primaryVersion' | 'fdk' | 'tokenKey'>;
  /** Field policies (token kind per field), cached and kept current by the fleet's notifications. */
  readonly policies: Pick<PolicyBook, 'policyFor'>;
  readonly store: Pick<Store, 'getTokens' | 'deleteTokens' | 'forgetSubjects'>;
  /** Data subjects' keys (issue 13), cached and dropped by `subjects-forgotten`. */
  readonly subjects: Pick<SubjectKeys, 'forSubject' | 'byId' | 'forgetKey' | 'invalidateTenant'>;
  readonly writer: { writeTokens(rows: readonly TokenRow[]): Promise<void> };
  /** Data subjects' records (src/writer/subject-writer.ts): false when the subject's key is gone. */
  readonly subjectWriter: {
    writeSubjectTokens(tenant: string, keyId: string, rows: readonly TokenRow[]): Promise<boolean>;
  };
  /** `admits`: false while a bounded audit sink is full (ADR-17); absent = always. */
  readonly auditor: Pick<Auditor, 'record' | 'recordInBackground'> & Partial<Pick<Auditor, 'admits'>>;
  readonly random: RandomSource;
  readonly limits: Limits;
  /** Tenants this sidecar serves; empty = all. */
  readonly tenants: readonly string[];
  readonly durableReveal: boolean;
  readonly recordCache: { readonly max: number; readonly ttlMs: number };
  /** The clock of token expiry, in ms since the epoch (Date.now; tests pass their own). */
  readonly now: () => number;
  /** Requests per second this sidecar accepts; undefined = unlimited. */
  readonly rateLimit?: { readonly rate: number; readonly burst: number };
  readonly observe?: (operation: Operation, outcome: string, seconds: number, items: number) => void;
  /** End-to-end encrypted ingest (issue 14): sealed items and GetIngestKeys; absent = not offered. */
  readonly ingest?: IngestKeyring;
  /** Unexpected errors: logged by the composition root with the request id. */
  readonly onInternalError?: (err: unknown, ctx: CallContext, operation: Operation) => void;
}

/** The audit fields an operation fills in as it learns them (never values). */
export interface AuditFields {
  tenant?: string;
  fields?: string[];
  orkId?: string;
  tekVersions?: number[];
  count?: number;
  itemErrors?: number;
  tokens?: string[];
  purpose?: string;
  /**
   * Operation details, never secrets: the token kind of a tokenize (when not
   * random) and its TTL, `masked` for a masked reveal, `denied` (`allow` or
   * `reveal`) when the ORK's scope refused the call.
   */
  detail?: Record<string, string | number | boolean>;
}

export interface Scope {
  readonly deps: ServiceDeps;
  readonly audit: AuditFields;
  /** Verifies the call's ORK for `tenant` (UNAUTHENTICATED / PERMISSION_DENIED otherwise). */
  authenticate(tenant: string): Promise<OrkIdentity>;
  /** Ciphertext records only; undefined when disabled. */
  readonly records: LRUCache<string, TokenRow> | undefined;
  /** Drops the cached records of the tenant's data subjects (forget). */
  forgetSubjectRecords(tenant: string): void;
}

/** Store outages are retryable UNAVAILABLE; anything else is a bug (INTERNAL, via run()). */
export function storeFailure(err: unknown): unknown {
  if (err instanceof SidekeyError) return err;
  if (isStoreUnavailable(err) || err instanceof SchemaError) {
    return unavailable('the token store is unavailable; retry', err);
  }
  return err;
}

/**
 * The FDKs of one call, one per (field, version), derived on first use and
 * zeroed by `close()`. Key errors that concern only some items (a destroyed
 * or retired version) become per-item errors; outages fail the call.
 */
export class CallKeys {
  private readonly keys = new Map<string, Buffer | ItemError>();

  constructor(
    private readonly keyring: ServiceDeps['keyring'],
    private readonly id: OrkIdentity,
  ) {}

  async get(field: string, version: number): Promise<Buffer | ItemError> {
    const k = `${field}\u0000${version}`;
    const have = this.keys.get(k);
    if (have !== undefined) return have;
    let result: Buffer | ItemError;
    try {
      result = await this.keyring.fdk(this.id, field, version);
    } catch (err) {
      if (!(err instanceof SidekeyError) || err.code !== 'FAILED_PRECONDITION') throw err;
      result = { code: err.code, message: err.message };
    }
    this.keys.set(k, result);
    return result;
  }

  close(): void {
    for (const k of this.keys.values()) if (Buffer.isBuffer(k)) k.fill(0);
    this.keys.clear();
  }
}

// ignoreBOM: a value that starts with U+FEFF comes back with it (the
// default decoder would drop it and return another value).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Plaintext bytes back to the caller's string; undefined if they are not UTF-8 (never for our own data). */
export function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}
