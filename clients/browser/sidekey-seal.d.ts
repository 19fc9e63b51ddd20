/** Types of sidekey-seal.js (the browser/isomorphic sealing module). */
export interface IngestKey {
  readonly keyId: string;
  readonly kem: string;
  readonly kdf: string;
  readonly aead: string;
  readonly publicKey: string;
}
export interface Sealer {
  readonly keyId: string;
  readonly kem: string;
  seal(field: string, values: readonly string[]): Promise<string[]>;
}
export declare const SUPPORTED_KEMS: readonly string[];
export declare function chooseKey(keys: readonly IngestKey[], kems?: readonly string[]): IngestKey;
export declare function createSealer(
  keys: readonly IngestKey[],
  options: { readonly tenant: string; readonly kems?: readonly string[] },
): Promise<Sealer>;
