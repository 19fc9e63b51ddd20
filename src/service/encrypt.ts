import { orkIdToBytes, sealCiphertext, zeroize } from '../crypto/index.js';
import { encodeCiphertext } from './ciphertext-string.js';
import type { Scope } from './scope.js';
import type { EncryptResponse } from './types.js';
import { asBody, fieldOf, MAX_CONTEXT_BYTES, optionalText, tenantOf, valuesOf } from './validate.js';

/** All or nothing; stores nothing. `context` is bound as associated data. */
export async function encrypt(scope: Scope, input: unknown): Promise<EncryptResponse> {
  const { deps, audit } = scope;
  const body = asBody(input);
  const tenant = tenantOf(body);
  const field = fieldOf(body);
  const plaintexts = valuesOf(body, 'plaintexts', deps.limits);
  const context = optionalText(body, 'context', MAX_CONTEXT_BYTES);
  Object.assign(audit, { tenant, fields: [field], count: plaintexts.length });
  const id = await scope.authenticate(tenant);
  const version = await deps.keyring.primaryVersion(tenant);
  audit.tekVersions = [version];
  const fdk = await deps.keyring.fdk(id, field, version);
  const orkIdBytes = orkIdToBytes(id.orkId);
  try {
    const binding = { tenant, field, tekVersion: version, orkId: id.orkId, context };
    const ciphertexts = plaintexts.map((p) =>
      encodeCiphertext(sealCiphertext(fdk, binding, orkIdBytes, Buffer.from(p, 'utf8'), deps.random)),
    );
    return { ciphertexts };
  } finally {
    zeroize(fdk);
  }
}
