// Original file: proto/sidekey/v1/sidekey.proto


export interface DecryptRequest {
  'tenant'?: (string);
  /**
   * The field the ciphertexts were encrypted for.
   */
  'field'?: (string);
  /**
   * 1 to 1000 ciphertexts made by Encrypt.
   */
  'ciphertexts'?: (string)[];
  /**
   * The context given to Encrypt.
   */
  'context'?: (string);
  /**
   * Mask every plaintext by the policy of field (v1.1), as in
   * DetokenizeRequest.
   */
  'mask'?: (boolean);
}

export interface DecryptRequest__Output {
  'tenant': (string);
  /**
   * The field the ciphertexts were encrypted for.
   */
  'field': (string);
  /**
   * 1 to 1000 ciphertexts made by Encrypt.
   */
  'ciphertexts': (string)[];
  /**
   * The context given to Encrypt.
   */
  'context': (string);
  /**
   * Mask every plaintext by the policy of field (v1.1), as in
   * DetokenizeRequest.
   */
  'mask': (boolean);
}
