import { type Scope, storeFailure } from './scope.js';
import type { ForgetSubjectsResponse } from './types.js';
import { asBody, subjectsOf, tenantOf } from './validate.js';

/**
 * Destroys the keys of data subjects (API.md "Data subjects"): idempotent
 * (an unknown or already forgotten subject counts 0), audited with the
 * subject ids, announced to the fleet in the same transaction. This
 * sidecar drops its cached keys and records of the tenant's subjects at
 * once; the others on the notification (docs/operations.md "Erasure").
 */
export async function forgetSubjects(scope: Scope, input: unknown): Promise<ForgetSubjectsResponse> {
  const { deps, audit } = scope;
  const body = asBody(input);
  const tenant = tenantOf(body);
  const subjects = subjectsOf(body, deps.limits);
  // The subject ids are what an auditor checks an erasure against (never in metrics).
  Object.assign(audit, { tenant, count: subjects.length, detail: { subjects: subjects.join(',') } });
  await scope.authenticate(tenant);
  let forgotten: number;
  try {
    forgotten = await deps.store.forgetSubjects(tenant, subjects);
  } catch (err) {
    throw storeFailure(err);
  } finally {
    deps.subjects.invalidateTenant(tenant);
    scope.forgetSubjectRecords(tenant);
  }
  audit.detail = { ...audit.detail, forgotten };
  return { forgotten };
}
