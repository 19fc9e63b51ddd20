/**
 * `sidekey ork reissue`: the same ORK (same id, same key, so the same
 * records) in a new ORK string wrapped by another KEK. An ORK string embeds
 * the kekRef of the KEK that wrapped it, so after a KEK rotation each
 * organisation gets its string re-issued; the old string keeps working
 * wherever the old KEK is still configured.
 *
 * Invariants:
 * - The old string must verify exactly as a sidecar would verify it: known,
 *   active ORK record of this tenant, unwrapped under its own context, and a
 *   fingerprint equal to the stored one (constant-time).
 * - The new string is checked before it is returned: the target unwraps it
 *   back to the same key.
 * - The ORK plaintext lives only between unwrap and wrap, and is zeroed;
 *   nothing is stored (the record keeps its id, label and fingerprint).
 */
import { timingSafeEqual } from 'node:crypto';
import { decodeOrkString, encodeOrkString, orkFingerprint, zeroize } from '../crypto/index.js';
import { SidekeyError, unauthenticated, unavailable } from '../errors/index.js';
import { type KekPort, type KekRing, KmsError, kmsContext } from '../kms/index.js';
import type { Store } from '../store/index.js';

export interface OrkReissueDeps {
  readonly store: Pick<Store, 'getOrk'>;
  /** The KEKs this process can unwrap with: the old string's KEK must be among them. */
  readonly keks: KekRing;
  readonly target: KekPort;
}

export interface ReissuedOrk {
  readonly orkId: string;
  readonly fromKekRef: string;
  readonly toKekRef: string;
  /** The new ORK string: shown once, never stored. */
  readonly orkString: string;
}

export async function reissueOrk(
  deps: OrkReissueDeps,
  tenant: string,
  oldOrkString: string,
): Promise<ReissuedOrk> {
  const parts = decodeOrkString(oldOrkString);
  if (parts === undefined) throw unauthenticated('the ORK file does not hold an ORK string');
  if (parts.tenant !== tenant) {
    throw new SidekeyError('PERMISSION_DENIED', `the ORK string belongs to another tenant, not ${tenant}`);
  }
  const record = await deps.store.getOrk(parts.tenant, parts.orkId);
  if (record === undefined) throw unauthenticated(`ORK ${parts.orkId} is not known for tenant ${tenant}`);
  if (record.state !== 'active') throw unauthenticated(`ORK ${parts.orkId} has been revoked`);
  const source =
    deps.keks.byRef(parts.kekRef) ?? (parts.kekRef === deps.target.kekRef ? deps.target : undefined);
  if (source === undefined) {
    throw new SidekeyError(
      'FAILED_PRECONDITION',
      `the ORK string was issued under ${parts.kekRef}, which this process is not configured for: add it to SIDEKEY_KMS_PREVIOUS`,
    );
  }
  const context = kmsContext.ork(parts.tenant, parts.orkId);
  let key: Buffer | undefined;
  let check: Buffer | undefined;
  try {
    try {
      key = await source.unwrap(parts.wrapped, context);
    } catch (err) {
      throw kmsFailure(err, 'the ORK string does not verify');
    }
    const expected = Buffer.from(record.fingerprint, 'hex');
    const actual = Buffer.from(orkFingerprint(key), 'hex');
    if (key.length !== 32 || expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      throw unauthenticated('the ORK string does not verify');
    }
    let wrapped: Buffer;
    try {
      wrapped = await deps.target.wrap(key, context);
      check = await deps.target.unwrap(wrapped, context);
    } catch (err) {
      throw kmsFailure(err, `${deps.target.kekRef} did not wrap the ORK`);
    }
    if (check.length !== key.length || !timingSafeEqual(check, key)) {
      throw new SidekeyError('INTERNAL', `${deps.target.kekRef} did not give back the ORK it wrapped`);
    }
    return {
      orkId: parts.orkId,
      fromKekRef: parts.kekRef,
      toKekRef: deps.target.kekRef,
      orkString: encodeOrkString({ tenant, orkId: parts.orkId, kekRef: deps.target.kekRef, wrapped }),
    };
  } finally {
    zeroize(key, check);
  }
}

function kmsFailure(err: unknown, integrityMessage: string): SidekeyError {
  if (err instanceof SidekeyError) return err;
  if (err instanceof KmsError) {
    if (err.kind === 'integrity') return unauthenticated(integrityMessage);
    return unavailable(err.message, err);
  }
  return unavailable('the KMS is unavailable', err);
}
