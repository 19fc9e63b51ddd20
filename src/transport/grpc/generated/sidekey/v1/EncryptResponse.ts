// Original file: proto/sidekey/v1/sidekey.proto


export interface EncryptResponse {
  /**
   * One ciphertext for each plaintext, in the same order.
   */
  'ciphertexts'?: (string)[];
}

export interface EncryptResponse__Output {
  /**
   * One ciphertext for each plaintext, in the same order.
   */
  'ciphertexts': (string)[];
}
