import { recordKeysFor } from './record-keys.js';
import { type Scope, storeFailure } from './scope.js';
import type { DeleteResponse } from './types.js';
import { asBody, optionalFieldOf, tenantOf, tokensOf } from './validate.js';

/**
 * Deletes only the caller's own tokens (this tenant, this ORK); others count
 * as not found. fpe tokens need their `field`; the audit event names record
 * keys (an fpe token's storage id, never the fpe token, which keeps
 * characters of the value in clear).
 */
export async function deleteTokens(scope: Scope, input: unknown): Promise<DeleteResponse> {
  const { deps, audit } = scope;
  const body = asBody(input);
  const tenant = tenantOf(body);
  const field = optionalFieldOf(body);
  const tokens = tokensOf(body, deps.limits, field);
  Object.assign(audit, {
    tenant,
    count: tokens.length,
    ...(field === undefined ? { tokens } : { fields: [field] }),
  });
  const id = await scope.authenticate(tenant);
  const keys = await recordKeysFor(scope, id, field);
  let recordKeys: string[];
  try {
    recordKeys = [...new Set(tokens.flatMap((t) => keys.candidates(t)))];
  } finally {
    keys.close();
  }
  audit.tokens = recordKeys;
  try {
    return { deleted: await deps.store.deleteTokens(tenant, id.orkId, recordKeys) };
  } catch (err) {
    throw storeFailure(err);
  } finally {
    if (scope.records) for (const t of recordKeys) scope.records.delete(t);
  }
}
