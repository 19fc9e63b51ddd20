// Original file: proto/sidekey/v1/sidekey.proto

import type { Error as _sidekey_v1_Error, Error__Output as _sidekey_v1_Error__Output } from '../../sidekey/v1/Error.js';

/**
 * The answer for one token: its value or an error.
 */
export interface DetokenizeResult {
  'value'?: (string);
  'error'?: (_sidekey_v1_Error | null);
  /**
   * True when value is masked (v1.1).
   */
  'masked'?: (boolean);
  'result'?: "value"|"error";
}

/**
 * The answer for one token: its value or an error.
 */
export interface DetokenizeResult__Output {
  'value'?: (string);
  'error'?: (_sidekey_v1_Error__Output | null);
  /**
   * True when value is masked (v1.1).
   */
  'masked': (boolean);
  'result'?: "value"|"error";
}
