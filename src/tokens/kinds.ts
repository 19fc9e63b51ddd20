/**
 * Token kinds behind one interface: a Minter turns a value into the token
 * the caller gets and the key its record is stored under. tokenize asks the
 * field's policy for a kind and the kind for a minter; it has no branch per
 * kind. Keys a minter derives are zeroed by close().
 */
import { isTokenSyntax, newToken, type RandomSource, subjectDetKey, zeroize } from '../crypto/index.js';
import { invalid } from '../errors/index.js';
import type { TokenKindName } from '../store/index.js';
import { describeRefusal, type FpeFormat } from './fpe.js';
import { deterministicToken, fieldKey, fpeStorageId } from './token-keys.js';

export interface Minted {
  /** What the caller gets. */
  readonly token: string;
  /** The record's key in the store (the token itself but for fpe). */
  readonly recordKey: string;
}

export interface Minter {
  /** Throws INVALID_ARGUMENT naming `index` (never the value) when the value cannot have a token of this kind. */
  mint(value: string, index: number): Minted;
  close(): void;
}

export interface MintContext {
  readonly tenant: string;
  readonly field: string;
  readonly random: RandomSource;
  /** fpe policies only. */
  readonly format?: FpeFormat;
  /** K_tok of the caller's lineage (a copy this minter owns and zeroes); only asked for by keyed kinds. */
  tokenKey(): Promise<Buffer>;
  /**
   * The data subject's key (issue 13; the caller owns and zeroes it): a
   * deterministic token's scope then includes the subject (K_det_s,
   * docs/formats.md §18); fpe refuses subjects.
   */
  readonly subject?: { readonly key: Buffer; readonly keyId: string };
}

type KindFactory = (ctx: MintContext) => Promise<Minter>;

const random: KindFactory = async (ctx) => ({
  mint: () => {
    const token = newToken(ctx.random);
    return { token, recordKey: token };
  },
  close: () => {},
});

const deterministic: KindFactory = async (ctx) => {
  const tokenKey = await ctx.tokenKey();
  const fieldDetKey = fieldKey(tokenKey, 'det', ctx.field);
  zeroize(tokenKey);
  let key = fieldDetKey;
  if (ctx.subject !== undefined) {
    key = subjectDetKey(fieldDetKey, ctx.subject.key, ctx.subject.keyId);
    zeroize(fieldDetKey);
  }
  return {
    mint: (value) => {
      const token = deterministicToken(key, value);
      return { token, recordKey: token };
    },
    close: () => zeroize(key),
  };
};

const fpe: KindFactory = async (ctx) => {
  const format = ctx.format;
  if (format === undefined) throw new TypeError('an fpe minter needs the policy format');
  // fpe tokens of different subjects collide in small domains, and the
  // idempotent insert would then answer with another subject's record.
  if (ctx.subject !== undefined)
    throw invalid('subject cannot be used with an fpe field (its tokens are not unique per subject)');
  // Imported here, by the first fpe minter: see fpe-cipher.ts.
  const { fpeTransform } = await import('./fpe-cipher.js');
  const tokenKey = await ctx.tokenKey();
  const key = fieldKey(tokenKey, 'fpe', ctx.field);
  const idKey = fieldKey(tokenKey, 'fpe-id', ctx.field);
  zeroize(tokenKey);
  return {
    mint: (value, index) => {
      const out = fpeTransform(key, ctx.tenant, ctx.field, format, value);
      if ('refused' in out) throw invalid(`values[${index}] ${describeRefusal(out.refused, format)}`, index);
      return { token: out.token, recordKey: fpeStorageId(idKey, out.token) };
    },
    close: () => zeroize(key, idKey),
  };
};

export const MINTERS: Readonly<Record<TokenKindName, KindFactory>> = { random, deterministic, fpe };

/**
 * Whether a kind can mint a data subject's tokens (issue 13): asked before
 * the subject's key is made, so a refused call stores nothing at all. fpe
 * tokens of different subjects collide in small domains.
 */
export function checkSubjectAllowed(kind: TokenKindName, subject: string | undefined): void {
  if (subject !== undefined && kind === 'fpe')
    throw invalid('subject cannot be used with an fpe field (its tokens are not unique per subject)');
}

/**
 * Where a presented token's record may be stored: the token itself when it
 * has the `tok_` syntax, and — when the caller names the field — its fpe
 * storage id under the caller's lineage. Detokenize and delete look up all
 * candidates and take the one of the caller's tenant, ORK and field.
 */
export class RecordKeys {
  private constructor(private readonly idKey: Buffer | undefined) {}

  /** Without a field: the v1 rule (the token is its own key). */
  static v1(): RecordKeys {
    return new RecordKeys(undefined);
  }

  /** With a field: fpe storage ids too (`tokenKey` undefined when the tenant has no token root key: no fpe records exist). */
  static forField(tokenKey: Buffer | undefined, field: string): RecordKeys {
    if (tokenKey === undefined) return new RecordKeys(undefined);
    const idKey = fieldKey(tokenKey, 'fpe-id', field);
    zeroize(tokenKey);
    return new RecordKeys(idKey);
  }

  candidates(token: string): string[] {
    const keys = isTokenSyntax(token) ? [token] : [];
    if (this.idKey !== undefined) keys.push(fpeStorageId(this.idKey, token));
    return keys;
  }

  close(): void {
    zeroize(this.idKey);
  }
}
