/** `POST /v1/ingest/keys` / `GetIngestKeys`: the tenant's current ingest public keys (ORK required). */
import { toBase64Url } from '../crypto/index.js';
import type { Scope } from '../service/scope.js';
import { asBody, tenantOf } from '../service/validate.js';
import type { IngestKeyring } from './ingest-keyring.js';
import { SUITES, type SuiteName } from './suites.js';

export interface IngestPublicKey {
  readonly keyId: string;
  readonly kem: string;
  readonly kdf: string;
  readonly aead: string;
  /** base64url */
  readonly publicKey: string;
}
export interface IngestKeysResponse {
  readonly keys: IngestPublicKey[];
}

/** Post-quantum first: a client that takes the first key it supports gets X-Wing. */
const PREFERENCE: Readonly<Record<SuiteName, number>> = { xwing: 0, x25519: 1 };

export async function getIngestKeys(
  scope: Scope,
  ingest: IngestKeyring,
  input: unknown,
): Promise<IngestKeysResponse> {
  const tenant = tenantOf(asBody(input));
  scope.audit.tenant = tenant;
  await scope.authenticate(tenant);
  const rows = [...(await ingest.publicKeys(tenant))].sort(
    (a, b) => PREFERENCE[a.suite] - PREFERENCE[b.suite],
  );
  scope.audit.count = rows.length;
  return {
    keys: rows.map((r) => ({
      keyId: r.keyId,
      kem: SUITES[r.suite].kem,
      kdf: SUITES[r.suite].kdf,
      aead: SUITES[r.suite].aead,
      publicKey: toBase64Url(r.publicKey),
    })),
  };
}
