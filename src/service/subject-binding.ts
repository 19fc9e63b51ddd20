/**
 * What a data subject (issue 13) changes in an operation, behind one small
 * interface so tokenize and encrypt ask it rather than branch on it:
 *
 * - sealing: values are sealed under FDK_s = f(FDK, K_subj) instead of the FDK;
 * - minting: a deterministic token's key includes K_subj (kinds.ts);
 * - writing: a subject's records go through the store's locked write, which
 *   refuses (nothing stored) once the subject was forgotten.
 *
 * Reads (detokenize, decrypt) use SubjectReadKeys: an item whose subject was
 * forgotten is the per-item FAILED_PRECONDITION.
 */
import { subjectFdk, zeroize } from '../crypto/index.js';
import { failedPrecondition, type ItemError } from '../errors/index.js';
import type { SubjectKeys } from '../keyring/index.js';
import type { TokenRow } from '../store/index.js';
import { type Scope, storeFailure } from './scope.js';

export const FORGOTTEN_ITEM: ItemError = {
  code: 'FAILED_PRECONDITION',
  message: 'the data subject of this value was forgotten',
};

export interface SubjectBinding {
  /** Set on the records written (null: no subject). */
  readonly keyId: string | null;
  /** The minter's view of the subject (kinds.ts), if any. */
  readonly mint: { readonly key: Buffer; readonly keyId: string } | undefined;
  /** The key values are sealed under: `fdk` itself, or a new FDK_s the caller zeroes too. */
  sealingKey(fdk: Buffer): Buffer;
  write(rows: readonly TokenRow[]): Promise<void>;
  close(): void;
}

const NO_SUBJECT = (scope: Scope): SubjectBinding => ({
  keyId: null,
  mint: undefined,
  sealingKey: (fdk) => fdk,
  write: async (rows) => {
    try {
      await scope.deps.writer.writeTokens(rows);
    } catch (err) {
      throw storeFailure(err);
    }
  },
  close: () => {},
});

/** The binding of one call: the subject's key is created on first use. */
export async function subjectBindingOf(
  scope: Scope,
  tenant: string,
  subject: string | undefined,
): Promise<SubjectBinding> {
  if (subject === undefined) return NO_SUBJECT(scope);
  const { deps } = scope;
  const { key, keyId } = await deps.subjects.forSubject(tenant, subject);
  return {
    keyId,
    mint: { key, keyId },
    sealingKey: (fdk) => subjectFdk(fdk, key, tenant, keyId),
    write: async (rows) => {
      let written: boolean;
      try {
        written = await deps.subjectWriter.writeSubjectTokens(tenant, keyId, rows);
      } catch (err) {
        throw storeFailure(err);
      }
      if (!written) {
        deps.subjects.forgetKey(tenant, keyId);
        throw failedPrecondition(
          'the data subject was forgotten while this call ran; nothing was stored (a new call gives the subject a new key)',
        );
      }
    },
    close: () => zeroize(key),
  };
}

/**
 * Subject keys of one read call by key id, fetched once and zeroed by
 * `close()`; FORGOTTEN_ITEM for a key that is gone.
 */
export class SubjectReadKeys {
  private readonly keys = new Map<string, Buffer | undefined>();

  constructor(
    private readonly subjects: Pick<SubjectKeys, 'byId'>,
    private readonly tenant: string,
  ) {}

  /** `fdk` itself when there is no subject; else a new FDK_s the caller zeroes. */
  async sealingKey(fdk: Buffer, keyId: string | null | undefined): Promise<Buffer | ItemError> {
    if (keyId === null || keyId === undefined) return fdk;
    let key = this.keys.get(keyId);
    if (!this.keys.has(keyId)) {
      key = await this.subjects.byId(this.tenant, keyId);
      this.keys.set(keyId, key);
    }
    if (key === undefined) return FORGOTTEN_ITEM;
    return subjectFdk(fdk, key, this.tenant, keyId);
  }

  close(): void {
    for (const k of this.keys.values()) zeroize(k);
    this.keys.clear();
  }
}
