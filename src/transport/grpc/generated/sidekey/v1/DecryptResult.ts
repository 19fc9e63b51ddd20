// Original file: proto/sidekey/v1/sidekey.proto

import type { Error as _sidekey_v1_Error, Error__Output as _sidekey_v1_Error__Output } from '../../sidekey/v1/Error.js';

/**
 * The answer for one ciphertext: its plaintext or an error.
 */
export interface DecryptResult {
  'plaintext'?: (string);
  'error'?: (_sidekey_v1_Error | null);
  /**
   * True when plaintext is masked (v1.1).
   */
  'masked'?: (boolean);
  'result'?: "plaintext"|"error";
}

/**
 * The answer for one ciphertext: its plaintext or an error.
 */
export interface DecryptResult__Output {
  'plaintext'?: (string);
  'error'?: (_sidekey_v1_Error__Output | null);
  /**
   * True when plaintext is masked (v1.1).
   */
  'masked': (boolean);
  'result'?: "plaintext"|"error";
}
