import { orkIdToBytes, sealCiphertext, sealSubjectCiphertext, zeroize } from '../crypto/index.js';
import { encodeCiphertext } from './ciphertext-string.js';
import type { Scope } from './scope.js';
import { subjectBindingOf } from './subject-binding.js';
import type { EncryptResponse } from './types.js';
import {
  asBody,
  fieldOf,
  MAX_CONTEXT_BYTES,
  optionalSubjectOf,
  optionalText,
  tenantOf,
  valuesOf,
} from './validate.js';

/**
 * All or nothing; stores nothing. `context` is bound as associated data.
 * With a `subject` the ciphertexts have format 0x03 (docs/formats.md §18):
 * sealed under the subject's key too, and naming it by id.
 */
export async function encrypt(scope: Scope, input: unknown): Promise<EncryptResponse> {
  const { deps, audit } = scope;
  const body = asBody(input);
  const tenant = tenantOf(body);
  const field = fieldOf(body);
  const plaintexts = valuesOf(body, 'plaintexts', deps.limits);
  const context = optionalText(body, 'context', MAX_CONTEXT_BYTES);
  const subject = optionalSubjectOf(body);
  Object.assign(audit, { tenant, fields: [field], count: plaintexts.length });
  if (subject !== undefined) audit.detail = { subject: true };
  const id = await scope.authenticate(tenant);
  const version = await deps.keyring.primaryVersion(tenant);
  audit.tekVersions = [version];
  const subjectBinding = await subjectBindingOf(scope, tenant, subject);
  let fdk: Buffer | undefined;
  let sealKey: Buffer | undefined;
  try {
    fdk = await deps.keyring.fdk(id, field, version);
    sealKey = subjectBinding.sealingKey(fdk);
    const binding = { tenant, field, tekVersion: version, orkId: id.orkId, context };
    const keyId = subjectBinding.keyId;
    const key = sealKey;
    const orkIdBytes = orkIdToBytes(id.orkId);
    const seal =
      keyId === null
        ? (p: Buffer) => sealCiphertext(key, binding, orkIdBytes, p, deps.random)
        : (p: Buffer) => sealSubjectCiphertext(key, { ...binding, subjectKeyId: keyId }, p, deps.random);
    const ciphertexts = plaintexts.map((p) => encodeCiphertext(seal(Buffer.from(p, 'utf8'))));
    return { ciphertexts };
  } finally {
    zeroize(fdk, sealKey);
    subjectBinding.close();
  }
}
