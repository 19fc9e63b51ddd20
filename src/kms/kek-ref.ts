/**
 * KEK references as an operator writes them (`SIDEKEY_KMS_PREVIOUS`,
 * `sidekey rotate kek --to`, `sidekey ork reissue --to`):
 *
 *   local                    the local development key file `<data dir>/kek.key`
 *   local:<fingerprint>      the same file, checked to have this fingerprint (16 hex)
 *   aws:<key>                an AWS KMS key: id, key ARN, `alias/…` or alias ARN
 *   vault:<key name>         a Vault transit key on SIDEKEY_VAULT_TRANSIT_MOUNT
 *   vault:<mount>/<key name> a Vault transit key on another mount
 *
 * Each resolves to a KEK whose `kekRef` is exactly what sidekey records beside
 * the keys it wraps (`local:<fingerprint>`, `aws:<key as written>`,
 * `vault:<mount>/<key name>`), so the `kekRef` shown by `sidekey keys status`
 * is always a valid reference. Pure: no I/O, no imports.
 */

export type KekSpec =
  | { readonly provider: 'local'; readonly fingerprint?: string }
  | { readonly provider: 'aws'; readonly keyId: string }
  | { readonly provider: 'vault'; readonly keyName: string; readonly mount?: string };

/** Why a KEK reference is not valid; the message names the reference (never secret). */
export class KekRefError extends Error {
  override readonly name = 'KekRefError';
}

const LOCAL_FINGERPRINT = /^[0-9a-f]{16}$/;
// AWS key ids, ARNs and aliases: printable ASCII without spaces or commas.
const AWS_KEY = /^[A-Za-z0-9:/_+=.@-]{1,2048}$/;
// Vault transit key names (Vault's GenericNameRegex) and mount paths.
const VAULT_KEY_NAME = /^\w(?:[\w.-]*\w)?$/;
const VAULT_MOUNT = /^[\w.-]+(?:\/[\w.-]+)*$/;

export function parseKekRef(text: string): KekSpec {
  const ref = text.trim();
  const shown = JSON.stringify(ref.slice(0, 120));
  const colon = ref.indexOf(':');
  const provider = colon < 0 ? ref : ref.slice(0, colon);
  const rest = colon < 0 ? undefined : ref.slice(colon + 1);
  switch (provider) {
    case 'local':
      if (rest === undefined) return { provider: 'local' };
      if (!LOCAL_FINGERPRINT.test(rest))
        throw new KekRefError(`${shown}: a local KEK is "local" or "local:<16 hex fingerprint>"`);
      return { provider: 'local', fingerprint: rest };
    case 'aws':
      if (rest === undefined || !AWS_KEY.test(rest))
        throw new KekRefError(`${shown}: an AWS KMS KEK is "aws:<key id, key ARN, alias/name or alias ARN>"`);
      return { provider: 'aws', keyId: rest };
    case 'vault': {
      const slash = rest?.lastIndexOf('/') ?? -1;
      const keyName = rest === undefined ? '' : rest.slice(slash + 1);
      const mount = rest === undefined || slash < 0 ? undefined : rest.slice(0, slash).replace(/^\/+/, '');
      if (!VAULT_KEY_NAME.test(keyName) || (mount !== undefined && !VAULT_MOUNT.test(mount)))
        throw new KekRefError(
          `${shown}: a Vault KEK is "vault:<transit key name>" or "vault:<mount>/<key name>"`,
        );
      return mount === undefined ? { provider: 'vault', keyName } : { provider: 'vault', keyName, mount };
    }
    default:
      throw new KekRefError(`${shown}: a KEK reference starts with local, aws: or vault:`);
  }
}

/** A comma-separated list of references (empty entries ignored). */
export function parseKekRefList(text: string): KekSpec[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(parseKekRef);
}
