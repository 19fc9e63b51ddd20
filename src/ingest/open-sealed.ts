/**
 * The ingest pre-step (API.md "End-to-end encrypted ingest"): a tokenize or
 * encrypt whose body carries sealed items is opened here into the plain
 * body the existing operation takes, then handed to it unchanged — the
 * operations themselves know nothing of HPKE.
 *
 *   { tenant, field, sealedValues: [...] }  →  { tenant, field, values: [...] }  →  tokenize
 *
 * Rules: exactly one of the plain list and the sealed list (an empty list is
 * absent, as proto3 sends it); the ORK is verified before anything is
 * opened; every item must open with a current key of that tenant, sealed
 * for that tenant and field, or the call fails with INVALID_ARGUMENT naming
 * its index and nothing is stored. The message is the same whatever went
 * wrong (syntax, unknown or retired key, another tenant or field, tampered):
 * no oracle. Opened bytes are zeroed once decoded; the values then live as
 * strings exactly as plain values do.
 */
import { zeroize } from '../crypto/index.js';
import { invalid } from '../errors/index.js';
import type { Scope } from '../service/scope.js';
import { asBody, batchOf, fieldOf, tenantOf } from '../service/validate.js';
import type { IngestKeyring } from './ingest-keyring.js';
import { ingestInfo, type OpeningKey, openSealed, parseSealed, type SealedParts } from './suites.js';

export interface SealedNames {
  /** The plain list the operation reads: `values` or `plaintexts`. */
  readonly plain: string;
  /** Its sealed counterpart: `sealedValues` or `sealedPlaintexts`. */
  readonly sealed: string;
}

export const TOKENIZE_SEALED: SealedNames = { plain: 'values', sealed: 'sealedValues' };
export const ENCRYPT_SEALED: SealedNames = { plain: 'plaintexts', sealed: 'sealedPlaintexts' };

const present = (v: unknown) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Runs `operation` on `input`, first opening its sealed items when it has
 * any. Bodies without sealed items go through untouched.
 */
export async function withSealedItems<T>(
  scope: Scope,
  ingest: IngestKeyring | undefined,
  input: unknown,
  names: SealedNames,
  operation: (scope: Scope, input: unknown) => Promise<T>,
): Promise<T> {
  const body =
    typeof input === 'object' && input !== null && !Array.isArray(input) ? asBody(input) : undefined;
  if (body === undefined || !present(body[names.sealed])) return operation(scope, input);
  if (present(body[names.plain])) throw invalid(`give exactly one of ${names.plain} and ${names.sealed}`);
  if (ingest === undefined) throw invalid(`${names.sealed} is not supported by this sidecar`);
  const tenant = tenantOf(body);
  const field = fieldOf(body);
  const items = batchOf(body, names.sealed, scope.deps.limits);
  Object.assign(scope.audit, { tenant, fields: [field], count: items.length });
  await scope.authenticate(tenant);
  const opened = await openAll(ingest, tenant, field, items, names.sealed, scope.deps.limits.maxValueBytes);
  const result = await operation(scope, { ...body, [names.plain]: opened, [names.sealed]: undefined });
  scope.audit.detail = { ...scope.audit.detail, sealed: items.length };
  return result;
}

async function openAll(
  ingest: IngestKeyring,
  tenant: string,
  field: string,
  items: readonly string[],
  name: string,
  maxValueBytes: number,
): Promise<string[]> {
  const fail = (i: number) =>
    invalid(
      `${name}[${i}] does not open: it is not a value sealed for this tenant and field under a current key`,
      i,
    );
  const parsed: SealedParts[] = items.map((item, i) => {
    const parts = parseSealed(item, maxValueBytes);
    if (parts === undefined) throw fail(i);
    return parts;
  });
  const info = ingestInfo(tenant, field);
  const keys = new Map<string, OpeningKey | undefined>();
  const values: string[] = new Array(items.length);
  for (let i = 0; i < parsed.length; i++) {
    const parts = parsed[i]!;
    if (!keys.has(parts.keyId)) keys.set(parts.keyId, await ingest.openingKeyFor(tenant, parts.keyId));
    const key = keys.get(parts.keyId);
    if (key === undefined) throw fail(i);
    const plaintext = await openSealed(key, parts, info);
    if (plaintext === undefined) throw fail(i);
    try {
      values[i] = strictUtf8.decode(plaintext);
    } catch {
      throw invalid(`${name}[${i}] opened to bytes that are not UTF-8`, i);
    } finally {
      zeroize(plaintext);
    }
  }
  return values;
}
