/**
 * Making ingest key pairs: one per suite, private keys from the CSPRNG,
 * wrapped by the primary KEK with the context {purpose: ingest, tenant,
 * key_id} before anything is stored. The seed is zeroed here; only the
 * wrapped form leaves.
 */
import { type RandomSource, zeroize } from '../crypto/index.js';
import { type KekPort, kmsContext } from '../kms/index.js';
import type { NewIngestKey } from '../store/index.js';
import { keyPairFromSeed, newKeyId, PRIVATE_KEY_BYTES, SUITE_NAMES } from './suites.js';

export async function newIngestKeys(
  kek: KekPort,
  random: RandomSource,
  tenant: string,
): Promise<NewIngestKey[]> {
  const keys: NewIngestKey[] = [];
  for (const suite of SUITE_NAMES) {
    const keyId = newKeyId(suite, Buffer.from(random.bytes(16)));
    const seed = Buffer.from(random.bytes(PRIVATE_KEY_BYTES));
    let privateKey: Buffer | undefined;
    try {
      const pair = await keyPairFromSeed(suite, seed);
      privateKey = pair.privateKey;
      const wrapped = await kek.wrap(privateKey, kmsContext.ingestKey(tenant, keyId));
      keys.push({ keyId, suite, publicKey: pair.publicKey, kekRef: kek.kekRef, wrapped });
    } finally {
      zeroize(seed, privateKey);
    }
  }
  return keys;
}
