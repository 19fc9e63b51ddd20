/**
 * Searching for secrets in anything a test can capture (log lines, error
 * messages, a pg_dump, a heap snapshot, process memory): the forms a secret
 * could take there, and the key material of a daemon on the local
 * development KEK, unwrapped here so tests can look for the raw key bytes.
 */
import { join } from 'node:path';
import { decodeOrkString, deriveFdk, systemRandom } from '../../src/crypto/index.js';
import { kmsContext, LOCAL_KEK_FILE, LocalKek, loadOrCreateLocalKek } from '../../src/kms/index.js';
import type { Store } from '../../src/store/index.js';

/**
 * The forms bytes could take in text besides themselves: hex (bytea output)
 * and base64/base64url starting at any of the 3 byte alignments (the secret
 * may sit anywhere inside a larger encoded blob; the last, partial group is
 * left out as it depends on what follows).
 */
export function encodedForms(bytes: Buffer): string[] {
  const hex = bytes.toString('hex');
  const forms = [hex, hex.toUpperCase()];
  for (let skip = 0; skip < 3; skip++) {
    const tail = bytes.subarray(skip);
    const whole = Math.floor(tail.length / 3) * 3;
    if (whole < 12) continue; // shorter needles would say nothing
    const b64 = tail.subarray(0, whole).toString('base64');
    forms.push(b64, b64.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return forms;
}

export function found(haystack: string, needles: readonly string[]): string | undefined {
  return needles.find((n) => haystack.includes(n));
}

export interface Secret {
  readonly name: string;
  readonly bytes: Buffer;
  /** Its own text form, when it is text (an ORK string, a value). */
  readonly text?: string;
}

/** Every text needle of a set of secrets: their text and every encoded form of their bytes. */
export function needlesOf(secrets: readonly Secret[]): { name: string; needle: string }[] {
  return secrets.flatMap((s) => [
    ...(s.text === undefined ? [] : [{ name: s.name, needle: s.text }]),
    ...encodedForms(s.bytes).map((needle) => ({ name: `${s.name} (encoded)`, needle })),
    // The raw bytes, as Latin-1 text: what `buffer.toString('latin1'|'binary')` would log.
    ...(s.text === undefined ? [{ name: `${s.name} (raw bytes)`, needle: s.bytes.toString('latin1') }] : []),
  ]);
}

/** Names of the secrets found in `haystack` (empty when none). */
export function secretsIn(haystack: string, secrets: readonly Secret[]): string[] {
  return [
    ...new Set(
      needlesOf(secrets)
        .filter((n) => haystack.includes(n.needle))
        .map((n) => n.name),
    ),
  ];
}

export interface KeyMaterial {
  readonly tek: Buffer;
  readonly ork: Buffer;
  readonly fdk: Buffer;
  /** The ORK string, its wrapped ORK, and the three raw keys. */
  readonly secrets: Secret[];
}

/**
 * The raw TEK (primary version), ORK and the FDK of `field` of a daemon whose
 * KEK is the local development key file in `kekDir`.
 */
export async function keyMaterial(
  kekDir: string,
  store: Pick<Store, 'getTenantKeys'>,
  orkString: string,
  field: string,
): Promise<KeyMaterial> {
  const parts = decodeOrkString(orkString);
  if (parts === undefined) throw new Error('not an ORK string');
  const kek = new LocalKek(loadOrCreateLocalKek(join(kekDir, LOCAL_KEK_FILE)).key, systemRandom);
  try {
    const rows = await store.getTenantKeys(parts.tenant);
    const primary = rows.find((r) => r.state === 'primary');
    if (primary?.wrapped == null) throw new Error(`no primary TEK for ${parts.tenant}`);
    const tek = await kek.unwrap(primary.wrapped, kmsContext.tek(parts.tenant, primary.version));
    const ork = await kek.unwrap(parts.wrapped, kmsContext.ork(parts.tenant, parts.orkId));
    const fdk = deriveFdk(tek, ork, parts.tenant, field, primary.version);
    return {
      tek,
      ork,
      fdk,
      secrets: [
        { name: 'ORK string', bytes: Buffer.from(orkString), text: orkString },
        { name: 'wrapped ORK', bytes: parts.wrapped },
        { name: 'TEK', bytes: tek },
        { name: 'ORK', bytes: ork },
        { name: `FDK of ${field}`, bytes: fdk },
      ],
    };
  } finally {
    await kek.close();
  }
}
