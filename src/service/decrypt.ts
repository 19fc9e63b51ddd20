import { openCiphertext, openSubjectCiphertext, orkIdToBytes, zeroize } from '../crypto/index.js';
import { type ItemError, invalid, SidekeyError } from '../errors/index.js';
import { CIPHERTEXT_PREFIX, decodeCiphertext } from './ciphertext-string.js';
import { maskRequested, Reveal } from './reveal.js';
import { CallKeys, decodeUtf8, type Scope } from './scope.js';
import { SubjectReadKeys } from './subject-binding.js';
import type { DecryptResponse, DecryptResult } from './types.js';
import {
  asBody,
  batchOf,
  fieldOf,
  type Limits,
  MAX_CONTEXT_BYTES,
  optionalText,
  tenantOf,
} from './validate.js';

/** One message for every reason a well-formed ciphertext does not open: it reveals nothing. */
const UNDECRYPTABLE_ITEM: ItemError = {
  code: 'INVALID_ARGUMENT',
  message: 'the ciphertext does not decrypt with this tenant, field, context and organisation key',
};

/**
 * Per item; a malformed ciphertext string fails the whole call. Masked
 * (`mask`, or an ORK limited to masked reveal) by the policy of the
 * request's field.
 */
export async function decrypt(scope: Scope, input: unknown): Promise<DecryptResponse> {
  const { deps, audit } = scope;
  const body = asBody(input);
  const tenant = tenantOf(body);
  const field = fieldOf(body);
  const texts = ciphertextsOf(body, deps.limits);
  const context = optionalText(body, 'context', MAX_CONTEXT_BYTES);
  const maskAsked = maskRequested(body);
  Object.assign(audit, { tenant, fields: [field], count: texts.length });
  const id = await scope.authenticate(tenant);
  const reveal = Reveal.of(scope, id, maskAsked);
  await reveal.prepare(field);
  const ownOrkId = orkIdToBytes(id.orkId);
  const results: DecryptResult[] = new Array(texts.length);
  const versions = new Set<number>();
  const keys = new CallKeys(deps.keyring, id);
  const subjectKeys = new SubjectReadKeys(deps.subjects, tenant);
  let ok = 0;
  try {
    for (let i = 0; i < texts.length; i++) {
      const { bytes, header } = texts[i]!;
      if (!header.orkIdBytes.equals(ownOrkId)) {
        results[i] = { error: UNDECRYPTABLE_ITEM };
        continue;
      }
      const fdk = await keys.get(field, header.tekVersion);
      if (!Buffer.isBuffer(fdk)) {
        results[i] = { error: fdk };
        continue;
      }
      const binding = { tenant, field, tekVersion: header.tekVersion, orkId: id.orkId, context };
      const subjectKeyId = header.subjectKeyId;
      const key = await subjectKeys.sealingKey(fdk, subjectKeyId);
      if (!Buffer.isBuffer(key)) {
        results[i] = { error: key };
        continue;
      }
      let plain: Buffer | undefined;
      try {
        plain =
          subjectKeyId === undefined
            ? openCiphertext(key, binding, bytes)
            : openSubjectCiphertext(key, { ...binding, subjectKeyId }, bytes);
      } finally {
        if (key !== fdk) zeroize(key);
      }
      const text = plain === undefined ? undefined : decodeUtf8(plain);
      if (text === undefined) {
        results[i] = { error: UNDECRYPTABLE_ITEM };
        continue;
      }
      const shown = reveal.show(field, text);
      results[i] = shown.masked ? { plaintext: shown.value, masked: true } : { plaintext: text };
      versions.add(header.tekVersion);
      ok++;
    }
  } finally {
    keys.close();
    subjectKeys.close();
  }
  Object.assign(audit, { tekVersions: [...versions], itemErrors: texts.length - ok });
  return { results };
}

/** Syntax is checked up front: a string that is not a sidekey ciphertext fails the call, naming its index. */
function ciphertextsOf(body: Record<string, unknown>, limits: Limits) {
  // ASCII; at most the value limit plus envelope overhead, in base64url.
  const maxChars = CIPHERTEXT_PREFIX.length + Math.ceil(((limits.maxValueBytes + 64) * 4) / 3);
  return batchOf(body, 'ciphertexts', limits).map((text, i) => {
    if (text.length > maxChars) {
      throw new SidekeyError('PAYLOAD_TOO_LARGE', `ciphertexts[${i}] is over the size limit`, { index: i });
    }
    const decoded = decodeCiphertext(text);
    if (decoded === undefined) throw invalid(`ciphertexts[${i}] is not a sidekey ciphertext`, i);
    return decoded;
  });
}
