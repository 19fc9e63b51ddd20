import { type Scope, storeFailure } from './scope.js';
import type { DeleteResponse } from './types.js';
import { asBody, tenantOf, tokensOf } from './validate.js';

/** Deletes only the caller's own tokens (this tenant, this ORK); others count as not found. */
export async function deleteTokens(scope: Scope, input: unknown): Promise<DeleteResponse> {
  const { deps, audit } = scope;
  const body = asBody(input);
  const tenant = tenantOf(body);
  const tokens = tokensOf(body, deps.limits);
  Object.assign(audit, { tenant, count: tokens.length, tokens });
  const id = await scope.authenticate(tenant);
  try {
    return { deleted: await deps.store.deleteTokens(tenant, id.orkId, tokens) };
  } catch (err) {
    throw storeFailure(err);
  } finally {
    if (scope.records) for (const t of tokens) scope.records.delete(t);
  }
}
