import { SidekeyError } from '../errors/index.js';
import type { OrkIdentity } from '../keyring/index.js';
import { RecordKeys } from '../tokens/index.js';
import type { Scope } from './scope.js';

/**
 * Where the records of presented tokens may be stored (src/tokens/kinds.ts
 * RecordKeys): with a field, fpe storage ids under the caller's lineage too.
 * A tenant without a usable token root key has no fpe records to find.
 */
export async function recordKeysFor(
  scope: Scope,
  id: OrkIdentity,
  field: string | undefined,
): Promise<RecordKeys> {
  if (field === undefined) return RecordKeys.v1();
  let tokenKey: Buffer | undefined;
  try {
    tokenKey = await scope.deps.keyring.tokenKey(id);
  } catch (err) {
    if (!(err instanceof SidekeyError) || err.code !== 'FAILED_PRECONDITION') throw err;
  }
  return RecordKeys.forField(tokenKey, field);
}
