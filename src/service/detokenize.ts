import { openRecord, zeroize } from '../crypto/index.js';
import type { ItemError } from '../errors/index.js';
import { isExpired } from '../policy/index.js';
import type { TokenRow } from '../store/index.js';
import { recordKeysFor } from './record-keys.js';
import { maskRequested, Reveal } from './reveal.js';
import { CallKeys, decodeUtf8, type Scope, storeFailure } from './scope.js';
import { SubjectReadKeys } from './subject-binding.js';
import type { DetokenizeResponse, DetokenizeResult } from './types.js';
import { asBody, MAX_PURPOSE_CHARS, optionalFieldOf, optionalText, tenantOf, tokensOf } from './validate.js';

/** Unknown, deleted, expired, foreign-tenant and other-ORK tokens are the same NOT_FOUND. */
const NOT_FOUND_ITEM: ItemError = { code: 'NOT_FOUND', message: 'token not found' };
const CORRUPT_ITEM: ItemError = { code: 'INTERNAL', message: 'the stored record failed its integrity check' };

/**
 * Per item; the audit event names the record of every token revealed (an
 * fpe token's storage id, never the fpe token). With `field`, tokens of
 * other fields are not found and fpe tokens of that field are. With `mask`
 * (or an ORK limited to masked reveal) values are masked (reveal.ts).
 */
export async function detokenize(scope: Scope, input: unknown): Promise<DetokenizeResponse> {
  const { deps, audit } = scope;
  const body = asBody(input);
  const tenant = tenantOf(body);
  const field = optionalFieldOf(body);
  const tokens = tokensOf(body, deps.limits, field);
  const purpose = optionalText(body, 'purpose', MAX_PURPOSE_CHARS * 4);
  const maskAsked = maskRequested(body);
  Object.assign(audit, { tenant, count: tokens.length, ...(purpose && { purpose }) });
  const id = await scope.authenticate(tenant);
  const reveal = Reveal.of(scope, id, maskAsked);
  const now = deps.now();
  const recordKeys = await recordKeysFor(scope, id, field);
  let candidates: string[][];
  try {
    candidates = tokens.map((t) => recordKeys.candidates(t));
  } finally {
    recordKeys.close();
  }
  const rows = await lookup(scope, candidates.flat(), now);
  const results: DetokenizeResult[] = new Array(tokens.length);
  const revealed: string[] = [];
  const fields = new Set<string>();
  const versions = new Set<number>();
  const keys = new CallKeys(deps.keyring, id);
  const subjectKeys = new SubjectReadKeys(deps.subjects, tenant);
  const mine = (row: TokenRow | undefined): row is TokenRow =>
    row !== undefined &&
    row.tenant === tenant &&
    row.orkId === id.orkId &&
    (field === undefined || row.field === field) &&
    !isExpired(row.expiresAt, now);
  try {
    for (let i = 0; i < tokens.length; i++) {
      let row: TokenRow | undefined;
      for (const key of candidates[i]!) {
        const r = rows.get(key);
        if (mine(r)) {
          row = r;
          break;
        }
      }
      if (row === undefined) {
        results[i] = { error: NOT_FOUND_ITEM };
        continue;
      }
      const fdk = await keys.get(row.field, row.tekVersion);
      if (!Buffer.isBuffer(fdk)) {
        results[i] = { error: fdk };
        continue;
      }
      // A subject's record: its subject's key too (FAILED_PRECONDITION once forgotten).
      const key = await subjectKeys.sealingKey(fdk, row.subjectKeyId);
      if (!Buffer.isBuffer(key)) {
        results[i] = { error: key };
        continue;
      }
      let plain: Buffer | undefined;
      try {
        plain = openRecord(key, row, row.envelope);
      } finally {
        if (key !== fdk) zeroize(key);
      }
      const value = plain === undefined ? undefined : decodeUtf8(plain);
      if (value === undefined) {
        results[i] = { error: CORRUPT_ITEM };
        continue;
      }
      if (reveal.masked) await reveal.prepare(row.field);
      results[i] = reveal.show(row.field, value);
      revealed.push(row.token);
      fields.add(row.field);
      versions.add(row.tekVersion);
    }
  } finally {
    keys.close();
    subjectKeys.close();
  }
  Object.assign(audit, {
    fields: [...fields],
    tekVersions: [...versions],
    tokens: revealed,
    itemErrors: tokens.length - revealed.length,
  });
  return { results };
}

/**
 * Records by token: the ciphertext cache first, then one batched store read.
 * A cached record that has expired is read again: its key may hold a newer
 * record by now (a deterministic value tokenized again, sql-store.ts write).
 */
async function lookup(scope: Scope, tokens: readonly string[], now: number): Promise<Map<string, TokenRow>> {
  const found = new Map<string, TokenRow>();
  const missing = new Set<string>();
  for (const t of tokens) {
    const hit = scope.records?.get(t);
    if (hit && !isExpired(hit.expiresAt, now)) found.set(t, hit);
    else missing.add(t);
  }
  if (missing.size > 0) {
    let rows: TokenRow[];
    try {
      rows = await scope.deps.store.getTokens([...missing]);
    } catch (err) {
      throw storeFailure(err);
    }
    for (const r of rows) {
      found.set(r.token, r);
      scope.records?.set(r.token, cacheable(r));
    }
  }
  return found;
}

/**
 * The record with its envelope in memory of its own. Drivers hand small
 * byteas out as slices of Node's shared 8 KiB buffer pool; a cached slice
 * would keep its whole slab alive, so 10,000 cached records could hold up to
 * 80 MiB instead of under 1 MiB.
 */
export function cacheable(r: TokenRow): TokenRow {
  const envelope = Buffer.allocUnsafeSlow(r.envelope.length);
  r.envelope.copy(envelope);
  return { ...r, envelope };
}
