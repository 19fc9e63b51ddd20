import { RecordSealer, zeroize } from '../crypto/index.js';
import { effectiveTtl, expiresAtOf, fpeFormatOf } from '../policy/index.js';
import type { TokenRow } from '../store/index.js';
import { checkSubjectAllowed, MINTERS } from '../tokens/index.js';
import { type Scope, storeFailure } from './scope.js';
import { type SubjectBinding, subjectBindingOf } from './subject-binding.js';
import type { TokenizeResponse } from './types.js';
import { asBody, fieldOf, optionalSubjectOf, optionalTtlOf, tenantOf, valuesOf } from './validate.js';

/**
 * All or nothing; resolves only once every returned token is durable. The
 * field's policy chooses the token kind (random, deterministic, fpe); a
 * repeated deterministic or fpe value maps to the record already stored
 * (the insert is idempotent on the record key, and keeps that record's
 * expiry until it has passed). The TTL is the policy's, or the request's
 * `ttlSeconds` when shorter. With a `subject` the values are also sealed
 * under the subject's key (subject-binding.ts).
 */
export async function tokenize(scope: Scope, input: unknown): Promise<TokenizeResponse> {
  const { deps, audit } = scope;
  const body = asBody(input);
  const tenant = tenantOf(body);
  const field = fieldOf(body);
  const values = valuesOf(body, 'values', deps.limits);
  const requestTtl = optionalTtlOf(body);
  const subject = optionalSubjectOf(body);
  Object.assign(audit, { tenant, fields: [field], count: values.length });
  const id = await scope.authenticate(tenant);
  let policy: Awaited<ReturnType<typeof deps.policies.policyFor>>;
  try {
    policy = await deps.policies.policyFor(tenant, field);
  } catch (err) {
    throw storeFailure(err);
  }
  if (policy.kind !== 'random') audit.detail = { kind: policy.kind };
  checkSubjectAllowed(policy.kind, subject);
  const ttl = effectiveTtl(policy.ttlSeconds, requestTtl);
  if (ttl !== null) audit.detail = { ...audit.detail, ttlSeconds: ttl };
  const expiresAt = expiresAtOf(ttl, deps.now());
  const version = await deps.keyring.primaryVersion(tenant);
  audit.tekVersions = [version];
  // A subject's id stays out of the audit event of its values (only `forget` names subjects).
  if (subject !== undefined) audit.detail = { ...audit.detail, subject: true };
  const binding: SubjectBinding = await subjectBindingOf(scope, tenant, subject);
  const tokens: string[] = new Array(values.length);
  const rows: TokenRow[] = [];
  try {
    await mintAndSeal();
    await binding.write(rows);
  } finally {
    binding.close();
  }
  // New records are not put in the record cache: it fills on reads. Caching
  // every minted record churned the cache (and the old generation of the
  // heap) for tokens seldom read back by the same sidecar: without it,
  // tokenize-100 CPU fell 26% and tokenize-1 10% (bench compare, 2026-11-27).
  return { tokens };

  async function mintAndSeal(): Promise<void> {
    const minter = await MINTERS[policy.kind]({
      tenant,
      field,
      random: deps.random,
      ...(policy.kind === 'fpe' && { format: fpeFormatOf(policy) }),
      tokenKey: () => deps.keyring.tokenKey(id),
      ...(binding.mint && { subject: binding.mint }),
    });
    let fdk: Buffer | undefined;
    let sealKey: Buffer | undefined;
    let sealer: RecordSealer | undefined;
    try {
      fdk = await deps.keyring.fdk(id, field, version);
      sealKey = binding.sealingKey(fdk);
      sealer = new RecordSealer(
        sealKey,
        { tenant, field, tekVersion: version, orkId: id.orkId },
        deps.random,
      );
      const seen = new Set<string>();
      for (let i = 0; i < values.length; i++) {
        const { token, recordKey } = minter.mint(values[i]!, i);
        tokens[i] = token;
        if (seen.has(recordKey)) continue; // the same value twice in a deterministic batch: one record
        seen.add(recordKey);
        const envelope = sealer.seal(recordKey, Buffer.from(values[i]!, 'utf8'));
        rows.push({
          token: recordKey,
          tenant,
          field,
          orkId: id.orkId,
          tekVersion: version,
          envelope,
          kind: policy.kind,
          ...(expiresAt !== null && { expiresAt }),
          ...(binding.keyId !== null && { subjectKeyId: binding.keyId }),
        });
      }
    } finally {
      sealer?.close();
      zeroize(fdk, sealKey);
      minter.close();
    }
  }
}
