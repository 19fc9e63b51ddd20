/**
 * KEK rotation (`sidekey rotate kek --to <ref>`): every wrapped TEK and every
 * audit chain key is unwrapped with the KEK that wrapped it and wrapped again
 * under the target KEK, with the same encryption context. No ORK and no data
 * are involved (DESIGN.md "Fleet"): the TEK plaintext does not change, so
 * records, caches and ORK strings stay valid.
 *
 * Invariants:
 * - Resumable by construction: only rows whose `kek_ref` is not the target
 *   are selected (keyset pagination by tenant, version), so a re-run after a
 *   crash or an outage picks up exactly what is left.
 * - Optimistic: a row is replaced only if it still holds the bytes that were
 *   unwrapped (store.rewrapTenantKey); a row changed meanwhile (a TEK
 *   rotation, a shred) is left alone and counted, never overwritten.
 * - Verified before it is stored: the new wrapped key is unwrapped by the
 *   target and compared with the key, so a target that may encrypt but not
 *   decrypt (a half-written IAM policy) cannot make a key unreadable.
 * - Safe while sidecars serve: sidecars configured with both KEKs unwrap
 *   either form; each change announces `tek-changed` so caches reload.
 * - Key plaintext lives only between unwrap and wrap, and is zeroed.
 */
import { timingSafeEqual } from 'node:crypto';
import { zeroize } from '../crypto/index.js';
import { type EncryptionContext, type KekPort, type KekRing, KmsError, kmsContext } from '../kms/index.js';
import type { Store, WrappedKey } from '../store/index.js';

export interface KekRotationDeps {
  readonly store: Pick<
    Store,
    | 'listTenantKeysNotUnder'
    | 'rewrapTenantKey'
    | 'listAuditChains'
    | 'rewrapAuditChain'
    | 'listTokenRootKeysNotUnder'
    | 'rewrapTokenRootKey'
    | 'listSubjectKeysNotUnder'
    | 'rewrapSubjectKey'
    | 'listIngestKeysNotUnder'
    | 'rewrapIngestKey'
  >;
  /** The KEKs this process can unwrap with (primary and previous). */
  readonly keks: KekRing;
  readonly target: KekPort;
}

interface KeyCursor {
  readonly tenant: string;
  readonly keyId: string;
}
interface KeyedWrap extends KeyCursor {
  readonly kekRef: string;
  readonly wrapped: Buffer;
}

export interface KekRotationProgress {
  readonly kind: 'tek' | 'token-root' | 'subject' | 'ingest' | 'audit-chain';
  /** Re-wrapped so far in this run (both kinds). */
  readonly rewrapped: number;
  /** `tenant/version` or the chain id just handled. */
  readonly item: string;
}

export interface KekRotationOptions {
  readonly batchSize?: number;
  readonly onProgress?: (p: KekRotationProgress) => void;
  /** Checked between keys (Ctrl-C): stop cleanly, resumable. */
  readonly shouldStop?: () => boolean;
}

export interface KekRotationReport {
  readonly target: string;
  readonly tenantKeys: number;
  readonly auditChains: number;
  /** Token root keys (deterministic and fpe tokens) re-wrapped. */
  readonly tokenRootKeys: number;
  /** Data subjects' keys re-wrapped (issue 13). */
  readonly subjectKeys: number;
  /** Ingest private keys (end-to-end encrypted ingest, issue 14) re-wrapped. */
  readonly ingestKeys: number;
  /** Rows changed concurrently (rotated, shredded): left for the next run. */
  readonly changed: number;
  /** Rows that could not be re-wrapped, by reason (`kekRef` not configured, does not unwrap). */
  readonly failures: readonly { readonly item: string; readonly kekRef: string; readonly reason: string }[];
  readonly stopped: boolean;
}

const MAX_PASSES = 3;

