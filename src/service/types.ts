import type { ItemError } from '../errors/index.js';

/** Who is calling, as the transport saw it. Never logged whole: the ORK stays out of every log. */
export interface CallContext {
  /** The ORK string from the header/metadata; undefined when absent. */
  readonly orkString: string | undefined;
  readonly requestId: string;
  readonly caller: 'http' | 'grpc';
}

export interface TokenizeResponse {
  readonly tokens: string[];
}
/** `masked: true` when the value was masked (API.md "Masked reveal"). */
export type DetokenizeResult =
  | { readonly value: string; readonly masked?: true }
  | { readonly error: ItemError };
export interface DetokenizeResponse {
  readonly results: DetokenizeResult[];
}
export interface EncryptResponse {
  readonly ciphertexts: string[];
}
export type DecryptResult =
  | { readonly plaintext: string; readonly masked?: true }
  | { readonly error: ItemError };
export interface DecryptResponse {
  readonly results: DecryptResult[];
}
export interface DeleteResponse {
  readonly deleted: number;
}

/** How many of the given subjects had a key (issue 13); unknown ones count 0. */
export interface ForgetSubjectsResponse {
  readonly forgotten: number;
}

export type Operation =
  | 'tokenize'
  | 'detokenize'
  | 'encrypt'
  | 'decrypt'
  | 'delete'
  | 'forget'
  | 'ingest-keys';
