/**
 * Sealing for tests and benchmarks, through the real client module
 * (clients/browser/sidekey-seal.js): the sidecar itself only opens.
 */
import { createSealer, type IngestKey } from '../../clients/browser/sidekey-seal.js';

/** Seals `values` for (tenant, field) to exactly `key` (one entry of GetIngestKeys). */
export async function sealWith(
  key: IngestKey,
  tenant: string,
  field: string,
  values: readonly string[],
): Promise<string[]> {
  const sealer = await createSealer([key], { tenant, kems: [key.kem] });
  return sealer.seal(field, values);
}

/** The same for one value. */
export async function sealOne(key: IngestKey, tenant: string, field: string, value: string): Promise<string> {
  const [sealed] = await sealWith(key, tenant, field, [value]);
  return sealed!;
}
