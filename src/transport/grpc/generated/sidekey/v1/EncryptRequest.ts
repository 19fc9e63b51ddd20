// Original file: proto/sidekey/v1/sidekey.proto


export interface EncryptRequest {
  'tenant'?: (string);
  'field'?: (string);
  /**
   * 1 to 1000 plaintexts; each at most 64 KiB of UTF-8.
   */
  'plaintexts'?: (string)[];
  /**
   * Bound to each ciphertext as associated data: Decrypt must be given the
   * same context. Optional (absent is the same as empty).
   */
  'context'?: (string);
  /**
   * The data subject the plaintexts belong to (v1.1), as in TokenizeRequest.
   */
  'subject'?: (string);
  /**
   * Sealed plaintexts (v1.1) in place of `plaintexts`, as sealed_values of
   * TokenizeRequest. JSON: sealedPlaintexts.
   */
  'sealed_plaintexts'?: (string)[];
}

export interface EncryptRequest__Output {
  'tenant': (string);
  'field': (string);
  /**
   * 1 to 1000 plaintexts; each at most 64 KiB of UTF-8.
   */
  'plaintexts': (string)[];
  /**
   * Bound to each ciphertext as associated data: Decrypt must be given the
   * same context. Optional (absent is the same as empty).
   */
  'context': (string);
  /**
   * The data subject the plaintexts belong to (v1.1), as in TokenizeRequest.
   */
  'subject': (string);
  /**
   * Sealed plaintexts (v1.1) in place of `plaintexts`, as sealed_values of
   * TokenizeRequest. JSON: sealedPlaintexts.
   */
  'sealed_plaintexts': (string)[];
}
