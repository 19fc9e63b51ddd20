/**
 * Tenant and ORK administration, shared by the CLI and the first-start
 * bootstrap. Key material is generated here, wrapped at once and zeroed.
 */

import type { OrkScope } from '../access/index.js';
import {
  encodeOrkString,
  generateKey,
  newOrkId,
  orkFingerprint,
  type RandomSource,
  zeroize,
} from '../crypto/index.js';
import { SidekeyError } from '../errors/index.js';
import { type KekRing, kmsContext } from '../kms/index.js';
import { TENANT_PATTERN } from '../service/validate.js';
import type { Store } from '../store/index.js';

export interface AdminDeps {
  readonly store: Pick<Store, 'createTenant' | 'listTenants' | 'insertOrk' | 'getOrk' | 'revokeOrk'>;
  readonly keks: KekRing;
  readonly random: RandomSource;
}

export function assertTenantName(tenant: string): void {
  if (!TENANT_PATTERN.test(tenant)) {
    throw new SidekeyError('INVALID_ARGUMENT', 'a tenant name must match ^[a-z0-9][a-z0-9-]{0,62}$');
  }
}

/** Creates a tenant with TEK version 1 and its token root key. Returns false when it already exists. */
export async function createTenant(deps: AdminDeps, tenant: string): Promise<boolean> {
  assertTenantName(tenant);
  const tek = generateKey();
  const trk = generateKey();
  try {
    const kek = deps.keks.primary;
    const wrapped = await kek.wrap(tek, kmsContext.tek(tenant, 1));
    const trkWrapped = await kek.wrap(trk, kmsContext.tokenRootKey(tenant));
    return await deps.store.createTenant(
      tenant,
      { kekRef: kek.kekRef, wrapped },
      { kekRef: kek.kekRef, wrapped: trkWrapped },
    );
  } finally {
    zeroize(tek, trk);
  }
}

/**
 * The tenant's token root key, made now if the tenant predates token kinds
 * (v1.1). Concurrent callers end with one key: the store keeps the first.
 */
export async function ensureTokenRootKey(
  deps: { readonly store: Pick<Store, 'getTokenRootKey' | 'ensureTokenRootKey'>; readonly keks: KekRing },
  tenant: string,
): Promise<void> {
  if ((await deps.store.getTokenRootKey(tenant)) !== undefined) return;
  const trk = generateKey();
  try {
    const wrapped = await deps.keks.primary.wrap(trk, kmsContext.tokenRootKey(tenant));
    await deps.store.ensureTokenRootKey(tenant, { kekRef: deps.keks.primary.kekRef, wrapped });
  } finally {
    zeroize(trk);
  }
}

export interface IssuedOrk {
  readonly orkId: string;
  /** The ORK string: shown once, never stored. */
  readonly orkString: string;
}

/** Issues a new ORK for an existing tenant, with `scope` (default: every operation, full reveal). */
export async function issueOrk(
  deps: AdminDeps,
  tenant: string,
  label: string,
  scope?: OrkScope,
): Promise<IssuedOrk> {
  assertTenantName(tenant);
  const tenants = await deps.store.listTenants();
  const row = tenants.find((t) => t.tenant === tenant);
  if (row === undefined) throw new SidekeyError('NOT_FOUND', `tenant ${tenant} does not exist`);
  if (row.state !== 'active') throw new SidekeyError('FAILED_PRECONDITION', `tenant ${tenant} was shredded`);
  const ork = generateKey();
  try {
    const orkId = newOrkId(deps.random);
    const kek = deps.keks.primary;
    const wrapped = await kek.wrap(ork, kmsContext.ork(tenant, orkId));
    await deps.store.insertOrk({
      tenant,
      orkId,
      label,
      fingerprint: orkFingerprint(ork),
      ...(scope !== undefined && { allow: scope.allow, reveal: scope.reveal }),
    });
    return { orkId, orkString: encodeOrkString({ tenant, orkId, kekRef: kek.kekRef, wrapped }) };
  } finally {
    zeroize(ork);
  }
}