export async function rotateKek(
  deps: KekRotationDeps,
  options: KekRotationOptions = {},
): Promise<KekRotationReport> {
  const target = deps.target;
  const batchSize = options.batchSize ?? 100;
  const failures: { item: string; kekRef: string; reason: string }[] = [];
  const failed = new Set<string>();
  let tenantKeys = 0;
  let auditChains = 0;
  let tokenRootKeys = 0;
  let subjectKeys = 0;
  let ingestKeys = 0;
  let changed = 0;
  let stopped = false;

  const rewrap = async (
    item: string,
    from: WrappedKey,
    context: EncryptionContext,
    store: (to: WrappedKey) => Promise<boolean>,
  ): Promise<'done' | 'changed' | 'failed'> => {
    const source = deps.keks.byRef(from.kekRef) ?? (from.kekRef === target.kekRef ? target : undefined);
    if (source === undefined) {
      failed.add(item);
      failures.push({
        item,
        kekRef: from.kekRef,
        reason: 'its KEK is not configured (SIDEKEY_KMS_PREVIOUS)',
      });
      return 'failed';
    }
    let key: Buffer | undefined;
    let check: Buffer | undefined;
    try {
      try {
        key = await source.unwrap(from.wrapped, context);
      } catch (err) {
        // Unreachable or refusing KMS: stop the run (resumable); a key that
        // does not authenticate is this row's problem only.
        if (err instanceof KmsError && err.kind === 'integrity') {
          failed.add(item);
          failures.push({ item, kekRef: from.kekRef, reason: 'it does not unwrap under its KEK' });
          return 'failed';
        }
        throw err;
      }
      const wrapped = await target.wrap(key, context);
      check = await target.unwrap(wrapped, context);
      if (check.length !== key.length || !timingSafeEqual(check, key)) {
        throw new KmsError('integrity', `${target.kekRef} did not give back the key it wrapped`);
      }
      return (await store({ kekRef: target.kekRef, wrapped })) ? 'done' : 'changed';
    } finally {
      zeroize(key, check);
    }
  };

  // Keys added under an old KEK while a pass runs (a CLI still configured
  // with the old primary) can sort before the cursor: passes repeat until
  // one re-wraps nothing.
  const seen = new Set<string>();
  for (let pass = 0; pass < MAX_PASSES && !stopped; pass++) {
    const before = tenantKeys + changed;
    let after: { tenant: string; version: number } | undefined;
    for (;;) {
      const rows = await deps.store.listTenantKeysNotUnder(target.kekRef, after, batchSize);
      if (rows.length === 0) break;
      for (const row of rows) {
        if (options.shouldStop?.()) {
          stopped = true;
          break;
        }
        after = { tenant: row.tenant, version: row.version };
        const item = `${row.tenant}/${row.version}`;
        if (row.wrapped === null || failed.has(item)) continue;
        const from = { kekRef: row.kekRef, wrapped: row.wrapped };
        const outcome = await rewrap(item, from, kmsContext.tek(row.tenant, row.version), (to) =>
          deps.store.rewrapTenantKey(row.tenant, row.version, from, to),
        );
        if (outcome === 'done') tenantKeys++;
        if (outcome === 'changed' && !seen.has(item)) changed++;
        seen.add(item);
        options.onProgress?.({ kind: 'tek', rewrapped: tenantKeys + auditChains, item });
      }
      if (stopped) break;
    }
    if (tenantKeys + changed === before) break;
  }

  // Token root keys: one per tenant, re-wrapped like TEKs (the same
  // optimistic update; a shredded tenant's is null and never listed).
  let afterTenant = '';
  while (!stopped) {
    const rows = await deps.store.listTokenRootKeysNotUnder(target.kekRef, afterTenant, batchSize);
    if (rows.length === 0) break;
    for (const row of rows) {
      if (options.shouldStop?.()) {
        stopped = true;
        break;
      }
      afterTenant = row.tenant;
      const item = `${row.tenant}/token-root`;
      if (row.wrapped === null || failed.has(item)) continue;
      const from = { kekRef: row.kekRef, wrapped: row.wrapped };
      const outcome = await rewrap(item, from, kmsContext.tokenRootKey(row.tenant), (to) =>
        deps.store.rewrapTokenRootKey(row.tenant, from, to),
      );
      if (outcome === 'done') tokenRootKeys++;
      if (outcome === 'changed') changed++;
      options.onProgress?.({ kind: 'token-root', rewrapped: tenantKeys + tokenRootKeys + auditChains, item });
    }
  }

  /**
   * Keys listed by (tenant, key id) after a cursor — data subjects' keys
   * (issue 13; a forgotten one has no row, and items name the key id, never
   * the subject) and ingest private keys (issue 14) — re-wrapped like token
   * root keys. Returns how many were re-wrapped.
   */
  const rewrapById = async (
    kind: 'subject' | 'ingest',
    list: (after: KeyCursor | undefined) => Promise<readonly KeyedWrap[]>,
    context: (tenant: string, keyId: string) => EncryptionContext,
    store: (tenant: string, keyId: string, from: WrappedKey, to: WrappedKey) => Promise<boolean>,
    itemOf: (row: KeyCursor) => string,
  ): Promise<number> => {
    let done = 0;
    let after: KeyCursor | undefined;
    while (!stopped) {
      const rows = await list(after);
      if (rows.length === 0) break;
      for (const row of rows) {
        if (options.shouldStop?.()) {
          stopped = true;
          break;
        }
        after = { tenant: row.tenant, keyId: row.keyId };
        const item = itemOf(row);
        if (failed.has(item)) continue;
        const from = { kekRef: row.kekRef, wrapped: row.wrapped };
        const outcome = await rewrap(item, from, context(row.tenant, row.keyId), (to) =>
          store(row.tenant, row.keyId, from, to),
        );
        if (outcome === 'done') done++;
        if (outcome === 'changed') changed++;
        options.onProgress?.({
          kind,
          rewrapped: tenantKeys + tokenRootKeys + subjectKeys + ingestKeys + done + auditChains,
          item,
        });
      }
    }
    return done;
  };
  subjectKeys = await rewrapById(
    'subject',
    (after) => deps.store.listSubjectKeysNotUnder(target.kekRef, after, batchSize),
    kmsContext.subject,
    (tenant, keyId, from, to) => deps.store.rewrapSubjectKey(tenant, keyId, from, to),
    (row) => `${row.tenant}/subject-key ${row.keyId}`,
  );
  ingestKeys = await rewrapById(
    'ingest',
    (after) => deps.store.listIngestKeysNotUnder(target.kekRef, after, batchSize),
    kmsContext.ingestKey,
    (tenant, keyId, from, to) => deps.store.rewrapIngestKey(tenant, keyId, from, to),
    (row) => `${row.tenant}/ingest/${row.keyId}`,
  );

  if (!stopped) {
    for (const chain of await deps.store.listAuditChains()) {
      if (chain.kekRef === target.kekRef) continue;
      if (options.shouldStop?.()) {
        stopped = true;
        break;
      }
      const from = { kekRef: chain.kekRef, wrapped: chain.wrappedKey };
      const outcome = await rewrap(
        `audit chain ${chain.chainId}`,
        from,
        kmsContext.auditChain(chain.chainId),
        (to) => deps.store.rewrapAuditChain(chain.chainId, from, to),
      );
      if (outcome === 'done') auditChains++;
      if (outcome === 'changed') changed++;
      options.onProgress?.({ kind: 'audit-chain', rewrapped: tenantKeys + auditChains, item: chain.chainId });
    }
  }
  return {
    target: target.kekRef,
    tenantKeys,
    tokenRootKeys,
    subjectKeys,
    ingestKeys,
    auditChains,
    changed,
    failures,
    stopped,
  };
}
